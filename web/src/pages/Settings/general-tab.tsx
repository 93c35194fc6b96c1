import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { applyAppearance } from "../../appearance";
import { AUDIT_RANGE_LABELS } from "../../audit-filters";
import { AUDIT_CATEGORY_LABELS } from "../../audit-sentences";
import { SelectField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingCard } from "../../components/skeleton";
import { type FormErrors, NO_ERRORS, toFormErrors, withoutFieldError } from "../../form-errors";
import {
  AUDIT_CATEGORIES,
  AUDIT_FILTER_RANGES,
  type AuditFilterRange,
  CHART_METRICS,
  type ChartMetric,
  DATE_RANGES,
  type DateRange,
  INVOICE_FILTER_STATUSES,
  type InvoiceFilterStatus,
  LIST_STATUSES,
  type ListStatus,
  PAGE_SIZES,
  type PageSize,
  type Preferences,
  THEMES,
  type Theme,
} from "../../types";
import { useApi } from "../../use-api";
import { usePreferences } from "../../use-preferences";

const THEME_LABELS: Record<Theme, string> = { light: "Light", dark: "Dark", system: "Match my system" };
const DATE_RANGE_LABELS: Record<DateRange, string> = {
  today: "Today",
  last_7_days: "Last 7 days",
  last_30_days: "Last 30 days",
  last_90_days: "Last 90 days",
  last_12_months: "Last 12 months",
  year_to_date: "Year to date",
};
const METRIC_LABELS: Record<ChartMetric, string> = {
  active_users: "Active users",
  sessions: "Sessions",
  logins: "Logins",
  api_calls: "API calls",
  errors: "Errors",
};
const STATUS_LABELS: Record<ListStatus, string> = {
  all: "All",
  active: "Active",
  suspended: "Suspended",
  deactivated: "Deactivated",
  pending: "Pending",
};

const FIELDS = ["theme", "animations", "default_date_range", "default_chart_metric", "status", "page_size"];
const INVOICE_STATUS_LABELS: Record<InvoiceFilterStatus, string> = {
  all: "All invoices",
  open: "Open",
  paid: "Paid",
  failed: "Payment failed",
  void: "Void",
};

export function GeneralTab() {
  const { preferences, loadError, reload } = usePreferences();
  if (preferences) return <PreferencesForm saved={preferences} />;
  if (loadError) {
    return (
      <FormAlert>
        <p>Your preferences could not be loaded: {loadError}</p>
        <button type="button" className="button button-secondary button-small" onClick={reload}>
          Try again
        </button>
      </FormAlert>
    );
  }
  return <LoadingCard label="Loading preferences…" lines={6} />;
}

function PreferencesForm({ saved }: { saved: Preferences }) {
  const api = useApi();
  const { setPreferences } = usePreferences();
  const [draft, setDraft] = useState<Preferences>(saved);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const animationsId = useId();

  // Theme and motion preview live, before saving…
  useEffect(() => {
    applyAppearance({ theme: draft.theme, animations: draft.animations });
  }, [draft.theme, draft.animations]);

  // …and fall back to what is saved when the user leaves without saving.
  const savedRef = useRef(saved);
  useEffect(() => {
    savedRef.current = saved;
  }, [saved]);
  useEffect(
    () => () => applyAppearance({ theme: savedRef.current.theme, animations: savedRef.current.animations }),
    [],
  );

  // An edited field's message goes, and a banner about the input with it.
  const edited = (patch: object) =>
    setErrors((current) => Object.keys(patch).reduce(withoutFieldError, current));

  function update(patch: Partial<Preferences>) {
    setDraft((current) => ({ ...current, ...patch }));
    edited(patch);
    setStatus("idle");
  }

  function updateFilters(patch: Partial<Preferences["default_list_filters"]>) {
    setDraft((current) => ({
      ...current,
      default_list_filters: { ...current.default_list_filters, ...patch },
    }));
    edited(patch);
    setStatus("idle");
  }

  function updateAuditFilter(patch: Partial<Preferences["default_audit_filter"]>) {
    setDraft((current) => ({
      ...current,
      default_audit_filter: { ...current.default_audit_filter, ...patch },
    }));
    setStatus("idle");
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setStatus("saving");
    setErrors(NO_ERRORS);
    try {
      const stored = await api.put<Preferences>("/me/preferences", draft);
      setPreferences(stored);
      setDraft(stored);
      setStatus("saved");
    } catch (error) {
      setErrors(toFormErrors(error, FIELDS));
      setStatus("idle");
    }
  }

  function reset() {
    setDraft(saved);
    setErrors(NO_ERRORS);
    setStatus("idle");
  }

  const dirty = JSON.stringify(draft) !== JSON.stringify(saved);

  return (
    <form className="stack" onSubmit={submit} noValidate>
      {errors.form ? <FormAlert code={errors.code}>{errors.form}</FormAlert> : null}
      <section className="card" aria-labelledby="appearance-heading">
        <h2 id="appearance-heading">Appearance</h2>
        <SelectField
          label="Theme"
          name="theme"
          value={draft.theme}
          onValueChange={(value) => update({ theme: value as Theme })}
          options={THEMES.map((value) => ({ value, label: THEME_LABELS[value] }))}
          hint="Applies right away so you can try it; save to keep it."
          error={errors.fields.theme}
        />
        <div className="field field-checkbox">
          <input
            id={animationsId}
            type="checkbox"
            name="animations"
            checked={draft.animations}
            onChange={(event) => update({ animations: event.target.checked })}
            aria-describedby={`${animationsId}-hint`}
          />
          <label htmlFor={animationsId}>Animations and transitions</label>
          <p id={`${animationsId}-hint`} className="field-hint">
            Turn off to stop interface motion.
          </p>
        </div>
      </section>

      <section className="card" aria-labelledby="defaults-heading">
        <h2 id="defaults-heading">Defaults</h2>
        <div className="grid-2">
          <SelectField
            label="Default date range"
            name="default_date_range"
            value={draft.default_date_range}
            onValueChange={(value) => update({ default_date_range: value as DateRange })}
            options={DATE_RANGES.map((value) => ({ value, label: DATE_RANGE_LABELS[value] }))}
            error={errors.fields.default_date_range}
          />
          <SelectField
            label="Default chart metric"
            name="default_chart_metric"
            value={draft.default_chart_metric}
            onValueChange={(value) => update({ default_chart_metric: value as ChartMetric })}
            options={CHART_METRICS.map((value) => ({ value, label: METRIC_LABELS[value] }))}
            error={errors.fields.default_chart_metric}
          />
          <SelectField
            label="List filter: status"
            name="status"
            value={draft.default_list_filters.status}
            onValueChange={(value) => updateFilters({ status: value as ListStatus })}
            options={LIST_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] }))}
            error={errors.fields.status}
          />
          <SelectField
            label="List page size"
            name="page_size"
            value={String(draft.default_list_filters.page_size)}
            onValueChange={(value) => updateFilters({ page_size: Number(value) as PageSize })}
            options={PAGE_SIZES.map((value) => ({ value: String(value), label: `${value} rows` }))}
            error={errors.fields.page_size}
          />
          <SelectField
            label="Audit log: category"
            name="audit_category"
            value={draft.default_audit_filter.category}
            onValueChange={(value) =>
              updateAuditFilter({ category: value as Preferences["default_audit_filter"]["category"] })
            }
            options={[
              { value: "all", label: "All categories" },
              ...AUDIT_CATEGORIES.map((value) => ({ value, label: AUDIT_CATEGORY_LABELS[value] })),
            ]}
          />
          <SelectField
            label="Audit log: date range"
            name="audit_range"
            value={draft.default_audit_filter.range}
            onValueChange={(value) => updateAuditFilter({ range: value as AuditFilterRange })}
            options={AUDIT_FILTER_RANGES.map((value) => ({ value, label: AUDIT_RANGE_LABELS[value] }))}
          />
          <SelectField
            label="Invoices: status"
            name="invoices_status"
            value={draft.default_invoices_filter.status}
            onValueChange={(value) => {
              setDraft((current) => ({
                ...current,
                default_invoices_filter: { status: value as InvoiceFilterStatus },
              }));
              setStatus("idle");
            }}
            options={INVOICE_FILTER_STATUSES.map((value) => ({ value, label: INVOICE_STATUS_LABELS[value] }))}
          />
        </div>
      </section>

      <div className="actions">
        <button type="submit" className="button" disabled={status === "saving"}>
          {status === "saving" ? "Saving…" : "Save preferences"}
        </button>
        <button type="button" className="button button-secondary" onClick={reset} disabled={!dirty}>
          Cancel
        </button>
        {status === "saved" ? (
          <span className="saved-note" role="status" data-testid="prefs-saved">
            Preferences saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}
