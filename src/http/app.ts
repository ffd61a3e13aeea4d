/** Factory for sub-apps: OpenAPIHono whose schema failures become the contract's 400 error body. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

type Issue = { path: PropertyKey[]; message: string };

export function validationError(target: string, issues: readonly Issue[]): ApiError {
  const fields = issues.map((i) => ({ field: i.path.map(String).join(".") || target, message: i.message }));
  const names = [...new Set(fields.map((f) => f.field))].join(", ");
  const code = target === "param" ? "invalid_path_parameter" : "validation_failed";
  return new ApiError(400, code, `invalid ${target}: ${names}`, { location: target, fields });
}

export function newApp() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error.issues);
    },
  });
}
