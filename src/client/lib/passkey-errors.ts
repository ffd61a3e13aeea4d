/** Plain-language messages for WebAuthn failures. None says whether an account exists. */
export function passkeyMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  switch (name) {
    case "NotAllowedError":
      return "The passkey prompt was cancelled or timed out. You can try again.";
    case "AbortError":
      return "The passkey prompt was closed. You can try again.";
    case "InvalidStateError":
      return "This device already has a passkey for this account.";
    case "SecurityError":
      return "Passkeys are not available on this address. Use the site's usual address (https, or localhost).";
    case "NotSupportedError":
      return "This browser or device cannot use passkeys here.";
    default:
      return "We could not sign you in with a passkey. Try again, or use another sign-in method.";
  }
}
