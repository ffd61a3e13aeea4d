/** Middleware for the per-IP sign-in limit; the limit itself lives in src/services/limits.ts. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./principal";
import { checkSigninIp } from "../services/limits";

/** 429 rate_limited when the client IP (CF-Connecting-IP) has used up its sign-in requests (POSTs only: CORS preflights do not count). */
export const signinIpLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === "POST") await checkSigninIp(c.env.SIGNIN_IP_LIMITER, c.req.header("cf-connecting-ip"));
  await next();
};
