/** The one 404 page of the hosted pages (unknown workspace, tenant or page address), in the shared layout. */
import type { FC } from "hono/jsx";
import { Layout } from "./layout";

export interface NotFoundProps {
  /** What the address should have been, e.g. "sign-in page"; without it, any page. */
  what?: string;
  /** What to do next. */
  help?: string;
}

export const NotFoundPage: FC<NotFoundProps> = ({
  what,
  help = "Check the link you followed, or ask the people who sent it to you for the right one.",
}) => (
  <Layout title="Page not found">
    <div class="signin">
      <div class="card">
        <h1>We can't find this page</h1>
        <p>
          {what ? `There is no ${what} at this address.` : "There is no page at this address."} {help}
        </p>
      </div>
    </div>
  </Layout>
);
