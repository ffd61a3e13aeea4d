/** Self-service portal: GET /{tid}/{wid}/account. (Placeholder until the portal lands.) */
import { Hono } from "hono";
import type { AppEnv } from "../env";

export const accountPages = new Hono<AppEnv>();
