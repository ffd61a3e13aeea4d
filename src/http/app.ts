/** Factory for sub-apps: OpenAPIHono whose schema failures become the contract's 400 error body. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./principal";
import { validationFailed, type ApiError } from "../errors";

type Issue = { path: PropertyKey[]; message: string };

export function validationError(target: string, issues: readonly Issue[]): ApiError {
  return validationFailed(
    target,
    issues.map((i) => ({ field: i.path.map(String).join(".") || target, message: i.message })),
  );
}

export function newApp() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error.issues);
    },
  });
}
