import { useId, useMemo, useState } from "react";
import { ApiError, withQuery } from "../../api";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { explainItemError, type Notice } from "../../error-messages";
import type {
  BulkDeleteResult,
  Member,
  MemberCounts,
  MemberSort,
  MembersPage,
  RoleRef,
  Team,
} from "../../types";
import { MEMBER_SORTS } from "../../types";
import { useApi } from "../../use-api";
import { useDebouncedValue } from "../../use-debounced-value";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { usePreferences } from "../../use-preferences";
import { useSessionInfo } from "../../use-session";
import { memberName, rolesSeenOn, useAccountPath, useRoles, useTeams } from "./account-data";
import { InvitationsCard } from "./invitations-card";
import { InviteDialog } from "./invite-dialog";
import { MemberActions } from "./member-actions";
import { isAtSeatLimit, SeatLimitPrompt, SeatUsage, useSeats } from "./seat-usage";

type Filters = {
  q: string;
  status: "" | "active" | "suspended" | "pending";
  role_id: string;
  team_id: string;
  inactive_days: string;
  sort: MemberSort;
  order: "asc" | "desc";
};

const SORT_LABELS: Record<MemberSort, string> = {
  name: "Name",
  email: "Email",
  last_login_at: "Last login",
  joined_at: "Joined",
};

export function UsersTab() {
  const api = useApi();
  const base = useAccountPath();
  const { can } = usePermissions();
  const { preferences } = usePreferences();
  const pageSize = preferences?.default_list_filters.page_size ?? 50;
  const [filters, setFilters] = useState<Filters>(() => {
    const status = preferences?.default_list_filters.status ?? "all";
    return {
      q: "",
      status: status === "all" ? "" : status,
      role_id: "",
      team_id: "",
      inactive_days: "",
      sort: "name",
      order: "asc",
    };
  });
  const q = useDebouncedValue(filters.q.trim(), 300);
  const inactiveDays = /^\d+$/.test(filters.inactive_days) ? filters.inactive_days : "";
  const listPath = withQuery(`${base}/members`, {
    q,
    status: filters.status,
    role_id: filters.role_id,
    team_id: filters.team_id,
    inactive_days: inactiveDays,
    sort: filters.sort,
    order: filters.order,
  });
  const members = usePagedList<Member, MembersPage>(listPath, pageSize);
  const roles = useRoles();
  const teams = useTeams();
  const seats = useSeats();
  const [invitationsVersion, setInvitationsVersion] = useState(0);
  const [inviting, setInviting] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [selectionPath, setSelectionPath] = useState(listPath);
  const [bulkConfirm, setBulkConfirm] = useState(false);
  const [bulkResults, setBulkResults] = useState<Array<BulkDeleteResult & { email: string }> | null>(null);
  const [bulkAtomic, setBulkAtomic] = useState(false);

  // A different filter shows different rows: drop a selection the user can no longer see.
  if (selectionPath !== listPath) {
    setSelectionPath(listPath);
    setSelected([]);
  }

  const roleOptions: RoleRef[] = roles.data?.data ?? rolesSeenOn(members.items);
  const teamList: Team[] = teams.data?.data ?? [];
  const teamNames = useMemo(() => new Map(teamList.map((team) => [team.id, team.name])), [teamList]);
  const selectable = members.items.filter((member) => member.status !== "pending" && member.user_id);
  const canBulkDelete = can("members:delete");

  function update(patch: Partial<Filters>) {
    setFilters((current) => ({ ...current, ...patch }));
  }

  function refreshAll() {
    members.reload();
    seats.reload();
    setInvitationsVersion((version) => version + 1);
  }

  async function bulkRemove() {
    const emailOf = new Map(members.items.map((member) => [member.user_id, member.email]));
    const withEmail = (result: BulkDeleteResult) => ({
      ...result,
      email: emailOf.get(result.user_id) ?? result.user_id,
    });
    const userIds = [...new Set(selected)];
    setBulkResults(null);
    setNotice(null);
    let answer: { data: BulkDeleteResult[] };
    try {
      answer = await api.post<{ data: BulkDeleteResult[] }>(`${base}/members/bulk-delete`, {
        user_ids: userIds,
      });
    } catch (caught) {
      const refusals = bulkRefusals(caught, userIds);
      if (refusals.length === 0) throw caught;
      // All or nothing: nobody was removed. The selection stays, to untick the refused and retry.
      setBulkResults(refusals.map(withEmail));
      setBulkAtomic(true);
      return;
    }
    const results = answer.data.map(withEmail);
    const removed = results.filter((result) => !result.error).length;
    setBulkResults(results);
    setBulkAtomic(false);
    setNotice(
      removed > 0 ? { tone: "success", text: `Removed ${removed} member${removed === 1 ? "" : "s"}.` } : null,
    );
    setSelected(results.filter((result) => result.error).map((result) => result.user_id));
    members.reload();
    seats.reload();
  }

  const counts: MemberCounts | undefined = members.head?.counts;
  const failures = bulkResults?.filter((result) => result.error) ?? [];

  return (
    <div className="stack">
      <section className="card" aria-labelledby="members-heading">
        <div className="card-header">
          <h2 id="members-heading">Members</h2>
          {can("members:invite") && seats.data && isAtSeatLimit(seats.data) ? (
            <SeatLimitPrompt seats={seats.data} />
          ) : can("members:invite") ? (
            <button
              type="button"
              className="button button-small"
              onClick={() => setInviting(true)}
              data-testid="invite-open"
            >
              Invite people
            </button>
          ) : null}
        </div>

        <SeatUsage seats={seats.data} />
        <MemberCountsRow counts={counts} />

        <MemberFilters
          filters={filters}
          onChange={update}
          roles={roleOptions}
          teams={teamList}
          inactiveDaysInvalid={filters.inactive_days !== "" && inactiveDays === ""}
        />

        {notice ? (
          <FormAlert tone={notice.tone} testId="action-notice" code={notice.code}>
            {notice.text}
          </FormAlert>
        ) : null}
        {failures.length > 0 ? (
          <FormAlert testId="bulk-errors">
            <p>
              {bulkAtomic
                ? "Nobody was removed, because some of the selected members can't be. Untick them and try again:"
                : `${failures.length === 1 ? "One member was" : `${failures.length} members were`} not removed:`}
            </p>
            <ul className="result-list">
              {failures.map((result) => (
                <li
                  key={result.user_id}
                  data-testid="bulk-result"
                  data-email={result.email}
                  data-ok="false"
                  data-code={result.error?.code}
                >
                  <span>
                    <strong className="break">{result.email}</strong>:{" "}
                    {result.error ? explainItemError(result.error) : null}
                  </span>
                </li>
              ))}
            </ul>
          </FormAlert>
        ) : null}
        {members.error ? <FormAlert>{members.error}</FormAlert> : null}

        {canBulkDelete && selected.length > 0 ? (
          <section className="bulk-bar" aria-label="Selected members">
            <span>{selected.length} selected</span>
            <button
              type="button"
              className="button button-danger button-small"
              onClick={() => setBulkConfirm(true)}
              data-testid="bulk-remove"
            >
              Remove selected
            </button>
            <button
              type="button"
              className="button button-ghost button-small"
              onClick={() => setSelected([])}
            >
              Clear selection
            </button>
          </section>
        ) : null}

        {members.status === "loading" ? (
          <p role="status" className="muted">
            Loading members…
          </p>
        ) : members.items.length === 0 && members.status === "ready" ? (
          <p className="muted" data-testid="members-empty">
            No members match these filters.
          </p>
        ) : members.items.length > 0 ? (
          <MembersTable
            members={members.items}
            teamNames={teamNames}
            selectable={canBulkDelete ? selectable : null}
            selected={selected}
            onSelectedChange={setSelected}
            roles={roleOptions}
            onNotice={setNotice}
            onChanged={refreshAll}
          />
        ) : null}

        {members.hasMore ? (
          <div className="actions list-more">
            <button
              type="button"
              className="button button-secondary"
              onClick={members.loadMore}
              disabled={members.loadingMore}
              data-testid="load-more"
            >
              {members.loadingMore ? "Loading…" : "Load more"}
            </button>
          </div>
        ) : null}
      </section>

      <InvitationsCard
        key={invitationsVersion}
        onChanged={() => {
          members.reload();
          seats.reload();
        }}
      />

      {inviting ? (
        <InviteDialog
          roles={roleOptions}
          teams={teamList}
          onClose={() => {
            setInviting(false);
            // A refused invitation may mean someone else took the last seat meanwhile.
            seats.reload();
          }}
          onInvited={refreshAll}
        />
      ) : null}
      {bulkConfirm ? (
        <ConfirmDialog
          title={`Remove ${selected.length} member${selected.length === 1 ? "" : "s"}?`}
          confirmLabel="Remove"
          busyLabel="Removing…"
          danger
          onConfirm={bulkRemove}
          onClose={() => setBulkConfirm(false)}
        >
          <p>
            They lose access to this account at once and their sessions here end. Their Gatehouse user and
            other accounts are not affected.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** `counts.active` already includes pending invitations (they hold a seat); it is shown as is. */
function MemberCountsRow({ counts }: { counts: MemberCounts | undefined }) {
  if (!counts) return null;
  return (
    <dl className="stats" aria-label="Member counts">
      <div className="stat">
        <dt>Active</dt>
        <dd>
          <span className="stat-value" data-testid="counts-active" data-count={counts.active}>
            {counts.active}
          </span>
          <span className="stat-note">
            incl. {counts.pending} invitation{counts.pending === 1 ? "" : "s"} pending
          </span>
        </dd>
      </div>
      <div className="stat">
        <dt>Suspended</dt>
        <dd>
          <span className="stat-value" data-testid="counts-suspended" data-count={counts.suspended}>
            {counts.suspended}
          </span>
        </dd>
      </div>
    </dl>
  );
}

function MemberFilters({
  filters,
  onChange,
  roles,
  teams,
  inactiveDaysInvalid,
}: {
  filters: Filters;
  onChange: (patch: Partial<Filters>) => void;
  roles: readonly RoleRef[];
  teams: readonly Team[];
  inactiveDaysInvalid: boolean;
}) {
  const [open, setOpen] = useState(false);
  const filtersId = useId();
  const active = [filters.status, filters.role_id, filters.team_id, filters.inactive_days].filter(
    Boolean,
  ).length;

  return (
    <search className="filters" aria-label="Filter members">
      <div className="filters-main">
        <TextField
          label="Search"
          name="q"
          type="search"
          placeholder="Name or email"
          value={filters.q}
          onValueChange={(q) => onChange({ q })}
          autoComplete="off"
        />
        <button
          type="button"
          className="button button-secondary filters-toggle"
          aria-expanded={open}
          aria-controls={filtersId}
          onClick={() => setOpen((current) => !current)}
        >
          Filters{active > 0 ? ` (${active})` : ""}
        </button>
      </div>
      <div id={filtersId} className="filters-grid" data-open={open ? "true" : "false"}>
        <SelectField
          label="Status"
          name="status"
          value={filters.status}
          onValueChange={(status) => onChange({ status: status as Filters["status"] })}
          options={[
            { value: "", label: "All" },
            { value: "active", label: "Active" },
            { value: "suspended", label: "Suspended" },
            { value: "pending", label: "Invitation pending" },
          ]}
        />
        <SelectField
          label="Role"
          name="filter_role_id"
          value={filters.role_id}
          onValueChange={(role_id) => onChange({ role_id })}
          options={[
            { value: "", label: "Any role" },
            ...roles.map((role) => ({ value: role.id, label: role.name })),
          ]}
        />
        {teams.length > 0 ? (
          <SelectField
            label="Team"
            name="filter_team_id"
            value={filters.team_id}
            onValueChange={(team_id) => onChange({ team_id })}
            options={[
              { value: "", label: "Any team" },
              ...teams.map((team) => ({ value: team.id, label: team.name })),
            ]}
          />
        ) : null}
        <TextField
          label="No login for (days)"
          name="inactive_days"
          type="text"
          inputMode="numeric"
          placeholder="Any"
          value={filters.inactive_days}
          onValueChange={(inactive_days) => onChange({ inactive_days: inactive_days.trim() })}
          error={inactiveDaysInvalid ? "Enter a whole number of days." : undefined}
          hint="Includes people who never logged in."
        />
        <SelectField
          label="Sort by"
          name="sort"
          value={filters.sort}
          onValueChange={(sort) => onChange({ sort: sort as MemberSort })}
          options={MEMBER_SORTS.map((value) => ({ value, label: SORT_LABELS[value] }))}
        />
        <SelectField
          label="Order"
          name="order"
          value={filters.order}
          onValueChange={(order) => onChange({ order: order as Filters["order"] })}
          options={[
            { value: "asc", label: "Ascending" },
            { value: "desc", label: "Descending" },
          ]}
        />
      </div>
    </search>
  );
}

export function StatusBadge({ status }: { status: Member["status"] }) {
  if (status === "pending") return <span className="badge badge-warning">Invitation pending</span>;
  if (status === "suspended") return <span className="badge badge-danger">Suspended</span>;
  return <span className="badge badge-success">Active</span>;
}

function MembersTable({
  members,
  teamNames,
  selectable,
  selected,
  onSelectedChange,
  roles,
  onNotice,
  onChanged,
}: {
  members: readonly Member[];
  teamNames: ReadonlyMap<string, string>;
  /** Rows that can be ticked for bulk removal; null hides the checkboxes (no members:delete). */
  selectable: readonly Member[] | null;
  selected: readonly string[];
  onSelectedChange: (next: string[]) => void;
  roles: readonly RoleRef[];
  onNotice: (notice: Notice | null) => void;
  onChanged: () => void;
}) {
  const { user } = useSessionInfo();
  const formatDate = useFormatDate();
  const selectableIds = (selectable ?? []).map((member) => member.user_id as string);
  const allSelected = selectableIds.length > 0 && selectableIds.every((id) => selected.includes(id));

  function toggle(userId: string, checked: boolean) {
    onSelectedChange(checked ? [...selected, userId] : selected.filter((id) => id !== userId));
  }

  return (
    <table className="table responsive-table members-table">
      <thead>
        <tr>
          {selectable ? (
            <th scope="col" className="cell-check">
              <input
                type="checkbox"
                aria-label="Select all members shown"
                checked={allSelected}
                disabled={selectableIds.length === 0}
                onChange={(event) => onSelectedChange(event.target.checked ? selectableIds : [])}
              />
            </th>
          ) : null}
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Teams</th>
          <th scope="col">Status</th>
          <th scope="col">Last login</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {members.map((member) => {
          const name = memberName(member);
          const isSelf = member.user_id === user.id;
          const teams = member.team_ids.map((id) => teamNames.get(id)).filter(Boolean);
          return (
            <tr
              key={member.user_id ?? `invitation-${member.invitation_id ?? member.email}`}
              data-testid="member-row"
              data-email={member.email}
              data-status={member.status}
              data-user-id={member.user_id ?? undefined}
            >
              {selectable ? (
                <td className="cell-check">
                  {member.user_id && member.status !== "pending" ? (
                    <input
                      type="checkbox"
                      aria-label={`Select ${name}`}
                      checked={selected.includes(member.user_id)}
                      onChange={(event) => toggle(member.user_id as string, event.target.checked)}
                      data-testid="member-select"
                    />
                  ) : null}
                </td>
              ) : null}
              <td data-label="Name" className="cell-primary">
                <span className="member-name">
                  {name}
                  {isSelf ? <span className="badge badge-you">You</span> : null}
                </span>
                {name !== member.email ? <span className="member-email break">{member.email}</span> : null}
              </td>
              <td data-label="Role">{member.role.name}</td>
              <td data-label="Teams">
                {teams.length > 0
                  ? teams.join(", ")
                  : member.team_ids.length > 0
                    ? `${member.team_ids.length} team${member.team_ids.length === 1 ? "" : "s"}`
                    : "—"}
              </td>
              <td data-label="Status">
                <StatusBadge status={member.status} />
              </td>
              <td data-label="Last login">
                {member.status === "pending"
                  ? "—"
                  : member.last_login_at
                    ? formatDate(member.last_login_at)
                    : "Never"}
              </td>
              <td className="cell-actions">
                <MemberActions member={member} roles={roles} onNotice={onNotice} onChanged={onChanged} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * The per-member refusals of an all-or-nothing bulk removal (409 with `errors[].path` = `user_ids.N`).
 * The contract describes partial success instead; both are handled.
 */
function bulkRefusals(error: unknown, userIds: readonly string[]): BulkDeleteResult[] {
  if (!(error instanceof ApiError)) return [];
  return error.errors.flatMap((entry) => {
    const index = /user_ids[./](\d+)/.exec(entry.path)?.[1];
    const userId = index === undefined ? undefined : userIds[Number(index)];
    if (!userId) return [];
    // The message starts with the user id ("usr_…: reason"); the email shown instead says who.
    const detail = entry.message.replace(/^usr_[\w-]+:\s*/, "");
    return [{ user_id: userId, error: { code: entry.code, detail } }];
  });
}
