/** Who is calling: the verified claims of a bearer token. */
import type { AccessClaims } from "../tokens/jwt";

export interface Principal {
  tenantId: string;
  subject: string;
  scopes: Set<string>;
  claims: AccessClaims;
}
