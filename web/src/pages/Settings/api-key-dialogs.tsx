import { type FormEvent, useState } from "react";
import {
  DEFAULT_GRACE_SECONDS,
  EXPIRY_CHOICES,
  type ExpiryChoice,
  expiresAtFor,
  GRACE_CHOICES,
  parseAllowedIps,
} from "../../api-keys";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextAreaField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { OneTimeSecretDialog } from "../../components/one-time-secret";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { ApiKey, ApiKeyWithSecret } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useSaveDialog } from "../../use-save-dialog";
import { useApiKeyPaths, useScopeCatalog } from "./api-keys-data";
import { PermissionPicker } from "./permission-picker";

const CREATE_FIELDS = ["name", "scopes", "expires_at", "allowed_ips"] as const;

/** The plan allows no more keys (402 `plan_limit_reached`): say so, and where to change the plan. */
function PlanLimitAlert() {
  const { can } = usePermissions();
  return (
    <FormAlert code="plan_limit_reached" testId="api-key-plan-limit">
      The account's plan allows no more API keys. Revoke a key you no longer use, or{" "}
      {can("billing:read") ? (
        <Link to={settingsPage("billing").path}>upgrade the plan in Billing</Link>
      ) : (
        "ask someone who manages billing to upgrade the plan"
      )}
      .
    </FormAlert>
  );
}

/** `POST …/api-keys`: name, scopes, expiry and allowed IPs; the answer's secret goes to `onCreated`. */
export function CreateApiKeyDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (key: ApiKeyWithSecret) => void;
}) {
  const paths = useApiKeyPaths();
  const scopes = useScopeCatalog();
  const [form, setForm] = useState({
    name: "",
    scopes: [] as string[],
    expiry: "90" as ExpiryChoice,
    date: "",
    allowedIps: "",
  });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(CREATE_FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const expiresAt = expiresAtFor(form.expiry, form.date, new Date());
    const fields: Record<string, string> = {};
    if (!form.name.trim()) fields.name = "Give the key a name.";
    if (form.scopes.length === 0) fields.scopes = "Choose at least one scope.";
    if (expiresAt === undefined) fields.expires_at = "Pick the day the key expires.";
    if (Object.keys(fields).length > 0) return refuse(fields);
    await save<ApiKeyWithSecret>(
      { create: paths.list },
      {
        name: form.name.trim(),
        scopes: form.scopes,
        expires_at: expiresAt,
        allowed_ips: parseAllowedIps(form.allowedIps),
      },
      onCreated,
    );
  }

  return (
    <Dialog title="New API key" onClose={onClose} busy={busy} wide testId="api-key-create-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.code === "plan_limit_reached" ? (
          <PlanLimitAlert />
        ) : errors.form ? (
          <FormAlert code={errors.code} testId="api-key-create-error">
            {errors.form}
          </FormAlert>
        ) : null}
        <TextField
          label="Name"
          name="name"
          required
          hint="What uses it, so you can tell keys apart: “CI deploys”, “Billing sync”."
          value={form.name}
          onValueChange={(name) => {
            setForm((current) => ({ ...current, name }));
            clearError("name");
          }}
          error={errors.fields.name}
          maxLength={100}
        />
        <PermissionPicker
          legend="Scopes"
          name="scopes"
          catalog={scopes.catalog}
          catalogError={scopes.error}
          selected={form.scopes}
          onChange={(chosen) => {
            setForm((current) => ({ ...current, scopes: chosen }));
            clearError("scopes");
          }}
          error={errors.fields.scopes}
          unavailable={scopes.unavailable}
        />
        <div className="grid-2">
          <SelectField
            label="Expires"
            name="expiry"
            value={form.expiry}
            options={EXPIRY_CHOICES}
            onValueChange={(expiry) => {
              setForm((current) => ({ ...current, expiry: expiry as ExpiryChoice }));
              clearError("expires_at");
            }}
            error={form.expiry === "custom" ? undefined : errors.fields.expires_at}
          />
          {form.expiry === "custom" ? (
            <TextField
              label="Expiry date"
              name="expires_at"
              type="date"
              hint="It stops working at the end of that day."
              value={form.date}
              onValueChange={(date) => {
                setForm((current) => ({ ...current, date }));
                clearError("expires_at");
              }}
              error={errors.fields.expires_at}
            />
          ) : null}
        </div>
        <TextAreaField
          label="Allowed IP addresses (optional)"
          name="allowed_ips"
          rows={3}
          spellCheck={false}
          autoCapitalize="none"
          hint="One address or CIDR range a line, like 203.0.113.7 or 10.0.0.0/8. Empty: any address the account allows."
          value={form.allowedIps}
          onValueChange={(allowedIps) => {
            setForm((current) => ({ ...current, allowedIps }));
            clearError("allowed_ips");
          }}
          error={errors.fields.allowed_ips}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="api-key-create-submit">
            {busy ? "Creating…" : "Create key"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** The secret, shown once after creating or rotating a key (the shared one-time secret view). */
export function ApiKeySecretDialog({
  apiKey,
  reason,
  onClose,
}: {
  apiKey: ApiKeyWithSecret;
  reason: "created" | "rotated";
  onClose: () => void;
}) {
  return (
    <OneTimeSecretDialog
      title={reason === "created" ? `${apiKey.name}: your new key` : `${apiKey.name}: the new secret`}
      secret={apiKey.secret}
      testPrefix="api-key"
      usage="Store it where the program that uses it reads its secrets."
      onClose={onClose}
    >
      {reason === "rotated" && apiKey.previous_secret_expires_at ? (
        <p className="muted">The old secret keeps working until it expires; switch over before then.</p>
      ) : null}
    </OneTimeSecretDialog>
  );
}

/** Rotate: a new secret; the old one works for the chosen grace period. The new secret replaces the question. */
export function RotateApiKeyDialog({
  apiKey,
  onClose,
  onRotated,
}: {
  apiKey: ApiKey;
  onClose: () => void;
  onRotated: (key: ApiKeyWithSecret) => void;
}) {
  const api = useApi();
  const paths = useApiKeyPaths();
  const [grace, setGrace] = useState<number>(DEFAULT_GRACE_SECONDS);
  return (
    <ConfirmDialog
      title={`Rotate ${apiKey.name}?`}
      confirmLabel="Rotate key"
      busyLabel="Rotating…"
      testId="api-key-rotate-dialog"
      onClose={onClose}
      onConfirm={async () => {
        const rotated = await api.post<ApiKeyWithSecret>(paths.rotate(apiKey.id), { grace_seconds: grace });
        onRotated(rotated);
        // The secret dialog takes this one's place.
        return false;
      }}
    >
      <p>
        You get a new secret, shown once. Programs using the current secret ({apiKey.prefix}) need the new one
        before the old one stops working.
      </p>
      <fieldset className="field radio-list">
        <legend>The current secret stops working</legend>
        {GRACE_CHOICES.map((choice) => (
          <div key={choice.seconds} className="radio-option">
            <input
              id={`grace-${choice.seconds}`}
              type="radio"
              name="grace_seconds"
              value={choice.seconds}
              checked={grace === choice.seconds}
              onChange={() => setGrace(choice.seconds)}
              aria-describedby={`grace-${choice.seconds}-hint`}
            />
            <label htmlFor={`grace-${choice.seconds}`}>{choice.label}</label>
            <span id={`grace-${choice.seconds}-hint`} className="field-hint">
              {choice.hint}
            </span>
          </div>
        ))}
      </fieldset>
    </ConfirmDialog>
  );
}

export function RevokeApiKeyDialog({
  apiKey,
  onClose,
  onRevoked,
}: {
  apiKey: ApiKey;
  onClose: () => void;
  onRevoked: () => void;
}) {
  const api = useApi();
  const paths = useApiKeyPaths();
  return (
    <ConfirmDialog
      title={`Revoke ${apiKey.name}?`}
      confirmLabel="Revoke key"
      busyLabel="Revoking…"
      dismissLabel="Keep key"
      danger
      testId="api-key-revoke-dialog"
      onClose={onClose}
      onConfirm={async () => {
        await api.delete(paths.key(apiKey.id));
        onRevoked();
      }}
    >
      <p>
        Every request made with it ({apiKey.prefix}
        {apiKey.previous_secret_expires_at ? ", and with its previous secret" : ""}) is refused from now on.
        This cannot be undone: programs using it need a new key.
      </p>
    </ConfirmDialog>
  );
}

const EDIT_FIELDS = ["name", "scopes"] as const;

/** `PATCH …/api-keys/{id}`: rename it or change its scopes (its creator only). */
export function EditApiKeyDialog({
  apiKey,
  onClose,
  onSaved,
}: {
  apiKey: ApiKey;
  onClose: () => void;
  onSaved: (key: ApiKey) => void;
}) {
  const paths = useApiKeyPaths();
  const scopes = useScopeCatalog();
  const [form, setForm] = useState({ name: apiKey.name, scopes: apiKey.scopes });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(EDIT_FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!form.name.trim()) fields.name = "Give the key a name.";
    if (form.scopes.length === 0) fields.scopes = "Choose at least one scope.";
    if (Object.keys(fields).length > 0) return refuse(fields);
    await save<ApiKey>(
      { update: paths.key(apiKey.id) },
      { name: form.name.trim(), scopes: form.scopes },
      onSaved,
    );
  }

  return (
    <Dialog title={`Edit ${apiKey.name}`} onClose={onClose} busy={busy} wide testId="api-key-edit-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? <FormAlert code={errors.code}>{errors.form}</FormAlert> : null}
        <TextField
          label="Name"
          name="name"
          required
          value={form.name}
          onValueChange={(name) => {
            setForm((current) => ({ ...current, name }));
            clearError("name");
          }}
          error={errors.fields.name}
          maxLength={100}
        />
        <PermissionPicker
          legend="Scopes"
          name="scopes"
          catalog={scopes.catalog}
          catalogError={scopes.error}
          selected={form.scopes}
          onChange={(chosen) => {
            setForm((current) => ({ ...current, scopes: chosen }));
            clearError("scopes");
          }}
          error={errors.fields.scopes}
          // A scope the key already has stays choosable, so unticking it is possible.
          unavailable={(key) => (apiKey.scopes.includes(key) ? null : scopes.unavailable(key))}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="api-key-edit-submit">
            {busy ? "Saving…" : "Save key"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
