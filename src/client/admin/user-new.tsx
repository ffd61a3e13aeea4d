/** Users sub-screen: "New user" (an identifier and its type, an optional verified email address for enrollment codes). */
import { useState } from "hono/jsx/dom";
import { codeOf, errorText, fieldOf, type IdentifierType, type Pool, type UserInput, type UserWithData } from "./api";
import { displayName, useConsole, userHash } from "./context";
import { CreateForm, described, Disclosure, Field, inputValue } from "./ui";

const TYPES: { value: IdentifierType; label: string }[] = [
  { value: "email", label: "Email address" },
  { value: "uid", label: "Username" },
  { value: "mobile", label: "Mobile number" },
];
const FIELDS = ["identifiers", "verifiable_addresses"] as const;
type Errors = Partial<Record<(typeof FIELDS)[number], string>>;
const INPUT_IDS: Record<(typeof FIELDS)[number], string> = { identifiers: "new-user-identifier", verifiable_addresses: "new-user-email" };

function bodyOf(identifier: string, type: IdentifierType, email: string): UserInput {
  const body: UserInput = { identifiers: [{ identifier: identifier.trim(), type }] };
  if (email.trim()) body.verifiable_addresses = [{ address: email.trim(), type: "email", verified: true }];
  return body;
}

function UserForm({ pool, close }: { pool: Pool; close: () => void }) {
  const ui = useConsole();
  const [identifier, setIdentifier] = useState("");
  const [type, setType] = useState<IdentifierType>("email");
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const fail = (key: keyof Errors, message: string) => {
    setErrors({ [key]: message });
    document.getElementById(INPUT_IDS[key])?.focus();
  };

  const create = async () => {
    setErrors({});
    if (!identifier.trim()) return fail("identifiers", "Enter an identifier.");
    try {
      const user = await ui.api<UserWithData>("POST", `/pools/${encodeURIComponent(pool.id)}/users`, bodyOf(identifier, type, email));
      ui.go(userHash(pool.id, user.id), `User “${displayName(user)}” created. Send an enrollment code so they can create a passkey.`);
    } catch (e) {
      const at =
        fieldOf(e, FIELDS) ??
        (codeOf(e) === "identifier_taken"
          ? { key: "identifiers" as const, message: "Another user of this pool has this identifier." }
          : undefined);
      if (at) fail(at.key, at.message);
      ui.say(errorText(e, "Creating the user"), "error");
    }
  };

  return (
    <CreateForm name="new-user" action="create-user" submit="Create user" onCreate={create} close={close}>
      <div class="grid2">
        <Field
          id="new-user-identifier"
          label="Identifier"
          hint="What the user signs in with. Unique in this pool."
          error={errors.identifiers}
        >
          <input
            type="text"
            {...described("new-user-identifier", true, errors.identifiers)}
            maxlength={256}
            autocomplete="off"
            value={identifier}
            onInput={(e) => setIdentifier(inputValue(e))}
          />
        </Field>
        <Field id="new-user-type" label="Identifier type">
          <select
            {...described("new-user-type", false, null)}
            value={type}
            onChange={(e) => setType(TYPES.find((t) => t.value === inputValue(e))?.value ?? "email")}
          >
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field
        id="new-user-email"
        label="Verified email address (optional)"
        hint="Where enrollment codes go. Enter it only if you know it is the user's."
        error={errors.verifiable_addresses}
      >
        <input
          type="email"
          {...described("new-user-email", true, errors.verifiable_addresses)}
          maxlength={256}
          autocomplete="off"
          value={email}
          onInput={(e) => setEmail(inputValue(e))}
        />
      </Field>
    </CreateForm>
  );
}

export const NewUser = ({ pool }: { pool: Pool }) => (
  <Disclosure id="new-user" label="New user">
    {(close: () => void) => <UserForm pool={pool} close={close} />}
  </Disclosure>
);
