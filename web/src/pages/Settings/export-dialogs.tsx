import { type FormEvent, useEffect, useState } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import type { Member } from "../../types";
import { useSaveDialog } from "../../use-save-dialog";
import { memberName, useAccountPath, useLoadAllMembers } from "./account-data";

export type ExportType =
  | "members"
  | "teams"
  | "roles"
  | "invitations"
  | "audit_log"
  | "invoices"
  | "sessions"
  | "all";
export type ExportFormat = "csv" | "json" | "pdf";

export type DataExport = {
  id: string;
  type: ExportType;
  format: ExportFormat;
  status: "queued" | "running" | "succeeded" | "failed";
  progress: number;
  rows: number;
  total_rows: number;
  filters: Record<string, string>;
  from: string | null;
  to: string | null;
  download_url: string | null;
  expires_at: string | null;
  error: string | null;
  schedule_id: string | null;
  created_at: string;
};

export type ExportSchedule = {
  id: string;
  type: ExportType;
  format: ExportFormat;
  filters: Record<string, string>;
  frequency: "daily" | "weekly" | "monthly";
  recipients: string[];
  paused: boolean;
  next_run_at: string;
  last_run_at: string | null;
};

export const TYPE_LABELS: Record<ExportType, string> = {
  members: "Members",
  teams: "Teams",
  roles: "Roles",
  invitations: "Invitations",
  audit_log: "Audit log",
  invoices: "Invoices",
  sessions: "Active sessions",
  all: "All data (ZIP)",
};
export const FORMAT_LABELS: Record<ExportFormat, string> = {
  csv: "CSV",
  json: "JSON Lines",
  pdf: "PDF report",
};

/** The filters each type takes that the dialog offers (the API takes ids for role, team and actor too). */
const STATUS_FILTERS: Partial<Record<ExportType, string[]>> = {
  members: ["active", "suspended", "deactivated"],
  invitations: ["pending", "accepted", "revoked", "expired"],
  invoices: ["draft", "open", "paid", "void"],
};
const TEXT_FILTERS: Partial<Record<ExportType, { key: string; label: string; hint: string }>> = {
  members: {
    key: "q",
    label: "Name or email contains",
    hint: "Only members whose name or address contains this.",
  },
  teams: { key: "q", label: "Team name contains", hint: "" },
  invitations: { key: "q", label: "Email contains", hint: "" },
  audit_log: { key: "action", label: "Action", hint: "An exact action, such as member.invited." },
};

const FIELDS = ["type", "format", "from", "to", "filters", "frequency", "recipients"] as const;

type KindForm = { type: ExportType; format: ExportFormat; status: string; text: string };

function filtersOf(form: KindForm): Record<string, string> {
  const filters: Record<string, string> = {};
  if (form.status && STATUS_FILTERS[form.type]) filters.status = form.status;
  const text = TEXT_FILTERS[form.type];
  if (text && form.text.trim()) filters[text.key] = form.text.trim();
  return filters;
}

/** Type, format and the type's filters: the part the export and the schedule dialogs share. */
function KindFields({
  form,
  setForm,
  errors,
  clearError,
}: {
  form: KindForm;
  setForm: (change: (current: KindForm) => KindForm) => void;
  errors: ReturnType<typeof useSaveDialog>["errors"];
  clearError: (field: string) => void;
}) {
  const statuses = STATUS_FILTERS[form.type];
  const text = TEXT_FILTERS[form.type];
  const filterError = Object.entries(errors.fields).find(([key]) => key.startsWith("filters"))?.[1];
  return (
    <>
      <SelectField
        label="What to export"
        name="type"
        value={form.type}
        options={(Object.keys(TYPE_LABELS) as ExportType[]).map((value) => ({
          value,
          label: TYPE_LABELS[value],
        }))}
        onValueChange={(value) => {
          const type = value as ExportType;
          setForm((current) => ({
            ...current,
            type,
            status: "",
            text: "",
            // A PDF report covers one type.
            format: type === "all" && current.format === "pdf" ? "csv" : current.format,
          }));
          clearError("type");
        }}
        error={errors.fields.type}
      />
      <SelectField
        label="Format"
        name="format"
        value={form.format}
        options={(Object.keys(FORMAT_LABELS) as ExportFormat[])
          .filter((value) => !(form.type === "all" && value === "pdf"))
          .map((value) => ({ value, label: FORMAT_LABELS[value] }))}
        hint="CSV opens in spreadsheets (times in your time zone); JSON Lines is one object per line (times in UTC); PDF is a printable report."
        onValueChange={(value) => {
          setForm((current) => ({ ...current, format: value as ExportFormat }));
          clearError("format");
        }}
        error={errors.fields.format}
      />
      {statuses ? (
        <SelectField
          label="Status"
          name="status"
          value={form.status}
          options={[
            { value: "", label: "Any status" },
            ...statuses.map((value) => ({ value, label: value })),
          ]}
          onValueChange={(status) => {
            setForm((current) => ({ ...current, status }));
            clearError("filters");
          }}
        />
      ) : null}
      {text ? (
        <TextField
          label={text.label}
          name={text.key}
          value={form.text}
          hint={text.hint || undefined}
          maxLength={200}
          onValueChange={(value) => {
            setForm((current) => ({ ...current, text: value }));
            clearError("filters");
          }}
        />
      ) : null}
      {filterError ? <FormAlert testId="export-filter-error">{filterError}</FormAlert> : null}
    </>
  );
}

/** A date input's day as the instant it starts in this browser's zone (`to`: the day after, exclusive). */
function dayStart(day: string, plusDays = 0): string | undefined {
  if (!day) return undefined;
  const [year, month, date] = day.split("-").map(Number);
  return new Date(year ?? 1970, (month ?? 1) - 1, (date ?? 1) + plusDays).toISOString();
}

/** `POST …/exports`: type, format, date range, filters. */
export function NewExportDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const base = useAccountPath();
  const [form, setForm] = useState<KindForm>({ type: "members", format: "csv", status: "", text: "" });
  const [range, setRange] = useState({ from: "", to: "" });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (range.from && range.to && range.to < range.from)
      return refuse({ to: "The end date must be on or after the start date." });
    await save(
      { create: `${base}/exports` },
      {
        type: form.type,
        format: form.format,
        from: dayStart(range.from),
        to: dayStart(range.to, 1),
        filters: filtersOf(form),
      },
      onCreated,
    );
  }

  return (
    <Dialog title="New export" onClose={onClose} busy={busy} testId="export-create-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert code={errors.code} testId="export-form-error">
            {errors.form}
          </FormAlert>
        ) : null}
        <KindFields form={form} setForm={setForm} errors={errors} clearError={clearError} />
        <fieldset className="field">
          <legend>Date range (optional)</legend>
          <TextField
            label="From"
            name="from"
            type="date"
            value={range.from}
            onValueChange={(from) => {
              setRange((current) => ({ ...current, from }));
              clearError("from");
            }}
            error={errors.fields.from}
          />
          <TextField
            label="To (inclusive)"
            name="to"
            type="date"
            value={range.to}
            hint="By when each row was created: joined, sent, issued or occurred."
            onValueChange={(to) => {
              setRange((current) => ({ ...current, to }));
              clearError("to");
            }}
            error={errors.fields.to}
          />
        </fieldset>
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="export-create-submit">
            {busy ? "Starting…" : "Start export"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** `POST …/export-schedules`: what, how often, and who gets the link. */
export function NewScheduleDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const base = useAccountPath();
  const loadMembers = useLoadAllMembers();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [form, setForm] = useState<KindForm>({ type: "members", format: "csv", status: "", text: "" });
  const [frequency, setFrequency] = useState<ExportSchedule["frequency"]>("weekly");
  const [recipients, setRecipients] = useState<string[]>([]);
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(FIELDS);

  useEffect(() => {
    let live = true;
    loadMembers()
      .then((found) => live && setMembers(found))
      .catch(() => live && setMembers([]));
    return () => {
      live = false;
    };
  }, [loadMembers]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (recipients.length === 0)
      return refuse({ recipients: "Choose at least one person to mail the link to." });
    await save(
      { create: `${base}/export-schedules` },
      { type: form.type, format: form.format, filters: filtersOf(form), frequency, recipients },
      onCreated,
    );
  }

  return (
    <Dialog title="New scheduled export" onClose={onClose} busy={busy} wide testId="schedule-create-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert code={errors.code} testId="schedule-form-error">
            {errors.form}
          </FormAlert>
        ) : null}
        <KindFields form={form} setForm={setForm} errors={errors} clearError={clearError} />
        <SelectField
          label="How often"
          name="frequency"
          value={frequency}
          options={[
            { value: "daily", label: "Daily" },
            { value: "weekly", label: "Weekly" },
            { value: "monthly", label: "Monthly" },
          ]}
          onValueChange={(value) => {
            setFrequency(value as ExportSchedule["frequency"]);
            clearError("frequency");
          }}
          error={errors.fields.frequency}
        />
        <CheckboxList
          legend="Mail the download link to"
          name="recipients"
          scroll
          options={(members ?? []).map((member) => ({
            value: member.user_id as string,
            label: memberName(member),
            hint: member.email,
          }))}
          selected={recipients}
          onChange={(next) => {
            setRecipients(next);
            clearError("recipients");
          }}
          hint="Each run mails only those who can export data (data:export) at that moment."
          error={
            errors.fields.recipients ??
            Object.entries(errors.fields).find(([k]) => k.startsWith("recipients"))?.[1]
          }
          emptyText={members === null ? "Loading members…" : "No members."}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="schedule-create-submit">
            {busy ? "Saving…" : "Create schedule"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
