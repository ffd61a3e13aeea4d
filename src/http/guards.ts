/** Request guards shared by every JSON route: 413 over 64 KiB, 415 for a body that is not JSON. */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors";

export const MAX_BODY_BYTES = 64 * 1024;

export const limitBody: MiddlewareHandler = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError("payload_too_large", "request body is larger than 64 KiB", { max_bytes: MAX_BODY_BYTES });
  },
});

function hasBody(req: Request): boolean {
  const len = req.headers.get("content-length");
  if (len !== null) return Number(len) > 0;
  return req.headers.has("transfer-encoding") || (req.body !== null && req.method !== "GET" && req.method !== "HEAD");
}

/** Requires `application/json` (or `+json`) on any request that carries a body. */
export function requireContentType(kind: "json" | "form"): MiddlewareHandler {
  const re = kind === "json" ? /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i : /^application\/x-www-form-urlencoded\s*(;|$)/i;
  return async (c, next) => {
    if (hasBody(c.req.raw) && !re.test(c.req.header("content-type") ?? "")) {
      const expected = kind === "json" ? "application/json" : "application/x-www-form-urlencoded";
      throw new ApiError("unsupported_media_type", `request body must be ${expected}`, { expected });
    }
    await next();
  };
}

/** API answers are never cached. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("cache-control", "no-store");
};
