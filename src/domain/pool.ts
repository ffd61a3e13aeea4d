/**
 * Pool configuration policy (pure): merges an update into the current configuration and validates the result.
 * Returns a Result instead of throwing; the service turns a failure into a 422 naming the field.
 */
import type { PoolUpdate } from "../api/pool";
import { OTP_FAILURES, OTP_REQUESTS, PASSWORD_FAILURES } from "./limits";
import { family, isPasskey, type Mechanism } from "./mechanisms";
import { checkOrigin, checkRpId, RELATED_LABELS_MAX, relatedLabelCount } from "./relying-party";
import { type Failure, fail, type Result } from "./result";
import type { Attestation, UserVerification } from "./vocabulary";

export interface PoolConfig {
  name: string;
  description: string;
  mechanisms: Mechanism[];
  preferredMechanism: Mechanism;
  secondFactorMechanisms: Mechanism[];
  secondFactorPreferred: Mechanism | "";
  rpId: string;
  rpOrigins: string[];
  userVerification: UserVerification;
  attestation: Attestation;
  maxCredentials: number;
  webauthnCapacity: number;
  /** Abuse limits (src/domain/limits.ts). */
  passwordFailures: number;
  otpRequestsPerHour: number;
  otpFailuresPerDay: number;
  otpSettings: { enroll_webauthn: { length: number; ttl: string } };
  /** Self-service on the hosted pages (API `self_service`). */
  signUp: boolean;
  recovery: boolean;
  passkeyUpgrade: boolean;
  /** Authenticator policy (API `passkey_settings.authenticator_policy`). */
  deviceBoundOnly: boolean;
  aaguidAllow: string[];
  aaguidDeny: string[];
}

export const POOL_DEFAULTS: PoolConfig = {
  name: "",
  description: "",
  mechanisms: ["webauthn"],
  preferredMechanism: "webauthn",
  secondFactorMechanisms: [],
  secondFactorPreferred: "",
  rpId: "",
  rpOrigins: [],
  userVerification: "required",
  attestation: "none",
  maxCredentials: 100,
  webauthnCapacity: 10,
  passwordFailures: PASSWORD_FAILURES.defaultLimit,
  otpRequestsPerHour: OTP_REQUESTS.defaultLimit,
  otpFailuresPerDay: OTP_FAILURES.defaultLimit,
  otpSettings: { enroll_webauthn: { length: 8, ttl: "10m" } },
  signUp: false,
  recovery: true,
  passkeyUpgrade: false,
  deviceBoundOnly: false,
  aaguidAllow: [],
  aaguidDeny: [],
};

export const LIMITS = { capacity: { min: 1, max: 100 }, maxCredentials: { min: 1, max: 1000 }, otpLength: { min: 6, max: 10 } };
const TTL_RE = /^([1-9][0-9]{0,5})(s|m|h)$/;
const TTL_MAX_SECONDS = 24 * 3600;

/**
 * Whether the pool's users may recover by a code to a verified address: recovery is on, passkeys are a first factor,
 * and no second factor is asked (recovery signs the user in with the new passkey alone, which would skip it: such
 * pools, like the workforce's, recover users through an administrator).
 */
export const poolOffersRecovery = (p: Pick<PoolConfig, "recovery" | "mechanisms" | "secondFactorMechanisms">): boolean =>
  p.recovery && p.mechanisms.some(isPasskey) && p.secondFactorMechanisms.length === 0;

/**
 * `/.well-known/webauthn` of an RP ID publishes the related origins of all the tenant's pools with that RP ID together,
 * so their union must stay within RELATED_LABELS_MAX domains too (browsers ignore the rest): `pool` is the merged
 * configuration about to be saved, `others` the tenant's other pools.
 */
export function checkPublishedOrigins(
  pool: Pick<PoolConfig, "rpId" | "rpOrigins">,
  others: readonly Pick<PoolConfig, "rpId" | "rpOrigins">[],
): Result<true> {
  const sameRp = others.filter((p) => p.rpId === pool.rpId);
  if (pool.rpId === "" || sameRp.length === 0 || relatedLabelCount(pool.rpOrigins, pool.rpId) === 0) return { ok: true, value: true };
  const union = [...pool.rpOrigins, ...sameRp.flatMap((p) => p.rpOrigins)];
  if (relatedLabelCount(union, pool.rpId) <= RELATED_LABELS_MAX) return { ok: true, value: true };
  return fail(
    "passkey_settings.relying_party_origins",
    `with the other pools whose relying_party_id is ${pool.rpId}, the origins on other domains would span more than ${RELATED_LABELS_MAX} domains (they are published together at https://${pool.rpId}/.well-known/webauthn; browsers ignore the rest)`,
  );
}

/** Parses "90s", "10m", "1h" into seconds; null when malformed. */
export function parseTtl(ttl: string): number | null {
  const m = TTL_RE.exec(ttl);
  if (!m) return null;
  return Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
}

function checkMechanismList(list: Mechanism[], field: string): Failure | null {
  const families = list.map(family);
  if (new Set(families).size !== families.length) return fail(field, `${field} lists a mechanism twice`);
  return null;
}

type Methods = Pick<PoolConfig, "mechanisms" | "preferredMechanism" | "secondFactorMechanisms" | "secondFactorPreferred">;
type RelyingParty = Pick<PoolConfig, "rpId" | "rpOrigins" | "userVerification" | "attestation">;
type SelfService = Pick<PoolConfig, "signUp" | "recovery" | "passkeyUpgrade">;
type AuthenticatorPolicy = Pick<PoolConfig, "deviceBoundOnly" | "aaguidAllow" | "aaguidDeny">;
type Limits = Pick<PoolConfig, "maxCredentials" | "webauthnCapacity" | "passwordFailures" | "otpRequestsPerHour" | "otpFailuresPerDay">;

/** First- and second-factor mechanisms and the preferred one of each: no duplicates, no mechanism in both lists. */
function mergeMethods(current: PoolConfig, input: PoolUpdate): Result<Methods> {
  const mechanisms = input.authentication_mechanisms ?? current.mechanisms;
  const second = input.second_factor_authentication_mechanisms ?? current.secondFactorMechanisms;
  if (mechanisms.length === 0) return fail("authentication_mechanisms", "authentication_mechanisms needs at least one mechanism");
  const dup =
    checkMechanismList(mechanisms, "authentication_mechanisms") ?? checkMechanismList(second, "second_factor_authentication_mechanisms");
  if (dup) return dup;
  const firstFamilies = new Set(mechanisms.map(family));
  const both = second.find((m) => firstFamilies.has(family(m)));
  if (both) return fail("second_factor_authentication_mechanisms", `${both} cannot be both a first and a second factor`);
  const preferred = mergePreferred(current, input, mechanisms);
  if (!preferred.ok) return preferred;
  const secondPreferred = mergeSecondPreferred(current, input, second);
  if (!secondPreferred.ok) return secondPreferred;
  return {
    ok: true,
    value: {
      mechanisms,
      preferredMechanism: preferred.value,
      secondFactorMechanisms: second,
      secondFactorPreferred: secondPreferred.value,
    },
  };
}

/** An explicit preferred mechanism must be listed; otherwise the current one while it is still listed, else the first. */
function mergePreferred(current: PoolConfig, input: PoolUpdate, mechanisms: Mechanism[]): Result<Mechanism> {
  const mechanismsChanged = input.authentication_mechanisms !== undefined;
  const preferred =
    input.preferred_authentication_mechanism ||
    (mechanismsChanged && !mechanisms.includes(current.preferredMechanism) ? mechanisms[0]! : current.preferredMechanism);
  if (mechanisms.includes(preferred)) return { ok: true, value: preferred };
  if (input.preferred_authentication_mechanism)
    return fail("preferred_authentication_mechanism", "preferred_authentication_mechanism must be one of authentication_mechanisms");
  return { ok: true, value: mechanisms[0]! };
}

/** The same rule for the second factor, where "" means none (and becomes the first when second factors exist). */
function mergeSecondPreferred(current: PoolConfig, input: PoolUpdate, second: Mechanism[]): Result<Mechanism | ""> {
  const secondChanged = input.second_factor_authentication_mechanisms !== undefined;
  let secondPreferred: Mechanism | "" =
    input.second_factor_preferred_authentication_mechanism ??
    (secondChanged && !second.some((m) => m === current.secondFactorPreferred) ? (second[0] ?? "") : current.secondFactorPreferred);
  if (secondPreferred !== "" && !second.includes(secondPreferred)) {
    if (input.second_factor_preferred_authentication_mechanism) {
      return fail(
        "second_factor_preferred_authentication_mechanism",
        "second_factor_preferred_authentication_mechanism must be one of second_factor_authentication_mechanisms",
      );
    }
    secondPreferred = second[0] ?? "";
  }
  if (secondPreferred === "" && second.length > 0) secondPreferred = second[0]!;
  return { ok: true, value: secondPreferred };
}

/**
 * Passkey settings: a valid RP ID, and origins (normalised, deduplicated) on its domain or related origins on other
 * domains (published at /.well-known/webauthn), at most RELATED_LABELS_MAX labels of those (relatedLabelCount).
 */
function mergeRelyingParty(current: PoolConfig, input: PoolUpdate): Result<RelyingParty> {
  const ps = input.passkey_settings ?? {};
  const rp = checkRpId(ps.relying_party_id ?? current.rpId);
  if (!rp.ok) return rp;
  const originsIn = ps.relying_party_origins ?? current.rpOrigins;
  const origins: string[] = [];
  if (originsIn.length > 0 && rp.value === "") {
    return fail("passkey_settings.relying_party_origins", "relying_party_origins need a relying_party_id to belong to");
  }
  for (const o of originsIn) {
    const r = checkOrigin(o, rp.value);
    if (!r.ok) return r;
    if (!origins.includes(r.value)) origins.push(r.value);
  }
  if (relatedLabelCount(origins, rp.value) > RELATED_LABELS_MAX) {
    return fail(
      "passkey_settings.relying_party_origins",
      `origins on domains other than ${rp.value} may span at most ${RELATED_LABELS_MAX} domains (browsers ignore the rest); each host counts as one, www.{host} with {host}`,
    );
  }
  return {
    ok: true,
    value: {
      rpId: rp.value,
      rpOrigins: origins,
      userVerification: ps.user_verification ?? current.userVerification,
      attestation: ps.attestation ?? current.attestation,
    },
  };
}

/** Credential limits (capacity within max_credentials) and the abuse limits, each within its range. */
function mergeLimits(current: PoolConfig, input: PoolUpdate): Result<Limits> {
  const maxCredentials = input.limits?.max_credentials ?? current.maxCredentials;
  const capacity = input.limits?.webauthn_credentials_capacity ?? current.webauthnCapacity;
  const { capacity: cap, maxCredentials: maxc } = LIMITS;
  if (maxCredentials < maxc.min || maxCredentials > maxc.max) {
    return fail("limits.max_credentials", `max_credentials must be between ${maxc.min} and ${maxc.max}`);
  }
  if (capacity < cap.min || capacity > cap.max) {
    return fail("limits.webauthn_credentials_capacity", `webauthn_credentials_capacity must be between ${cap.min} and ${cap.max}`);
  }
  if (capacity > maxCredentials) {
    return fail("limits.webauthn_credentials_capacity", "webauthn_credentials_capacity must not exceed max_credentials");
  }
  const limits: Limits = {
    maxCredentials,
    webauthnCapacity: capacity,
    passwordFailures: current.passwordFailures,
    otpRequestsPerHour: current.otpRequestsPerHour,
    otpFailuresPerDay: current.otpFailuresPerDay,
  };
  for (const [prop, def] of [
    ["passwordFailures", PASSWORD_FAILURES],
    ["otpRequestsPerHour", OTP_REQUESTS],
    ["otpFailuresPerDay", OTP_FAILURES],
  ] as const) {
    const f = def.poolField!;
    const v = input.limits?.[f.name as "password_failures" | "otp_requests_per_hour" | "otp_failures_per_day"] ?? current[prop];
    if (!Number.isInteger(v) || v < f.min || v > f.max) return fail(`limits.${f.name}`, `${f.name} must be between ${f.min} and ${f.max}`);
    limits[prop] = v;
  }
  return { ok: true, value: limits };
}

/** One-time code settings of enroll_webauthn: length and TTL within their ranges. */
function mergeOtpSettings(current: PoolConfig, input: PoolUpdate): Result<PoolConfig["otpSettings"]> {
  const otpIn = input.otp_settings?.enroll_webauthn ?? {};
  const otp = { ...current.otpSettings.enroll_webauthn, ...otpIn };
  if (otp.length < LIMITS.otpLength.min || otp.length > LIMITS.otpLength.max) {
    return fail("otp_settings.enroll_webauthn.length", `length must be between ${LIMITS.otpLength.min} and ${LIMITS.otpLength.max}`);
  }
  const ttl = parseTtl(otp.ttl);
  if (ttl === null || ttl < 60 || ttl > TTL_MAX_SECONDS) {
    return fail("otp_settings.enroll_webauthn.ttl", "ttl must be a duration such as 90s, 10m or 1h, between 1m and 24h");
  }
  return { ok: true, value: { enroll_webauthn: { length: otp.length, ttl: otp.ttl } } };
}

/**
 * Sign-up, recovery and passkey upgrade: absent fields keep their value. Sign-up makes an account whose only credential
 * is a passkey, and signs it in with that passkey: so it needs passkeys as a first factor and no second factor (which
 * the new account could not give), checked against the merged methods.
 */
function mergeSelfService(current: PoolConfig, input: PoolUpdate, methods: Methods): Result<SelfService> {
  const ss = input.self_service ?? {};
  const signUp = ss.sign_up ?? current.signUp;
  if (signUp && !methods.mechanisms.some(isPasskey)) {
    return fail("self_service.sign_up", "sign-up needs passkeys among the pool's first-factor authentication_mechanisms");
  }
  if (signUp && methods.secondFactorMechanisms.length > 0) {
    return fail("self_service.sign_up", "sign-up makes accounts with only a passkey: the pool cannot also ask for a second factor");
  }
  return {
    ok: true,
    value: { signUp, recovery: ss.recovery ?? current.recovery, passkeyUpgrade: ss.passkey_upgrade ?? current.passkeyUpgrade },
  };
}

const AAGUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const AAGUID_LIST_MAX = 100;

/** One AAGUID list: UUIDs, lowercased and deduplicated, at most AAGUID_LIST_MAX. */
function checkAaguids(list: string[], field: string): Result<string[]> {
  const out: string[] = [];
  for (const raw of list) {
    const a = raw.trim().toLowerCase();
    if (!AAGUID_RE.test(a)) return fail(field, `${field} holds "${raw.slice(0, 64)}", which is not an AAGUID (a UUID)`);
    if (!out.includes(a)) out.push(a);
  }
  if (out.length > AAGUID_LIST_MAX) return fail(field, `${field} holds more than ${AAGUID_LIST_MAX} AAGUIDs`);
  return { ok: true, value: out };
}

/**
 * Device-bound only, and an AAGUID allow list or a deny list (not both). A list needs attestation `direct`: the AAGUID
 * of a `none` attestation is the authenticator's unverified claim (and browsers may zero it).
 */
function mergeAuthenticatorPolicy(
  current: PoolConfig,
  input: PoolUpdate,
  attestation: PoolConfig["attestation"],
): Result<AuthenticatorPolicy> {
  const ap = input.passkey_settings?.authenticator_policy ?? {};
  const field = "passkey_settings.authenticator_policy";
  const allow = checkAaguids(ap.aaguid_allow ?? current.aaguidAllow, `${field}.aaguid_allow`);
  if (!allow.ok) return allow;
  const deny = checkAaguids(ap.aaguid_deny ?? current.aaguidDeny, `${field}.aaguid_deny`);
  if (!deny.ok) return deny;
  if (allow.value.length > 0 && deny.value.length > 0)
    return fail(field, "an authenticator policy has an AAGUID allow list or a deny list, not both");
  if ((allow.value.length > 0 || deny.value.length > 0) && attestation !== "direct") {
    return fail("passkey_settings.attestation", "an AAGUID allow or deny list needs attestation direct");
  }
  return {
    ok: true,
    value: { deviceBoundOnly: ap.device_bound_only ?? current.deviceBoundOnly, aaguidAllow: allow.value, aaguidDeny: deny.value },
  };
}

/** The current configuration with the update merged in, validated as a whole (the first failure, in field order). */
export function mergePool(current: PoolConfig, input: PoolUpdate): Result<PoolConfig> {
  const methods = mergeMethods(current, input);
  if (!methods.ok) return methods;
  const rp = mergeRelyingParty(current, input);
  if (!rp.ok) return rp;
  const limits = mergeLimits(current, input);
  if (!limits.ok) return limits;
  const otpSettings = mergeOtpSettings(current, input);
  if (!otpSettings.ok) return otpSettings;
  const policy = mergeAuthenticatorPolicy(current, input, rp.value.attestation);
  if (!policy.ok) return policy;
  const selfService = mergeSelfService(current, input, methods.value);
  if (!selfService.ok) return selfService;
  return {
    ok: true,
    value: {
      name: input.name?.trim() ?? current.name,
      description: input.description ?? current.description,
      ...methods.value,
      ...rp.value,
      ...limits.value,
      otpSettings: otpSettings.value,
      ...selfService.value,
      ...policy.value,
    },
  };
}
