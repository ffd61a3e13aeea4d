/** System API: OTP-gated passkey enrollment (add/request, add/complete) and the development outbox. */
import { createRoute, z } from "@hono/zod-openapi";
import { LIMITS } from "../../domain/pool";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { bearerSecurity, errors, Id, IdentifierText, json, jsonBody, TenantParams, Timestamp } from "../../api/common";
import { PoolParams } from "../../api/pool";
import { RegistrationResponse } from "../../api/webauthn";
import { completeCodeEnrollment, createEnrollmentCode, listOutboxMessages } from "../../services/otp";

const tags = ["Passkeys"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);

const Who = {
  userID: Id.optional(),
  identifier: IdentifierText.optional(),
  address: IdentifierText.optional(),
};
const exactlyOne = (v: { userID?: string; identifier?: string; address?: string }) =>
  [v.userID, v.identifier, v.address].filter((x) => x !== undefined).length === 1;
const ONE_OF = { message: "give exactly one of address, identifier, userID" };

const AddRequest = z.object(Who).refine(exactlyOne, ONE_OF).openapi("PasskeyAddRequest");

const { min, max } = LIMITS.otpLength;
const AddComplete = z
  .object({
    ...Who,
    code: z.string().regex(new RegExp(`^[0-9]{${min},${max}}$`), `must be ${min} to ${max} digits`),
    new_web_authn: RegistrationResponse,
  })
  .refine(exactlyOne, ONE_OF)
  .openapi("PasskeyAddComplete");

const Outbox = z
  .object({ messages: z.array(z.object({ to: z.string(), purpose: z.string(), code: z.string(), created_at: Timestamp })) })
  .openapi("Outbox");

export const otp = newApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/pools/{ipID}/user/webauthn/add/request",
      tags,
      security,
      summary: "Send a one-time code (purpose enroll_webauthn) to the user's verified address",
      description:
        "Always 204 for a valid body, also for unknown users or users without a verified address. " +
        "The code goes to the given address if it is one of the user's verified addresses, else to the first verified " +
        "email, else mobile. A new request replaces the previous code. Length and TTL: the pool's otp_settings.enroll_webauthn.",
      request: { params: PoolParams, ...jsonBody(AddRequest) },
      responses: { 204: { description: "Accepted" }, ...common, ...errors(413, 415, 429) },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      await createEnrollmentCode(callOf(c, tid), ipID, c.req.valid("json"));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/pools/{ipID}/user/webauthn/add/complete",
      tags,
      security,
      summary: "Register a passkey with a one-time code",
      description:
        "`new_web_authn` answers a create/begin (Classic or Smart) issued for that user. Any failure (unknown user, " +
        "missing, expired, wrong or used code, failed verification, capacity, duplicate) is the same 401 otp_invalid. " +
        "A code is single-use: the right code is used up even when the passkey then fails; 5 wrong codes kill it.",
      request: { params: PoolParams, ...jsonBody(AddComplete) },
      responses: { 204: { description: "Passkey registered" }, ...common, ...errors(413, 415, 429) },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      const { code, new_web_authn, ...who } = c.req.valid("json");
      await completeCodeEnrollment(callOf(c, tid), ipID, { who, code, response: new_web_authn });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/outbox",
      tags: ["Development"],
      security,
      summary: 'Development outbox: codes "sent" to this tenant\'s users, newest first (at most 100)',
      description: "Only when ENVIRONMENT=development; elsewhere 404 and codes go to OTP_WEBHOOK_URL.",
      request: { params: TenantParams },
      responses: { 200: json(Outbox, "Messages"), ...errors(401, 403, 404) },
    }),
    async (c) => c.json(await listOutboxMessages(callOf(c, c.req.valid("param").tid)), 200),
  );
