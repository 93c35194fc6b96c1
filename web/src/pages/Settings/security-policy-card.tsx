import { type FormEvent, useId, useState } from "react";
import { ApiError } from "../../api";
import { TextAreaField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, onFields, withoutFieldError } from "../../form-errors";
import { type AccountSecurity, MFA_POLICY_METHODS, type MfaPolicy, type MfaPolicyMethod } from "../../types";
import { useApi } from "../../use-api";
import { useResource } from "../../use-resource";
import { useAccountPath, useRoles } from "./account-data";

type PolicyGroup = "password_policy" | "session";

/** The numeric settings, their API group and bounds (docs/api-identity.md). */
const NUMBERS = {
  min_length: { group: "password_policy", min: 8, max: 128, optional: false },
  history: { group: "password_policy", min: 0, max: 24, optional: false },
  expiry_days: { group: "password_policy", min: 1, max: 3650, optional: true },
  min_strength: { group: "password_policy", min: 0, max: 4, optional: false },
  idle_minutes: { group: "session", min: 5, max: 1440, optional: false },
  absolute_hours: { group: "session", min: 1, max: 720, optional: false },
} as const satisfies Record<string, { group: PolicyGroup; min: number; max: number; optional: boolean }>;
type NumberField = keyof typeof NUMBERS;
const NUMBER_FIELDS = Object.keys(NUMBERS) as NumberField[];

const FLAGS = {
  require_upper: "An uppercase letter",
  require_lower: "A lowercase letter",
  require_digit: "A digit",
  require_special: "A special character (anything but a letter or digit)",
} as const;
type FlagField = keyof typeof FLAGS;
const FLAG_FIELDS = Object.keys(FLAGS) as FlagField[];

const MFA_METHOD_LABELS: Record<MfaPolicyMethod, string> = {
  totp: "Authenticator app",
  email: "Email codes",
  sms: "Text message (SMS)",
  passkey: "Passkeys",
};
const GRACE_DAYS = { min: 0, max: 90 };

const MFA_FIELDS = ["required_role_ids", "allowed_methods", "grace_days"] as const;
const FIELDS: readonly string[] = [...NUMBER_FIELDS, ...FLAG_FIELDS, ...MFA_FIELDS];
const IP_ALLOWLIST_MAX = 100;

type SecurityForm = Record<NumberField, string> &
  Record<FlagField, boolean> & {
    required_role_ids: string[];
    allowed_methods: MfaPolicyMethod[];
    grace_days: string;
    /** One entry per line, as typed. */
    ip_allowlist: string;
  };

/** The allowlist entries a textarea holds: one per line, blank lines ignored. */
function allowlistEntries(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Errors about the IP allowlist: one per bad entry (`ip_allowlist.3`, naming it), or the lock-out. */
type AllowlistErrors = { entries: string[]; lockout: string | null };
const NO_ALLOWLIST_ERRORS: AllowlistErrors = { entries: [], lockout: null };

function allowlistErrors(error: unknown, sent: readonly string[]): AllowlistErrors {
  if (!(error instanceof ApiError)) return NO_ALLOWLIST_ERRORS;
  const found: AllowlistErrors = { entries: [], lockout: null };
  for (const item of error.errors) {
    const path = item.path.replace(/^\/?(body[./])?/, "");
    const index = /^ip_allowlist[./](\d+)$/.exec(path)?.[1];
    const entry = index === undefined ? undefined : sent[Number(index)];
    if (item.code === "would_lock_out") found.lockout = item.message;
    else if (entry !== undefined && !item.message.includes(entry))
      found.entries.push(`"${entry.length > 40 ? `${entry.slice(0, 40)}…` : entry}": ${item.message}`);
    else if (path.startsWith("ip_allowlist")) found.entries.push(item.message);
  }
  if (
    error.status === 409 &&
    error.code === "conflict" &&
    !found.lockout &&
    /lock you out/.test(error.detail)
  )
    found.lockout = error.detail;
  return found;
}

/**
 * The other errors, for the generic form handling (the allowlist ones are shown next to the list);
 * null when there are none, so that no banner repeats what the list already says.
 */
function withoutAllowlistErrors(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const rest = error.errors.filter((item) => !/^\/?(body[./])?ip_allowlist/.test(item.path));
  if (rest.length === error.errors.length) return error;
  if (rest.length === 0) return null;
  return new ApiError({
    status: error.status,
    code: error.code,
    detail: error.detail,
    retryAfter: error.retryAfter,
    errors: rest,
  });
}

function formFromSecurity({
  password_policy: policy,
  session,
  mfa,
  ip_allowlist,
}: AccountSecurity): SecurityForm {
  return {
    min_length: String(policy.min_length),
    history: String(policy.history),
    expiry_days: policy.expiry_days === null ? "" : String(policy.expiry_days),
    min_strength: String(policy.min_strength),
    idle_minutes: String(session.idle_minutes),
    absolute_hours: String(session.absolute_hours),
    require_upper: policy.require_upper,
    require_lower: policy.require_lower,
    require_digit: policy.require_digit,
    require_special: policy.require_special,
    required_role_ids: [...mfa.required_role_ids].sort(),
    allowed_methods: MFA_POLICY_METHODS.filter((method) => mfa.allowed_methods.includes(method)),
    grace_days: String(mfa.grace_days),
    ip_allowlist: (ip_allowlist ?? []).join("\n"),
  };
}

/** Errors about one list entry (`mfa.required_role_ids.2`) belong next to the whole list. */
function withListPaths(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  return new ApiError({
    status: error.status,
    code: error.code,
    detail: error.detail,
    retryAfter: error.retryAfter,
    errors: error.errors.map((item) => ({
      ...item,
      path: item.path.replace(/^\/?(body[./])?mfa[./]([a-z_]+)([./]\d+)?$/, "$2"),
    })),
  });
}

/** The number a field holds, `null` for an allowed empty one, or an error message. */
function parseNumber(field: NumberField, text: string): { value: number | null } | { error: string } {
  const { min, max, optional } = NUMBERS[field];
  const trimmed = text.trim();
  if (trimmed === "" && optional) return { value: null };
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    return { error: `Enter a whole number from ${min} to ${max}${optional ? ", or leave empty" : ""}.` };
  }
  return { value };
}

export function SecurityPolicyCard({ editable }: { editable: boolean }) {
  const security = useResource<AccountSecurity>(`${useAccountPath()}/security`);
  return (
    <section className="card" aria-labelledby="security-policy-heading">
      <h2 id="security-policy-heading">Rules for everyone in this account</h2>
      <p className="muted">
        Applies to everyone in this account. People who belong to several accounts follow the strictest
        password rules among them.
      </p>
      {security.data ? (
        <SecurityPolicyForm initial={security.data} editable={editable} />
      ) : security.error ? (
        <FormAlert>
          <p>The security policy could not be loaded: {security.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={security.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingBlock label="Loading the security policy…" lines={5} />
      )}
    </section>
  );
}

function SecurityPolicyForm({ initial, editable }: { initial: AccountSecurity; editable: boolean }) {
  const api = useApi();
  const base = useAccountPath();
  const requireId = useId();
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState<SecurityForm>(() => formFromSecurity(initial));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [ipErrors, setIpErrors] = useState<AllowlistErrors>(NO_ALLOWLIST_ERRORS);
  const roles = useRoles();
  const currentIp = saved.current_ip;
  const currentIpListed = currentIp !== null && allowlistEntries(form.ip_allowlist).includes(currentIp);
  const baseline = formFromSecurity(saved);
  const dirty = JSON.stringify(form) !== JSON.stringify(baseline);

  function setNumber(field: NumberField) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      setErrors((current) => withoutFieldError(current, field));
      setStatus("idle");
    };
  }

  function setFlag(field: FlagField, value: boolean) {
    setForm((current) => ({ ...current, [field]: value }));
    setStatus("idle");
  }

  function toggle(field: "required_role_ids" | "allowed_methods", value: string, checked: boolean) {
    setForm((current) => {
      const list: string[] = current[field];
      const next = checked ? [...list, value] : list.filter((item) => item !== value);
      return field === "allowed_methods"
        ? { ...current, allowed_methods: MFA_POLICY_METHODS.filter((method) => next.includes(method)) }
        : { ...current, required_role_ids: [...new Set(next)].sort() };
    });
    setErrors((current) => withoutFieldError(current, field));
    setStatus("idle");
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const patch: {
      password_policy?: Record<string, unknown>;
      session?: Record<string, unknown>;
      mfa?: Partial<MfaPolicy>;
      ip_allowlist?: string[];
    } = {};
    const fields: Record<string, string> = {};
    for (const field of NUMBER_FIELDS) {
      const parsed = parseNumber(field, form[field]);
      if ("error" in parsed) fields[field] = parsed.error;
      else if (form[field].trim() !== baseline[field]) {
        const group = NUMBERS[field].group;
        patch[group] = { ...patch[group], [field]: parsed.value };
      }
    }
    for (const field of FLAG_FIELDS) {
      if (form[field] !== baseline[field]) {
        patch.password_policy = { ...patch.password_policy, [field]: form[field] };
      }
    }
    if (JSON.stringify(form.required_role_ids) !== JSON.stringify(baseline.required_role_ids)) {
      patch.mfa = { ...patch.mfa, required_role_ids: form.required_role_ids };
    }
    if (form.allowed_methods.length === 0) fields.allowed_methods = "Allow at least one method.";
    else if (JSON.stringify(form.allowed_methods) !== JSON.stringify(baseline.allowed_methods)) {
      patch.mfa = { ...patch.mfa, allowed_methods: form.allowed_methods };
    }
    const grace = form.grace_days.trim();
    const graceDays = /^\d+$/.test(grace) ? Number(grace) : Number.NaN;
    if (!Number.isInteger(graceDays) || graceDays < GRACE_DAYS.min || graceDays > GRACE_DAYS.max) {
      fields.grace_days = `Enter a whole number from ${GRACE_DAYS.min} to ${GRACE_DAYS.max}.`;
    } else if (grace !== baseline.grace_days) {
      patch.mfa = { ...patch.mfa, grace_days: graceDays };
    }
    const entries = allowlistEntries(form.ip_allowlist);
    if (entries.length > IP_ALLOWLIST_MAX) {
      fields.ip_allowlist = `At most ${IP_ALLOWLIST_MAX} entries (this list has ${entries.length}).`;
    } else if (JSON.stringify(entries) !== JSON.stringify(allowlistEntries(baseline.ip_allowlist))) {
      patch.ip_allowlist = entries;
    }
    if (Object.keys(fields).length > 0) {
      setErrors(onFields(fields));
      setStatus("idle");
      return;
    }
    if (!patch.password_policy && !patch.session && !patch.mfa && !patch.ip_allowlist) {
      setStatus("saved");
      return;
    }
    setStatus("saving");
    setErrors(NO_ERRORS);
    setIpErrors(NO_ALLOWLIST_ERRORS);
    try {
      const updated = await api.patch<AccountSecurity>(`${base}/security`, patch);
      setSaved(updated);
      setForm(formFromSecurity(updated));
      setStatus("saved");
    } catch (error) {
      setIpErrors(allowlistErrors(error, patch.ip_allowlist ?? []));
      const rest = withoutAllowlistErrors(error);
      setErrors(rest === null ? NO_ERRORS : toExplainedFormErrors(withListPaths(rest), FIELDS));
      setStatus("idle");
    }
  }

  function setAllowlist(value: string) {
    setForm((current) => ({ ...current, ip_allowlist: value }));
    setErrors((current) => withoutFieldError(current, "ip_allowlist"));
    setIpErrors(NO_ALLOWLIST_ERRORS);
    setStatus("idle");
  }

  function addCurrentIp() {
    if (!currentIp || currentIpListed) return;
    const text = form.ip_allowlist.replace(/\s+$/, "");
    setAllowlist(text ? `${text}\n${currentIp}` : currentIp);
  }

  function cancel() {
    setForm(baseline);
    setErrors(NO_ERRORS);
    setIpErrors(NO_ALLOWLIST_ERRORS);
    setStatus("idle");
  }

  const numberField = (field: NumberField, label: string, hint: string) => (
    <TextField
      label={label}
      name={field}
      type="number"
      inputMode="numeric"
      min={NUMBERS[field].min}
      max={NUMBERS[field].max}
      step={1}
      placeholder={NUMBERS[field].optional ? "Never" : undefined}
      value={form[field]}
      onValueChange={setNumber(field)}
      error={errors.fields[field]}
      readOnly={!editable}
      hint={hint}
    />
  );

  return (
    <form onSubmit={submit} noValidate>
      {editable ? null : (
        <p className="muted" data-testid="security-read-only">
          Your role can see the security policy but not change it.
        </p>
      )}
      {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}

      <h3>Passwords</h3>
      <div className="grid-2">
        {numberField("min_length", "Minimum length", "8–128 characters.")}
        {numberField("history", "Remembered passwords", "Can't reuse this many recent ones (0–24; 0 = off).")}
        {numberField("expiry_days", "Expires after (days)", "1–3650 days. Leave empty for never.")}
        {numberField(
          "min_strength",
          "Minimum strength",
          "How hard to guess, 0–4 (zxcvbn's score): 3 = safely unguessable online; 0 = off.",
        )}
      </div>
      <fieldset className="field checkbox-list" aria-describedby={`${requireId}-hint`}>
        <legend>Passwords must contain</legend>
        <div id={`${requireId}-hint`} className="field-hint">
          Letters and digits of any alphabet count.
        </div>
        <div className="checkbox-list-options">
          {FLAG_FIELDS.map((field) => (
            <div key={field} className="checkbox-option">
              <input
                id={`${requireId}-${field}`}
                type="checkbox"
                name={field}
                checked={form[field]}
                onChange={(event) => setFlag(field, event.target.checked)}
                disabled={!editable}
              />
              <label htmlFor={`${requireId}-${field}`}>{FLAGS[field]}</label>
            </div>
          ))}
        </div>
      </fieldset>

      <h3>Sessions</h3>
      <div className="grid-2">
        {numberField(
          "idle_minutes",
          "Sign out after inactivity (minutes)",
          "5–1440 minutes without activity.",
        )}
        {numberField(
          "absolute_hours",
          "Maximum session length (hours)",
          "1–720 hours, however active the session is.",
        )}
      </div>

      <h3>Two-factor authentication</h3>
      <fieldset
        className="field checkbox-list"
        aria-describedby={`${requireId}-roles-hint`}
        aria-invalid={errors.fields.required_role_ids ? true : undefined}
        data-testid="mfa-required-roles"
      >
        <legend>Required for these roles</legend>
        <div id={`${requireId}-roles-hint`} className="field-hint">
          Members with a checked role must set up a second factor to use this account.
        </div>
        {roles.data ? (
          <div className="checkbox-list-options">
            {roles.data.data.map((role) => (
              <div key={role.id} className="checkbox-option">
                <input
                  id={`${requireId}-role-${role.id}`}
                  type="checkbox"
                  name="required_role_ids"
                  value={role.id}
                  checked={form.required_role_ids.includes(role.id)}
                  onChange={(event) => toggle("required_role_ids", role.id, event.target.checked)}
                  disabled={!editable}
                />
                <label htmlFor={`${requireId}-role-${role.id}`}>{role.name}</label>
              </div>
            ))}
          </div>
        ) : (
          <p className="muted">
            {roles.error
              ? `The roles could not be loaded: ${roles.error}`
              : roles.loading
                ? "Loading the roles…"
                : `Required for ${form.required_role_ids.length} role${form.required_role_ids.length === 1 ? "" : "s"}.`}
          </p>
        )}
        {errors.fields.required_role_ids ? (
          <div className="field-error" data-testid="required_role_ids-error">
            {errors.fields.required_role_ids}
          </div>
        ) : null}
      </fieldset>
      <fieldset
        className="field checkbox-list"
        aria-invalid={errors.fields.allowed_methods ? true : undefined}
        data-testid="mfa-allowed-methods"
      >
        <legend>Allowed methods</legend>
        <div className="checkbox-list-options">
          {MFA_POLICY_METHODS.map((method) => (
            <div key={method} className="checkbox-option">
              <input
                id={`${requireId}-method-${method}`}
                type="checkbox"
                name="allowed_methods"
                value={method}
                checked={form.allowed_methods.includes(method)}
                onChange={(event) => toggle("allowed_methods", method, event.target.checked)}
                disabled={!editable}
              />
              <label htmlFor={`${requireId}-method-${method}`}>{MFA_METHOD_LABELS[method]}</label>
            </div>
          ))}
        </div>
        {errors.fields.allowed_methods ? (
          <div className="field-error" data-testid="allowed_methods-error">
            {errors.fields.allowed_methods}
          </div>
        ) : null}
      </fieldset>
      <div className="grid-2">
        <TextField
          label="Grace period (days)"
          name="grace_days"
          type="number"
          inputMode="numeric"
          min={GRACE_DAYS.min}
          max={GRACE_DAYS.max}
          step={1}
          value={form.grace_days}
          onValueChange={(value) => {
            setForm((current) => ({ ...current, grace_days: value }));
            setErrors((current) => withoutFieldError(current, "grace_days"));
            setStatus("idle");
          }}
          error={errors.fields.grace_days}
          readOnly={!editable}
          hint="0–90 days to set up a second factor once it is required (0 = at once)."
        />
      </div>

      <h3>IP allowlist</h3>
      <TextAreaField
        label="Allowed IP addresses and ranges"
        name="ip_allowlist"
        rows={5}
        spellCheck={false}
        autoComplete="off"
        placeholder={"203.0.113.0/24\n2001:db8::/32\n198.51.100.7"}
        value={form.ip_allowlist}
        onValueChange={setAllowlist}
        error={errors.fields.ip_allowlist}
        readOnly={!editable}
        hint="One IPv4 or IPv6 address or CIDR range per line. Members can only sign in and use this account from these addresses. Leave empty to allow any address."
      />
      <p className="muted" data-testid="current-ip">
        Your current IP: <code>{currentIp ?? "unknown"}</code>
        {currentIp && currentIpListed ? " (on the list)" : null}
        {editable && currentIp && !currentIpListed ? (
          <>
            {" "}
            <button type="button" className="button button-secondary button-small" onClick={addCurrentIp}>
              Add my IP
            </button>
          </>
        ) : null}
      </p>
      {ipErrors.entries.length > 0 ? (
        <ul className="field-error" data-testid="ip_allowlist-errors">
          {ipErrors.entries.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
      {ipErrors.lockout ? (
        <FormAlert>
          <p data-testid="ip_allowlist-lockout">
            Saving this list would lock you out: your current IP address{currentIp ? ` (${currentIp})` : ""}{" "}
            is not on it, so this session and your next sign-in would be refused. Add your IP (or a range that
            contains it) and save again.
          </p>
        </FormAlert>
      ) : null}

      {editable ? (
        <div className="actions">
          <button type="submit" className="button" disabled={status === "saving"}>
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={cancel}
            disabled={status === "saving" || !dirty}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="security-saved">
              Security policy saved.
            </span>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
