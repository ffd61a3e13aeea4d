/**
 * Delivery port for one-time codes. Development (ENVIRONMENT=development): the outbox table, read back by
 * GET /system/outbox. Elsewhere: a signed POST to OTP_WEBHOOK_URL, which the operator's mail/SMS sender receives.
 *
 * Webhook contract: JSON body {"tenant_id", "to", "purpose", "code", "created_at"} and the header
 * `X-Passkey-Edge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under OTP_WEBHOOK_SECRET>`.
 * Receivers recompute the HMAC over the raw body and reject stale `t`.
 *
 * Notices carry no code (`code` is ""): their `purpose` says what happened, and the receiver writes the message.
 *
 * send() throws on a failed delivery; callers decide (the OTP service logs and carries on). Nothing here logs a code.
 */
import { utf8 } from "../crypto/bytes";
import type { Env } from "../env";
import { insertOutbox } from "../repo/codes";

export interface OutgoingCode {
  tenantId: string;
  /** An email address or an E.164 phone number. */
  to: string;
  purpose: string;
  /** The one-time code; "" for a notice. */
  code: string;
}

export interface Messenger {
  send(msg: OutgoingCode, now: number): Promise<void>;
}

export const SIGNATURE_HEADER = "X-Passkey-Edge-Signature";
const WEBHOOK_TIMEOUT_MS = 5_000;

export async function hmacHex(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(data)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The signature header value for a body sent at `now` (ms). */
export async function signWebhook(secret: string, body: string, now: number): Promise<string> {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

function outboxMessenger(d1: D1Database): Messenger {
  return { send: (msg, now) => insertOutbox(d1, msg, now) };
}

function webhookMessenger(url: string, secret: string): Messenger {
  return {
    async send(msg, now) {
      const body = JSON.stringify({
        tenant_id: msg.tenantId,
        to: msg.to,
        purpose: msg.purpose,
        code: msg.code,
        created_at: new Date(now).toISOString(),
      });
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: await signWebhook(secret, body, now) },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`OTP webhook answered ${res.status}`);
    },
  };
}

/** Logs that codes cannot be delivered; delivers nothing. */
function unconfigured(reason: string): Messenger {
  return {
    async send(msg) {
      console.warn(`one-time code for tenant ${msg.tenantId} not delivered: ${reason}`);
    },
  };
}

export function messengerFor(env: Env): Messenger {
  if (env.ENVIRONMENT === "development") return outboxMessenger(env.DB);
  if (!env.OTP_WEBHOOK_URL) return unconfigured("OTP_WEBHOOK_URL is not set");
  // Unsigned, the receiver could not tell our messages from anyone's: refuse rather than send unsigned.
  if (!env.OTP_WEBHOOK_SECRET) return unconfigured("OTP_WEBHOOK_SECRET is not set");
  return webhookMessenger(env.OTP_WEBHOOK_URL, env.OTP_WEBHOOK_SECRET);
}
