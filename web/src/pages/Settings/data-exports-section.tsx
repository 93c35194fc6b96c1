import { useEffect, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { explainError } from "../../error-messages";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { useAccountPath } from "./account-data";
import {
  type DataExport,
  type ExportSchedule,
  FORMAT_LABELS,
  NewExportDialog,
  NewScheduleDialog,
  TYPE_LABELS,
} from "./export-dialogs";

/** How often the list is read again while an export is queued or running. */
const POLL_MS = 2000;

/** Settings → Data: exports (with live progress and download links) and scheduled exports. */
export function DataExportsSection() {
  return (
    <>
      <ExportsCard />
      <SchedulesCard />
    </>
  );
}

function ExportsCard() {
  const base = useAccountPath();
  const exports = usePagedList<DataExport>(`${base}/exports`, 20);
  const [creating, setCreating] = useState(false);
  const formatDate = useFormatDate();
  const working = exports.items.some((e) => e.status === "queued" || e.status === "running");
  const { reload } = exports;

  // Live progress: poll while something is being made, stop when nothing is.
  useEffect(() => {
    if (!working) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [working, reload]);

  return (
    <section className="card" id="exports" aria-labelledby="exports-heading">
      <div className="card-header">
        <h2 id="exports-heading">Exports</h2>
        <button
          type="button"
          className="button button-small"
          onClick={() => setCreating(true)}
          data-testid="export-create"
        >
          New export
        </button>
      </div>
      <p className="muted">
        Download the account's members, teams, roles, invitations, audit log, invoices or active sessions as
        CSV, JSON Lines or a PDF report, or everything at once as a ZIP. You get a mail when a file is ready;
        files are deleted after the retention period.
      </p>
      {exports.error ? <FormAlert testId="exports-error">{exports.error}</FormAlert> : null}
      {exports.status === "loading" ? (
        <LoadingBlock label="Loading exports…" table={{ columns: 4, rows: 2 }} />
      ) : exports.status === "ready" && exports.items.length === 0 ? (
        <p className="muted" data-testid="exports-empty">
          No exports yet.
        </p>
      ) : exports.items.length > 0 ? (
        <table className="table responsive-table" data-testid="exports-table">
          <thead>
            <tr>
              <th scope="col">Export</th>
              <th scope="col">Requested</th>
              <th scope="col">Status</th>
              <th scope="col">File</th>
            </tr>
          </thead>
          <tbody>
            {exports.items.map((e) => (
              <tr key={e.id} data-testid="export-row" data-export-id={e.id} data-status={e.status}>
                <td data-label="Export" className="cell-primary">
                  {TYPE_LABELS[e.type] ?? e.type} · {e.type === "all" ? "ZIP" : FORMAT_LABELS[e.format]}
                  {Object.keys(e.filters).length > 0 || e.from || e.to ? (
                    <span className="member-email">
                      {[
                        ...Object.entries(e.filters).map(([k, v]) => `${k}: ${v}`),
                        ...(e.from ? [`from ${formatDate(e.from)}`] : []),
                        ...(e.to ? [`before ${formatDate(e.to)}`] : []),
                      ].join(", ")}
                    </span>
                  ) : null}
                  {e.schedule_id ? <span className="member-email">Scheduled</span> : null}
                </td>
                <td data-label="Requested">
                  <time dateTime={e.created_at}>{formatDate(e.created_at)}</time>
                </td>
                <td data-label="Status">
                  <ExportStatus value={e} />
                </td>
                <td data-label="File">
                  {e.download_url ? (
                    <>
                      <a
                        className="button button-small"
                        href={e.download_url}
                        download
                        data-testid="export-download"
                      >
                        Download
                      </a>
                      {e.expires_at ? (
                        <span className="member-email">Until {formatDate(e.expires_at)}</span>
                      ) : null}
                    </>
                  ) : e.status === "succeeded" ? (
                    <span className="muted">Deleted</span>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={exports} />
      {creating ? (
        <NewExportDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      ) : null}
    </section>
  );
}

function ExportStatus({ value }: { value: DataExport }) {
  if (value.status === "succeeded")
    return (
      <span className="badge badge-success" data-testid="export-status">
        Ready · {value.rows.toLocaleString()} rows
      </span>
    );
  if (value.status === "failed")
    return (
      <span className="badge badge-danger" data-testid="export-status" title={value.error ?? undefined}>
        Failed
      </span>
    );
  const label = value.status === "queued" ? "Waiting to start" : `Writing ${value.progress}%`;
  return (
    <span data-testid="export-status">
      <progress
        max={100}
        value={value.status === "queued" ? undefined : value.progress}
        aria-label={`${TYPE_LABELS[value.type] ?? value.type} export progress`}
        aria-valuetext={label}
      />{" "}
      <span className="muted">{label}</span>
    </span>
  );
}

function SchedulesCard() {
  const base = useAccountPath();
  const api = useApi();
  const schedules = usePagedList<ExportSchedule>(`${base}/export-schedules`, 50);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ExportSchedule | null>(null);
  const [error, setError] = useState<string | null>(null);
  const formatDate = useFormatDate();

  async function setPaused(schedule: ExportSchedule, paused: boolean) {
    setError(null);
    try {
      await api.patch(`${base}/export-schedules/${encodeURIComponent(schedule.id)}`, { paused });
      schedules.reload();
    } catch (caught) {
      setError(explainError(caught));
    }
  }

  return (
    <section className="card" aria-labelledby="export-schedules-heading">
      <div className="card-header">
        <h2 id="export-schedules-heading">Scheduled exports</h2>
        <button
          type="button"
          className="button button-small"
          onClick={() => setCreating(true)}
          data-testid="schedule-create"
        >
          New schedule
        </button>
      </div>
      {error ? <FormAlert testId="schedule-error">{error}</FormAlert> : null}
      {schedules.error ? <FormAlert testId="schedules-error">{schedules.error}</FormAlert> : null}
      {schedules.status === "loading" ? (
        <LoadingBlock label="Loading schedules…" table={{ columns: 4, rows: 1 }} />
      ) : schedules.status === "ready" && schedules.items.length === 0 ? (
        <p className="muted" data-testid="schedules-empty">
          No scheduled exports. A schedule makes an export daily, weekly or monthly and mails its download
          link to the people you choose.
        </p>
      ) : schedules.items.length > 0 ? (
        <table className="table responsive-table" data-testid="schedules-table">
          <thead>
            <tr>
              <th scope="col">Export</th>
              <th scope="col">How often</th>
              <th scope="col">Next run</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {schedules.items.map((s) => (
              <tr key={s.id} data-testid="schedule-row" data-schedule-id={s.id} data-paused={s.paused}>
                <td data-label="Export" className="cell-primary">
                  {TYPE_LABELS[s.type] ?? s.type} · {s.type === "all" ? "ZIP" : FORMAT_LABELS[s.format]}
                  <span className="member-email">
                    {s.recipients.length} recipient{s.recipients.length === 1 ? "" : "s"}
                  </span>
                </td>
                <td data-label="How often">{s.frequency}</td>
                <td data-label="Next run">
                  {s.paused ? (
                    <span className="badge">Paused</span>
                  ) : (
                    <time dateTime={s.next_run_at}>{formatDate(s.next_run_at)}</time>
                  )}
                </td>
                <td data-label="Actions">
                  <button
                    type="button"
                    className="button button-small button-secondary"
                    onClick={() => void setPaused(s, !s.paused)}
                    data-testid="schedule-pause"
                  >
                    {s.paused ? "Resume" : "Pause"}
                  </button>{" "}
                  <button
                    type="button"
                    className="button button-small button-secondary"
                    onClick={() => setDeleting(s)}
                    data-testid="schedule-delete"
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={schedules} />
      {creating ? (
        <NewScheduleDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            schedules.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete the ${(TYPE_LABELS[deleting.type] ?? deleting.type).toLowerCase()} schedule?`}
          confirmLabel="Delete schedule"
          busyLabel="Deleting…"
          danger
          onConfirm={async () => {
            await api.delete(`${base}/export-schedules/${encodeURIComponent(deleting.id)}`);
            schedules.reload();
          }}
          onClose={() => setDeleting(null)}
          testId="schedule-delete-dialog"
        >
          No more exports are made for it. Files it already made stay until they expire.
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
