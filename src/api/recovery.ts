/** Wire format of recovery ("Lost your passkey?"): /{tid}/{wid}/recover/request, /recover/webauthn/options|complete. */
import { z } from "@hono/zod-openapi";
import { isWellFormed } from "../domain/names";
import { hostedCompleteFields, signedInFields } from "./common";
import { RegistrationResponse } from "./webauthn";

const Address = z
  .string()
  .trim()
  .min(1)
  .max(320)
  .refine(isWellFormed, "must be well-formed Unicode text")
  .openapi({ description: "a verified address of the account (email or E.164 phone number)", example: "ada@example.com" });

// Loose on purpose: a malformed code is the same 401 otp_invalid as a wrong one, not a 400.
const Code = z
  .string()
  .max(32)
  .openapi({ description: "the one-time code (purpose recover_webauthn) sent to the address", example: "12345678" });

export const RecoveryRequestInput = z.object({ address: Address }).openapi("RecoveryRequestInput");

export const RecoveryOptionsInput = z.object({ address: Address, code: Code }).openapi("RecoveryOptionsInput");

export const RecoveryCompleteInput = z
  .object({
    address: Address,
    code: Code,
    credential: RegistrationResponse,
    ...hostedCompleteFields("recovery", " (as a sign-in)"),
  })
  .openapi("RecoveryCompleteInput");

export const RecoveryResult = z.object(signedInFields).openapi("RecoveryResult");
