/** Sign-in page: GET /{tid}/{wid}/login. (Placeholder until the hosted sign-in page lands.) */
import { Hono } from "hono";
import type { AppEnv } from "../env";

export const loginPages = new Hono<AppEnv>();
