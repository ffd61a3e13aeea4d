/** The wire format of passkey sign-up (/{tid}/{wid}/signup/...): requests and answers. */
import { z } from "@hono/zod-openapi";
import { hostedCompleteFields, IdentifierText, signedInFields } from "./common";
import { RegistrationResponse } from "./webauthn";

export const SignupRequestInput = z
  .object({
    address: IdentifierText.openapi({
      description: "the new user's email address (trimmed, NFC; compared case-insensitively)",
      example: "ada@example.com",
    }),
  })
  .openapi("SignupRequestInput");

export const SignupStarted = z
  .object({
    signup_id: z.string().openapi({ description: "names this sign-up in the next steps (the same shape for every address)" }),
  })
  .openapi("SignupStarted");

// Loose on purpose: an unknown signup_id or a malformed code is the same 401 otp_invalid as a wrong code, not a 400.
const Pending = {
  signup_id: z.string().max(64).openapi({ description: "from POST /signup/request" }),
  code: z.string().max(32).openapi({ description: "the one-time code sent to the address (purpose sign_up)", example: "12345678" }),
};

export const SignupOptionsInput = z.object(Pending).openapi("SignupOptionsInput");

export const SignupCompleteInput = z
  .object({
    ...Pending,
    credential: RegistrationResponse,
    ...hostedCompleteFields("sign-up"),
  })
  .openapi("SignupCompleteInput");

export const SignupResult = z.object(signedInFields).openapi("SignupResult");
