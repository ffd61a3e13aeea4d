/** `GET /.well-known/webauthn` at the host root (WebAuthn L3 §5.11 related origins), for a host that is a pool's RP ID. */
import { createRoute, z } from "@hono/zod-openapi";
import { errors, json } from "../api/common";
import { callOf } from "../http/context";
import { newApp } from "../http/app";
import { relatedOriginsOf } from "../services/related-origins";

const RelatedOrigins = z
  .object({
    origins: z.array(z.string()).openapi({ example: ["https://example.co.uk", "https://example.de"] }),
  })
  .openapi("RelatedOrigins");

export const wellKnown = newApp();

wellKnown.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/webauthn",
    tags: ["Passkeys"],
    summary: "Related origins of the RP ID that is this request's host (WebAuthn L3 §5.11)",
    description:
      "For a request whose host is a pool's RP ID (a pool with an empty RP ID stands for this service's host), the " +
      "origins configured in relying_party_origins of those pools, of any tenant, that are not on the RP ID's domain: " +
      "browsers then let those origins use the RP ID's passkeys. 404 for any other host. Cacheable for 5 minutes.",
    responses: { 200: json(RelatedOrigins, "The related origins (possibly none)"), ...errors(404, 503) },
  }),
  async (c) => {
    const body = await relatedOriginsOf(callOf(c, ""), new URL(c.req.url).hostname);
    c.header("cache-control", "public, max-age=300");
    return c.json(body, 200);
  },
);
