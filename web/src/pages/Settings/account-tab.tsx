import { type FormEvent, useState } from "react";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, withoutFieldError } from "../../form-errors";
import type { Account, RoleDetail } from "../../types";
import { useApi } from "../../use-api";
import { useDebouncedValue } from "../../use-debounced-value";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSession } from "../../use-session";
import { useAccountPath, useRoles } from "./account-data";
import { SecurityPolicyCard } from "./security-policy-card";

export function AccountTab() {
  const { can } = usePermissions();
  const account = useResource<Account>(useAccountPath());
  return (
    <div className="stack">
      {account.data ? (
        <AccountProfileForm initial={account.data} editable={can("account:update")} />
      ) : account.error ? (
        <FormAlert>
          <p>The account profile could not be loaded: {account.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={account.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <p role="status" className="muted">
          Loading the account profile…
        </p>
      )}
      {can("security:read") ? <SecurityPolicyCard editable={can("security:manage")} /> : null}
    </div>
  );
}

const FIELDS = ["name", "logo_url", "industry", "contact_email", "tax_id", "default_role_id"] as const;
type ProfileField = (typeof FIELDS)[number];
type ProfileForm = Record<ProfileField, string>;

const WEB_ADDRESS = /^https?:\/\/\S+$/i;
const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function formFromAccount(account: Account): ProfileForm {
  return {
    name: account.name,
    logo_url: account.logo_url ?? "",
    industry: account.industry ?? "",
    contact_email: account.contact_email ?? "",
    tax_id: account.tax_id ?? "",
    default_role_id: account.default_role_id ?? "",
  };
}

function validate(form: ProfileForm): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!form.name.trim()) fields.name = "Enter the account's name.";
  const logo = form.logo_url.trim();
  if (logo && !WEB_ADDRESS.test(logo)) fields.logo_url = "Enter a web address that starts with https://.";
  const email = form.contact_email.trim();
  if (email && !EMAIL_ADDRESS.test(email)) fields.contact_email = "Enter a valid email address.";
  return fields;
}

/** Root can't be the default: only a Root user may grant it, and an invitation must not do so silently. */
function defaultRoleOptions(roles: RoleDetail[] | undefined, current: string) {
  const options = [{ value: "", label: "Monitor (default)" }];
  for (const role of roles ?? []) {
    if (role.key !== "root") options.push({ value: role.id, label: role.name });
  }
  // Without roles:read the list is unknown; still show that a role is set.
  if (current && !options.some((option) => option.value === current)) {
    options.push({ value: current, label: roles ? "A role that no longer exists" : "A role you can't see" });
  }
  return options;
}

function AccountProfileForm({ initial, editable }: { initial: Account; editable: boolean }) {
  const api = useApi();
  const base = useAccountPath();
  const { reload: reloadSession } = useSession();
  const roles = useRoles();
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState<ProfileForm>(() => formFromAccount(initial));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const baseline = formFromAccount(saved);
  const changed = FIELDS.filter((field) => form[field].trim() !== baseline[field]);

  function set(field: ProfileField) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      setErrors((current) => withoutFieldError(current, field));
      setStatus("idle");
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields = validate(form);
    if (Object.keys(fields).length > 0) {
      setErrors({ fields, form: "Please check the highlighted fields." });
      setStatus("idle");
      return;
    }
    if (changed.length === 0) {
      setStatus("saved");
      return;
    }
    const patch: Partial<Record<ProfileField, string | null>> = {};
    for (const field of changed) {
      const value = form[field].trim();
      // Empty clears an optional field; the name is required and validated above.
      patch[field] = value === "" ? null : value;
    }
    setStatus("saving");
    setErrors(NO_ERRORS);
    try {
      const updated = await api.patch<Account>(base, patch);
      setSaved(updated);
      setForm(formFromAccount(updated));
      setStatus("saved");
      // The header and the account switcher show the name from the session.
      if (patch.name !== undefined) void reloadSession();
    } catch (error) {
      setErrors(toExplainedFormErrors(error, FIELDS));
      setStatus("idle");
    }
  }

  function cancel() {
    setForm(baseline);
    setErrors(NO_ERRORS);
    setStatus("idle");
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="account-profile-heading">
      <h2 id="account-profile-heading">Account profile</h2>
      {editable ? null : (
        <p className="muted" data-testid="account-read-only">
          Your role can see the account profile but not change it.
        </p>
      )}
      {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
      <div className="grid-2">
        <TextField
          label="Name"
          name="name"
          autoComplete="organization"
          required
          maxLength={200}
          value={form.name}
          onValueChange={set("name")}
          error={errors.fields.name}
          readOnly={!editable}
        />
        <TextField
          label="Slug"
          name="slug"
          value={saved.slug}
          onValueChange={() => {}}
          readOnly
          hint="Set when the account was created; it can't be changed."
          spellCheck={false}
        />
      </div>
      <TextField
        label="Logo URL"
        name="logo_url"
        type="url"
        inputMode="url"
        placeholder={editable ? "https://example.com/logo.png" : undefined}
        maxLength={2048}
        value={form.logo_url}
        onValueChange={set("logo_url")}
        error={errors.fields.logo_url}
        readOnly={!editable}
        spellCheck={false}
        autoCapitalize="none"
        hint="A web address of an image (https). Leave empty for none."
      />
      <LogoPreview url={form.logo_url.trim()} />
      <div className="grid-2">
        <TextField
          label="Industry"
          name="industry"
          maxLength={100}
          value={form.industry}
          onValueChange={set("industry")}
          error={errors.fields.industry}
          readOnly={!editable}
        />
        <TextField
          label="Tax ID"
          name="tax_id"
          maxLength={64}
          value={form.tax_id}
          onValueChange={set("tax_id")}
          error={errors.fields.tax_id}
          readOnly={!editable}
          hint="VAT number, EIN or similar."
          spellCheck={false}
        />
      </div>
      <TextField
        label="Contact email"
        name="contact_email"
        type="email"
        autoComplete="email"
        maxLength={254}
        value={form.contact_email}
        onValueChange={set("contact_email")}
        error={errors.fields.contact_email}
        readOnly={!editable}
        hint="A shared address for questions about this account."
      />
      <SelectField
        label="Default role for invitations"
        name="default_role_id"
        value={form.default_role_id}
        onValueChange={set("default_role_id")}
        options={defaultRoleOptions(roles.data?.data, form.default_role_id)}
        error={errors.fields.default_role_id}
        disabled={!editable}
        hint="People you invite get this role unless you choose another."
      />
      {editable ? (
        <div className="actions">
          <button type="submit" className="button" disabled={status === "saving"}>
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={cancel}
            disabled={status === "saving" || changed.length === 0}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="account-saved">
              Account profile saved.
            </span>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

/** What the logo at `url` looks like, once the address has stopped changing. */
function LogoPreview({ url }: { url: string }) {
  const settled = useDebouncedValue(url, 400);
  const [failed, setFailed] = useState<string | null>(null);
  if (!settled || settled !== url || !WEB_ADDRESS.test(settled)) return null;
  if (failed === settled) {
    return (
      <p className="field-hint logo-preview-failed" data-testid="logo-preview-failed">
        No image could be loaded from this address.
      </p>
    );
  }
  return (
    <figure className="logo-preview">
      <img
        src={settled}
        alt="Account logo"
        referrerPolicy="no-referrer"
        onError={() => setFailed(settled)}
        data-testid="logo-preview"
      />
      <figcaption className="field-hint">Logo preview</figcaption>
    </figure>
  );
}
