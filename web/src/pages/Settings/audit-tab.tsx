import { Fragment, useEffect, useMemo, useState } from "react";
import { withQuery } from "../../api";
import { EmailText } from "../../components/email-text";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { endOfDay, startOfDay } from "../../time-zone";
import type { AuditEvent, Member } from "../../types";
import { useDebouncedValue } from "../../use-debounced-value";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { usePreferences } from "../../use-preferences";
import { useSessionInfo } from "../../use-session";
import { memberName, useAccountPath, useLoadAllMembers, useRoles, useTeams } from "./account-data";

type Filters = { action: string; actor_id: string; from: string; to: string };
const NO_FILTERS: Filters = { action: "", actor_id: "", from: "", to: "" };
const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$/;

export function AuditTab() {
  const base = useAccountPath();
  const { user } = useSessionInfo();
  const { can } = usePermissions();
  const { preferences } = usePreferences();
  const formatDate = useFormatDate();
  const loadAllMembers = useLoadAllMembers();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [members, setMembers] = useState<Member[]>([]);
  const typed = useDebouncedValue(filters.action.trim().toLowerCase(), 300);
  // The server takes a whole action name or a prefix ending in ".*"; half-typed text is not sent.
  const actionValid = typed === "" || ACTION_PATTERN.test(typed);
  const action = actionValid ? typed : "";
  const timeZone = user.timezone;
  const from = filters.from ? startOfDay(filters.from, timeZone) : null;
  const to = filters.to ? endOfDay(filters.to, timeZone) : null;
  const rangeInvalid = from !== null && to !== null && from > to;
  const canReadMembers = can("members:read");

  const path = rangeInvalid
    ? null
    : withQuery(`${base}/audit-events`, {
        action,
        actor_id: filters.actor_id,
        from: from?.toISOString(),
        to: to?.toISOString(),
      });
  const events = usePagedList<AuditEvent>(path, preferences?.default_list_filters.page_size ?? 50);

  // People to pick as the actor, and to name the targets of member events.
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

  const emailOf = useMemo(
    () => new Map(members.map((member) => [member.user_id as string, member.email])),
    [members],
  );
  const roles = useRoles();
  const teams = useTeams();
  const roleNames = useMemo(
    () => new Map((roles.data?.data ?? []).map((role) => [role.id, role.name])),
    [roles.data],
  );
  const teamNames = useMemo(
    () => new Map((teams.data?.data ?? []).map((team) => [team.id, team.name])),
    [teams.data],
  );
  const [expanded, setExpanded] = useState<string[]>([]);
  const filtered = Object.values(filters).some(Boolean);

  function update(patch: Partial<Filters>) {
    setFilters((current) => ({ ...current, ...patch }));
  }

  /** The target's name when the tab knows it (member email, role or team name), and its type and id. */
  function describeTarget(event: AuditEvent): { name: string | null; ref: string } {
    if (!event.target) return { name: null, ref: "—" };
    const id = event.target.id ?? "";
    const name = emailOf.get(id) ?? roleNames.get(id) ?? teamNames.get(id) ?? null;
    return { name, ref: name ? event.target.type : [event.target.type, id].filter(Boolean).join(" ") };
  }

  function toggle(id: string) {
    setExpanded((current) =>
      current.includes(id) ? current.filter((open) => open !== id) : [...current, id],
    );
  }

  function actorLabel(event: AuditEvent): string {
    if (!event.actor) return "System";
    if (event.actor.email) return event.actor.email;
    if (event.actor.type === "system") return "System";
    return [event.actor.type.replaceAll("_", " "), event.actor.id].filter(Boolean).join(" ");
  }

  return (
    <section className="card" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Events</h2>
      <p className="muted">Every change in this account, newest first. Times are in your timezone.</p>

      <search className="filters" aria-label="Filter events">
        <div className="filters-grid filters-grid-open">
          <TextField
            label="Action"
            name="action"
            placeholder="e.g. member.*"
            value={filters.action}
            onValueChange={(value) => update({ action: value })}
            hint="Exact, or a prefix ending in .*"
            error={
              actionValid ? undefined : "Use an action like member.role_changed, or a prefix like member.*"
            }
            spellCheck={false}
            autoCapitalize="none"
            autoComplete="off"
          />
          {canReadMembers ? (
            <SelectField
              label="Actor"
              name="actor_id"
              value={filters.actor_id}
              onValueChange={(value) => update({ actor_id: value })}
              options={[
                { value: "", label: "Anyone" },
                ...members.map((member) => ({
                  value: member.user_id as string,
                  label:
                    memberName(member) === member.email
                      ? member.email
                      : `${memberName(member)} (${member.email})`,
                })),
              ]}
            />
          ) : (
            <TextField
              label="Actor ID"
              name="actor_id"
              placeholder="usr_…"
              value={filters.actor_id}
              onValueChange={(value) => update({ actor_id: value.trim() })}
              spellCheck={false}
            />
          )}
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
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">IP address</th>
              <th scope="col">
                <span className="visually-hidden">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {events.items.map((event) => {
              const target = describeTarget(event);
              const open = expanded.includes(event.id);
              return (
                <Fragment key={event.id}>
                  <tr data-testid="audit-row" data-action={event.action} data-event-id={event.id}>
                    <td data-label="Time" className="cell-primary cell-time">
                      <time dateTime={event.created_at}>{formatDate(event.created_at)}</time>
                    </td>
                    <td data-label="Actor" className="cell-actor">
                      {event.actor?.email ? <EmailText email={event.actor.email} /> : actorLabel(event)}
                    </td>
                    <td data-label="Action" className="cell-action">
                      <code>{event.action}</code>
                    </td>
                    <td data-label="Target" className="cell-target">
                      {target.name ? <span className="target-name">{target.name}</span> : null}
                      <span className="target-ref" title={target.ref}>
                        {target.ref}
                      </span>
                    </td>
                    <td data-label="IP address">
                      <code>{event.ip ?? "—"}</code>
                    </td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-ghost button-small"
                        aria-expanded={open}
                        aria-controls={`event-${event.id}`}
                        onClick={() => toggle(event.id)}
                      >
                        {open ? "Hide" : "Details"}
                        <span className="visually-hidden">
                          {" "}
                          of {event.action} at {formatDate(event.created_at)}
                        </span>
                      </button>
                    </td>
                  </tr>
                  {open ? (
                    <tr id={`event-${event.id}`} className="event-details-row">
                      <td colSpan={6}>
                        <dl className="event-meta">
                          {event.changes !== null && event.changes !== undefined ? (
                            <div>
                              <dt>Changes</dt>
                              <dd>
                                <pre>{JSON.stringify(event.changes, null, 2)}</pre>
                              </dd>
                            </div>
                          ) : null}
                          <div>
                            <dt>Target</dt>
                            <dd>
                              <code>
                                {[event.target?.type, event.target?.id].filter(Boolean).join(" ") || "—"}
                              </code>
                            </dd>
                          </div>
                          <div>
                            <dt>Browser</dt>
                            <dd className="break">{event.user_agent ?? "—"}</dd>
                          </div>
                          <div>
                            <dt>Request ID</dt>
                            <dd>
                              <code>{event.request_id ?? "—"}</code>
                            </dd>
                          </div>
                        </dl>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={events} />
    </section>
  );
}
