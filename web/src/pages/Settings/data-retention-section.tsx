import { type FormEvent, useState } from "react";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import {
  type DataRetention,
  formFrom,
  RETENTION_LABELS as LABELS,
  PLAN_NAMES,
  type RetentionFormValues,
  rangeOf,
  retentionPatch,
  RETENTION_SETTINGS as SETTINGS,
  type RetentionSetting as Setting,
} from "../../data-retention";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, onFields, withoutFieldError } from "../../form-errors";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";

/** Settings → Data: how long the account keeps its audit log, export files and departed people's data. */
export function DataRetentionSection() {
  const retention = useResource<DataRetention>(`${useAccountPath()}/data-retention`);
  const editable = usePermissions().can("account:update");
  return (
    <section className="card" aria-labelledby="data-retention-heading" data-testid="data-retention">
      <h2 id="data-retention-heading">Retention</h2>
      <p className="muted">
        How long this account keeps data. A shorter period counts from when it is saved: nothing kept under
        the old period is deleted before the new period has passed.
      </p>
      {retention.data ? (
        <RetentionForm initial={retention.data} editable={editable} />
      ) : retention.error ? (
        <FormAlert>
          <p>The retention settings could not be loaded: {retention.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={retention.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingBlock label="Loading the retention settings…" lines={3} />
      )}
    </section>
  );
}

function InForceNote({ setting, data }: { setting: Setting; data: DataRetention }) {
  const limit = data.in_force[setting];
  const now = new Date().toISOString();
  const days = (d: number | null) => (d === null ? "kept forever" : `${d} day${d === 1 ? "" : "s"}`);
  if (limit.grace_until > now)
    return (
      <p className="field-hint" data-testid={`${setting}-grace`}>
        {days(limit.days)} from {new Date(limit.grace_until).toLocaleDateString()}; until then{" "}
        {limit.days_before === null ? "nothing is deleted" : days(limit.days_before)}.
      </p>
    );
  if (limit.days !== data[setting])
    return (
      <p className="field-hint" data-testid={`${setting}-capped`}>
        The {PLAN_NAMES[data.plan] ?? data.plan} plan keeps at most {days(limit.days)}: that applies now.
      </p>
    );
  return null;
}

function RetentionForm({ initial, editable }: { initial: DataRetention; editable: boolean }) {
  const api = useApi();
  const path = `${useAccountPath()}/data-retention`;
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState<RetentionFormValues>(() => formFrom(initial));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const dirty = JSON.stringify(form) !== JSON.stringify(formFrom(saved));
  const planName = PLAN_NAMES[saved.plan] ?? saved.plan;

  function change(field: Setting, value: string) {
    setForm((current) => ({ ...current, [field]: value }));
    setErrors((current) => withoutFieldError(current, field));
    setStatus("idle");
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const built = retentionPatch(form, saved);
    if ("errors" in built) {
      setErrors(onFields(built.errors));
      return;
    }
    if (Object.keys(built.patch).length === 0) {
      setStatus("saved");
      return;
    }
    setStatus("saving");
    setErrors(NO_ERRORS);
    try {
      const updated = await api.patch<DataRetention>(path, built.patch);
      setSaved(updated);
      setForm(formFrom(updated));
      setStatus("saved");
    } catch (error) {
      setErrors(toExplainedFormErrors(error, SETTINGS));
      setStatus("idle");
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      {editable ? null : (
        <p className="muted" data-testid="data-retention-read-only">
          Your role can see the retention settings but not change them.
        </p>
      )}
      {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
      <div className="grid-2">
        {SETTINGS.map((setting) => {
          const bounds = saved.bounds[setting];
          const forever = setting === "audit_log_days" && form.audit_forever;
          return (
            <div key={setting}>
              <TextField
                label={LABELS[setting].label}
                name={setting}
                type="number"
                inputMode="numeric"
                min={bounds.min}
                max={bounds.max}
                step={1}
                value={forever ? "" : form[setting]}
                placeholder={forever ? "Forever" : undefined}
                onValueChange={(value) => change(setting, value)}
                error={errors.fields[setting]}
                readOnly={!editable}
                disabled={forever}
                hint={`${LABELS[setting].hint} ${setting === "audit_log_days" ? `${planName} plan: ` : ""}${rangeOf(bounds)}.`}
              />
              {bounds.forever ? (
                <div className="checkbox-option">
                  <input
                    id="audit-forever"
                    type="checkbox"
                    name="audit_forever"
                    checked={form.audit_forever}
                    disabled={!editable}
                    onChange={(event) => {
                      const checked = event.target.checked;
                      setForm((current) => ({
                        ...current,
                        audit_forever: checked,
                        audit_log_days: checked ? "" : current.audit_log_days || String(bounds.max),
                      }));
                      setErrors((current) => withoutFieldError(current, "audit_log_days"));
                      setStatus("idle");
                    }}
                  />
                  <label htmlFor="audit-forever">Keep forever</label>
                </div>
              ) : null}
              <InForceNote setting={setting} data={saved} />
            </div>
          );
        })}
      </div>
      {editable ? (
        <div className="actions">
          <button type="submit" className="button" disabled={status === "saving"}>
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setForm(formFrom(saved));
              setErrors(NO_ERRORS);
              setStatus("idle");
            }}
            disabled={status === "saving" || !dirty}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="data-retention-saved">
              Retention saved.
            </span>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
