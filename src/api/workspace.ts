import { z } from "@hono/zod-openapi";
import { PASSKEY_MODES } from "../domain/vocabulary";
import { Id, Mechanism, Timestamp } from "./common";

/** `/{tid}/system/...` is the tenant's system API (its token endpoint), so no workspace may be named so. */
const SYSTEM_PATH_SEGMENT = "system";

export const WorkspaceInput = z
  .object({
    id: Id.refine((id) => id !== SYSTEM_PATH_SEGMENT, `"${SYSTEM_PATH_SEGMENT}" is reserved: /{tid}/system/ is the tenant's system API`)
      .optional()
      .openapi({ description: "optional; generated when absent" }),
    name: z.string().trim().min(1).max(128),
    authentication_mechanisms: z.array(Mechanism).max(8).optional(),
    identity_pools: z.array(Id).max(20).optional(),
  })
  .openapi("WorkspaceInput");
export type WorkspaceInput = z.infer<typeof WorkspaceInput>;

export const WorkspaceUpdate = WorkspaceInput.omit({ id: true }).partial().openapi("WorkspaceUpdate");
export type WorkspaceUpdate = z.infer<typeof WorkspaceUpdate>;

export const Workspace = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    name: z.string(),
    authentication_mechanisms: z.array(Mechanism),
    identity_pools: z.array(z.string()),
    passkey_mode: z.enum(PASSKEY_MODES).nullable().openapi({ description: "derived, read-only" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Workspace");

export const WorkspaceParams = z.object({ tid: Id, wid: Id });
