/** Admin console: GET /{tid}/admin. (Placeholder until the console lands.) */
import { Hono } from "hono";
import type { AppEnv } from "../env";

export const adminPages = new Hono<AppEnv>();
