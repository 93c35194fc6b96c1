import { useEffect, useMemo, useState } from "react";
import { withQuery } from "../../api";
import { rangeStartDay } from "../../audit-filters";
import {
  AUDIT_CATEGORY_LABELS,
  actorLabel,
  auditSentence,
  changeRows,
  relativeTime,
  targetLabel,
} from "../../audit-sentences";
import { Avatar } from "../../components/avatar";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { useSearchParam } from "../../router";
import { endOfDay, startOfDay } from "../../time-zone";
import { AUDIT_CATEGORIES, type AuditEvent, type Member, type Preferences } from "../../types";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { usePreferences } from "../../use-preferences";
import { useSessionInfo } from "../../use-session";
import { memberName, useAccountPath, useLoadAllMembers } from "./account-data";

type Filters = { category: string; actor_id: string; from: string; to: string };
const NO_FILTERS: Filters = { category: "", actor_id: "", from: "", to: "" };

/**
 * The filters the log opens with: a link's `?actor_id=` (a member's page links to "their events", all
 * of them), else the saved default audit filter (Preferences).
 */
function initialFilters(
  preferences: Preferences | null | undefined,
  timeZone: string | null,
  linkedActorId: string | null,
): Filters {
  if (linkedActorId) return { ...NO_FILTERS, actor_id: linkedActorId };
  const saved = preferences?.default_audit_filter;
  if (!saved) return NO_FILTERS;
  return {
    ...NO_FILTERS,
    category: saved.category === "all" ? "" : saved.category,
    from: rangeStartDay(saved.range, new Date(), timeZone),
  };
}

export function AuditTab() {
  const { preferences, loadError } = usePreferences();
  // The saved default filter decides the first request: wait for it (briefly) rather than load twice.
  if (!preferences && !loadError)
    return <LoadingBlock label="Loading events…" table={{ columns: 4, rows: 6 }} />;
  return <AuditLog preferences={preferences} />;
}

function AuditLog({ preferences }: { preferences: Preferences | null | undefined }) {
  const base = useAccountPath();
  const { user } = useSessionInfo();
  const { can } = usePermissions();
  const formatDate = useFormatDate();
  const loadAllMembers = useLoadAllMembers();
  const timeZone = user.timezone;
  const linkedActorId = useSearchParam("actor_id");
  const [defaults] = useState(() => initialFilters(preferences, timeZone, linkedActorId));
  const [filters, setFilters] = useState<Filters>(defaults);
  const [members, setMembers] = useState<Member[]>([]);
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const from = filters.from ? startOfDay(filters.from, timeZone) : null;
  const to = filters.to ? endOfDay(filters.to, timeZone) : null;
  const rangeInvalid = from !== null && to !== null && from > to;
  const canReadMembers = can("members:read");
  // Relative times move on while the page is open.
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), 30_000);
    return () => window.clearInterval(timer);
  }, []);

  const path = rangeInvalid
    ? null
    : withQuery(`${base}/audit-events`, {
        category: filters.category,
        actor_id: filters.actor_id,
        from: from?.toISOString(),
        to: to?.toISOString(),
      });
  const events = usePagedList<AuditEvent>(path, preferences?.default_list_filters.page_size ?? 50);

  // The people to pick from.
  useEffect(() => {
    if (!canReadMembers) return;
    let cancelled = false;
    loadAllMembers().then(
      (loaded) => {
        if (!cancelled) setMembers(loaded);
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [canReadMembers, loadAllMembers]);

  const people = useMemo(
    () =>
      members
        .filter((member) => member.user_id)
        .map((member) => ({
          value: member.user_id as string,
          label:
            memberName(member) === member.email ? member.email : `${memberName(member)} (${member.email})`,
        }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    [members],
  );
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);

  function update(patch: Partial<Filters>) {
    setFilters((current) => ({ ...current, ...patch }));
  }

  return (
    <section className="card" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Events</h2>
      <p className="muted">Every change in this account, newest first. Times are in your timezone.</p>

      <search className="filters" aria-label="Filter events">
        <div className="filters-grid filters-grid-open">
          {canReadMembers ? (
            <SelectField
              label="Person"
              name="actor_id"
              value={filters.actor_id}
              onValueChange={(value) => update({ actor_id: value })}
              options={[{ value: "", label: "Anyone" }, ...people]}
            />
          ) : null}
          <SelectField
            label="Category"
            name="category"
            value={filters.category}
            onValueChange={(value) => update({ category: value })}
            options={[
              { value: "", label: "All categories" },
              ...AUDIT_CATEGORIES.map((value) => ({ value, label: AUDIT_CATEGORY_LABELS[value] })),
            ]}
          />
          <TextField
            label="From"
            name="from"
            type="date"
            value={filters.from}
            onValueChange={(value) => update({ from: value })}
            max={filters.to || undefined}
          />
          <TextField
            label="To"
            name="to"
            type="date"
            value={filters.to}
            onValueChange={(value) => update({ to: value })}
            min={filters.from || undefined}
            error={rangeInvalid ? "The end date is before the start date." : undefined}
          />
        </div>
        {filtered ? (
          <button
            type="button"
            className="button button-ghost button-small"
            onClick={() => setFilters(NO_FILTERS)}
            data-testid="audit-clear-filters"
          >
            Clear filters
          </button>
        ) : null}
      </search>

      {events.error ? <FormAlert>{events.error}</FormAlert> : null}
      {events.status === "loading" ? (
        <LoadingBlock label="Loading events…" table={{ columns: 4, rows: 6 }} />
      ) : events.items.length === 0 && events.status === "ready" && !rangeInvalid ? (
        <p className="muted" data-testid="audit-empty">
          {filtered ? "No events match these filters." : "No events yet."}
        </p>
      ) : events.items.length > 0 ? (
        <table className="table responsive-table audit-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What happened</th>
              <th scope="col">
                <span className="visually-hidden">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {events.items.map((event) => {
              const sentence = auditSentence(event);
              return (
                <tr
                  key={event.id}
                  data-testid="audit-row"
                  data-action={event.action}
                  data-category={event.category}
                  data-event-id={event.id}
                >
                  <td data-label="When" className="cell-time">
                    <time dateTime={event.created_at} title={formatDate(event.created_at)}>
                      {relativeTime(event.created_at, now)}
                    </time>
                  </td>
                  <td data-label="Who" className="cell-actor">
                    <ActorChip event={event} />
                  </td>
                  <td data-label="What happened" className="cell-primary">
                    <span data-testid="audit-sentence">{sentence}</span>
                    <TargetChip event={event} />
                  </td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button button-ghost button-small"
                      onClick={() => setOpen(event)}
                      data-testid="audit-details"
                    >
                      Details
                      <span className="visually-hidden">: {sentence}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={events} />
      {open ? <EventDialog event={open} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}

/** The actor: avatar (or initials) and name; their id on hover. */
function ActorChip({ event }: { event: AuditEvent }) {
  const label = actorLabel(event);
  const id = event.actor?.id ?? null;
  return (
    <span className="audit-person" title={id ?? undefined} data-testid="audit-actor">
      <Avatar name={label} url={event.actor?.avatar_url ?? null} colourKey={id ?? label} size="small" />
      <span className="audit-person-name">{label}</span>
    </span>
  );
}

/** Who or what the event is about, when it names someone else than the actor: avatar, name, id on hover. */
function TargetChip({ event }: { event: AuditEvent }) {
  const target = event.target;
  if (!target?.id || target.type !== "user" || target.id === event.actor?.id) return null;
  const label = targetLabel(event, "A former member");
  return (
    <span
      className="audit-person audit-target"
      title={`${target.type} ${target.id}`}
      data-testid="audit-target"
    >
      <Avatar name={label} colourKey={target.id} size="small" />
      <span className="audit-person-name">{label}</span>
    </span>
  );
}

const TARGET_TYPES: Record<string, string> = {
  user: "Person",
  invitation: "Invitation",
  role: "Role",
  team: "Team",
  api_key: "API key",
  webhook: "Webhook",
  session: "Session",
  account: "Account",
  domain: "Domain",
  export: "Export",
  export_schedule: "Scheduled export",
};

/** One event, readable: what happened, who, when, from where, and what changed (before → after). */
function EventDialog({ event, onClose }: { event: AuditEvent; onClose: () => void }) {
  const formatDate = useFormatDate();
  const rows = changeRows(event);
  const withBefore = rows.some((row) => row.before !== null);
  const target = event.target;
  return (
    <Dialog title="Event details" onClose={onClose} wide testId="audit-event-dialog">
      <p className="audit-dialog-sentence" data-testid="audit-dialog-sentence">
        {auditSentence(event)}
      </p>
      <dl className="event-meta" data-testid="audit-event-meta">
        <div>
          <dt>When</dt>
          <dd>
            <time dateTime={event.created_at}>{formatDate(event.created_at)}</time>
          </dd>
        </div>
        <div>
          <dt>Who</dt>
          <dd>
            <ActorChip event={event} />
            {event.actor?.email && event.actor.email !== actorLabel(event) ? (
              <span className="muted audit-email">{event.actor.email}</span>
            ) : null}
          </dd>
        </div>
        {target?.type ? (
          <div>
            <dt>About</dt>
            <dd title={target.id ?? undefined}>
              {TARGET_TYPES[target.type] ?? target.type}
              {target.name || target.type === "invitation" ? `: ${targetLabel(event, "—")}` : ""}
            </dd>
          </div>
        ) : null}
        {event.category ? (
          <div>
            <dt>Category</dt>
            <dd>{AUDIT_CATEGORY_LABELS[event.category]}</dd>
          </div>
        ) : null}
        <div>
          <dt>Device</dt>
          <dd data-testid="audit-device" title={event.user_agent ?? undefined}>
            {event.device ?? (event.user_agent ? "Unknown device" : "—")}
          </dd>
        </div>
        <div>
          <dt>IP address</dt>
          <dd>
            <code>{event.ip ?? "—"}</code>
          </dd>
        </div>
        <div>
          <dt>Request ID</dt>
          <dd>
            <code className="break">{event.request_id ?? "—"}</code>
          </dd>
        </div>
      </dl>
      <h3 className="audit-changes-heading">Changes</h3>
      {rows.length === 0 ? (
        <p className="muted">Nothing was changed by this event, or it records no details.</p>
      ) : (
        <table className="table audit-changes" data-testid="audit-changes">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {withBefore ? <th scope="col">Before</th> : null}
              <th scope="col">{withBefore ? "After" : "Value"}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.field} data-testid="audit-change-row">
                <th scope="row">{row.field}</th>
                {withBefore ? <td>{row.before ?? "—"}</td> : null}
                <td className="break">{row.after}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <DialogActions>
        <button type="button" className="button button-secondary" onClick={onClose}>
          Close
        </button>
      </DialogActions>
    </Dialog>
  );
}
