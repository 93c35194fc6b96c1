import { Fragment, useMemo, useState } from "react";
import { ApiError, withQuery } from "../../api";
import { Avatar } from "../../components/avatar";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { EmailText } from "../../components/email-text";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { ToolbarSearch, ToolbarSelect } from "../../components/toolbar";
import { explainItemError, type Notice } from "../../error-messages";
import { Link } from "../../router";
import { settingsItemPath } from "../../settings-nav";
import type {
  BulkDeleteResult,
  Member,
  MemberCounts,
  MemberSort,
  MembersPage,
  RoleRef,
  Team,
} from "../../types";
import { useApi } from "../../use-api";
import { useDebouncedValue } from "../../use-debounced-value";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { usePreferences } from "../../use-preferences";
import { useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { memberName, rolesSeenOn, useAccountPath, useRoles, useTeams } from "./account-data";
import { InviteDialog } from "./invite-dialog";
import { MemberActions } from "./member-actions";
import { MemberDetail } from "./member-detail";
import type { SettingsPageProps } from "./pages";
import { isAtSeatLimit, SeatLimitPrompt, SeatUsage, useSeats } from "./seat-usage";

type Filters = {
  q: string;
  status: "" | "active" | "suspended" | "deactivated" | "pending";
  role_id: string;
  team_id: string;
  mfa: "" | "enabled" | "disabled";
  /** Whole days without a log-in to this account (or never), one of INACTIVE_CHOICES; "" for any. */
  inactive_days: string;
  sort: MemberSort;
  order: "asc" | "desc";
};

const SORT_CHOICES: ReadonlyArray<{ sort: MemberSort; order: "asc" | "desc"; label: string }> = [
  { sort: "name", order: "asc", label: "Name A–Z" },
  { sort: "name", order: "desc", label: "Name Z–A" },
  { sort: "email", order: "asc", label: "Email A–Z" },
  { sort: "email", order: "desc", label: "Email Z–A" },
  { sort: "last_login_at", order: "desc", label: "Latest login" },
  { sort: "last_login_at", order: "asc", label: "Earliest login" },
  { sort: "joined_at", order: "desc", label: "Newest members" },
  { sort: "joined_at", order: "asc", label: "Oldest members" },
];

const INACTIVE_CHOICES = ["7", "30", "90", "180", "365"] as const;

const NO_FILTERS = { q: "", status: "", role_id: "", team_id: "", mfa: "", inactive_days: "" } as const;

/** `/settings/members`: the list; `/settings/members/{user_id}`: one member's page. */
export function UsersTab({ itemId = null }: SettingsPageProps) {
  if (itemId !== null) return <MemberDetail userId={itemId} />;
  return <MembersList />;
}

function MembersList() {
  const api = useApi();
  const toast = useToast();
  const base = useAccountPath();
  const { can } = usePermissions();
  const { user } = useSessionInfo();
  const { preferences } = usePreferences();
  const pageSize = preferences?.default_list_filters.page_size ?? 50;
  const [filters, setFilters] = useState<Filters>(() => {
    const status = preferences?.default_list_filters.status ?? "all";
    return { ...NO_FILTERS, status: status === "all" ? "" : status, sort: "name", order: "asc" };
  });
  const q = useDebouncedValue(filters.q.trim(), 300);
  const listPath = withQuery(`${base}/members`, {
    q,
    status: filters.status,
    role_id: filters.role_id,
    team_id: filters.team_id,
    mfa: filters.mfa,
    inactive_days: filters.inactive_days,
    sort: filters.sort,
    order: filters.order,
  });
  const members = usePagedList<Member, MembersPage>(listPath, pageSize);
  const roles = useRoles();
  const teams = useTeams();
  const seats = useSeats();
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
  // Nobody removes themselves (the server refuses it), so your own row has no checkbox.
  const selectable = members.items.filter(
    (member) => member.status !== "pending" && member.user_id && member.user_id !== user.id,
  );
  const canBulkDelete = can("members:delete");

  function update(patch: Partial<Filters>) {
    setFilters((current) => ({ ...current, ...patch }));
  }

  function refreshAll() {
    members.reload();
    seats.reload();
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
    if (removed > 0) toast.show({ text: `Removed ${removed} member${removed === 1 ? "" : "s"}.` });
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
          <h2 id="members-heading">People and invitations</h2>
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
        <div className="members-summary">
          <MemberCountsLine counts={counts} />
          <ToolbarSelect
            label="Sort by"
            name="sort"
            value={`${filters.sort}:${filters.order}`}
            onChange={(value) => {
              const choice = SORT_CHOICES.find((option) => `${option.sort}:${option.order}` === value);
              if (choice) update({ sort: choice.sort, order: choice.order });
            }}
            options={SORT_CHOICES.map((option) => ({
              value: `${option.sort}:${option.order}`,
              label: `Sort: ${option.label}`,
            }))}
          />
        </div>

        <MemberFilters
          filters={filters}
          onChange={update}
          onClear={() => update(NO_FILTERS)}
          roles={roleOptions}
          teams={teamList}
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
                    <strong>
                      <EmailText email={result.email} />
                    </strong>
                    : {result.error ? explainItemError(result.error) : null}
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
          <LoadingBlock label="Loading members…" table={{ columns: 5, rows: 4 }} />
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

        <LoadMore list={members} />
      </section>

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
          confirmLabel={`Remove ${selected.length} member${selected.length === 1 ? "" : "s"}`}
          busyLabel="Removing…"
          danger
          onConfirm={bulkRemove}
          onClose={() => setBulkConfirm(false)}
        >
          <p>
            They lose access to this account at once and their sessions here end. Their Gatehouse user and
            other accounts are not affected. To bring someone back, invite them again.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** One part of the counts line: hidden when zero, except the active members. */
const COUNTS: ReadonlyArray<{
  key: keyof MemberCounts;
  text: (n: number) => string;
  title?: string;
  always?: boolean;
}> = [
  { key: "active", text: (n) => `${n} active member${n === 1 ? "" : "s"}`, always: true },
  { key: "suspended", text: (n) => `${n} suspended` },
  {
    key: "deactivated",
    text: (n) => `${n} deactivated`,
    title: "They turned their own login off; only they can turn it back on",
  },
  { key: "pending", text: (n) => `${n} invitation${n === 1 ? "" : "s"} pending` },
];

/**
 * What the account holds, in words: "12 active members · 2 suspended · 3 invitations pending".
 * Active means active members only (the seat count's `active`); every status holds a seat.
 */
function MemberCountsLine({ counts }: { counts: MemberCounts | undefined }) {
  if (!counts) return null;
  const shown = COUNTS.filter(({ key, always }) => always || counts[key] > 0);
  return (
    <p className="member-counts" data-testid="member-counts">
      {shown.map(({ key, text, title }, index) => (
        <Fragment key={key}>
          {index > 0 ? <span aria-hidden="true">{" · "}</span> : null}
          <span className="member-count" data-testid={`counts-${key}`} data-count={counts[key]} title={title}>
            {text(counts[key])}
          </span>
        </Fragment>
      ))}
    </p>
  );
}

/** Search and filters in one toolbar row above the table (it wraps on narrow screens). */
function MemberFilters({
  filters,
  onChange,
  onClear,
  roles,
  teams,
}: {
  filters: Filters;
  onChange: (patch: Partial<Filters>) => void;
  onClear: () => void;
  roles: readonly RoleRef[];
  teams: readonly Team[];
}) {
  const filtered = (Object.keys(NO_FILTERS) as Array<keyof typeof NO_FILTERS>).some(
    (key) => filters[key] !== "",
  );

  return (
    <search className="toolbar" aria-label="Filter members">
      <ToolbarSearch label="Search members" value={filters.q} onChange={(q) => onChange({ q })} />
      <ToolbarSelect
        label="Status"
        name="status"
        value={filters.status}
        onChange={(status) => onChange({ status: status as Filters["status"] })}
        options={[
          { value: "", label: "Any status" },
          { value: "active", label: "Active" },
          { value: "suspended", label: "Suspended" },
          { value: "deactivated", label: "Deactivated" },
          { value: "pending", label: "Pending" },
        ]}
      />
      <ToolbarSelect
        label="Role"
        name="filter_role_id"
        value={filters.role_id}
        onChange={(role_id) => onChange({ role_id })}
        options={[
          { value: "", label: "Any role" },
          ...roles.map((role) => ({ value: role.id, label: role.name })),
        ]}
      />
      {teams.length > 0 ? (
        <ToolbarSelect
          label="Team"
          name="filter_team_id"
          value={filters.team_id}
          onChange={(team_id) => onChange({ team_id })}
          options={[
            { value: "", label: "Any team" },
            ...teams.map((team) => ({ value: team.id, label: team.name })),
          ]}
        />
      ) : null}
      <ToolbarSelect
        label="Two-factor authentication"
        name="mfa"
        value={filters.mfa}
        onChange={(mfa) => onChange({ mfa: mfa as Filters["mfa"] })}
        options={[
          { value: "", label: "Any 2FA" },
          { value: "enabled", label: "2FA on" },
          { value: "disabled", label: "2FA off" },
        ]}
      />
      <ToolbarSelect
        label="Last login"
        name="inactive_days"
        value={filters.inactive_days}
        onChange={(inactive_days) => onChange({ inactive_days })}
        options={[
          { value: "", label: "Any last login" },
          // The API counts people who never logged in as inactive too.
          ...INACTIVE_CHOICES.map((days) => ({
            value: days,
            label: days === "365" ? "No login in a year" : `No login in ${days} days`,
          })),
        ]}
      />
      {filtered ? (
        <button type="button" className="button button-ghost button-small" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </search>
  );
}

export function StatusBadge({ status }: { status: Member["status"] }) {
  if (status === "pending") return <span className="badge badge-warning">Invitation pending</span>;
  if (status === "suspended") return <span className="badge badge-danger">Suspended</span>;
  if (status === "deactivated")
    return (
      <span className="badge" title="They turned their own login off; only they can turn it back on">
        Deactivated
      </span>
    );
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
  const selectableIds = new Set((selectable ?? []).map((member) => member.user_id as string));
  const allSelected = selectableIds.size > 0 && [...selectableIds].every((id) => selected.includes(id));

  function toggle(userId: string, checked: boolean) {
    onSelectedChange(checked ? [...selected, userId] : selected.filter((id) => id !== userId));
  }

  // The table keeps readable columns and scrolls sideways inside its frame rather than squashing them.
  return (
    <div className="table-scroll">
      <table className="table responsive-table members-table">
        <thead>
          <tr>
            {selectable ? (
              <th scope="col" className="cell-check">
                <input
                  type="checkbox"
                  aria-label="Select all members shown"
                  checked={allSelected}
                  disabled={selectableIds.size === 0}
                  onChange={(event) => onSelectedChange(event.target.checked ? [...selectableIds] : [])}
                />
              </th>
            ) : null}
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Teams</th>
            <th scope="col">Status</th>
            <th scope="col">
              <abbr title="Two-factor authentication">2FA</abbr>
            </th>
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
                data-self={isSelf ? "true" : undefined}
              >
                {selectable ? (
                  <td className="cell-check">
                    {member.user_id && selectableIds.has(member.user_id) ? (
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
                  <span className="member-identity">
                    <Avatar
                      name={name}
                      url={member.avatar_url}
                      colourKey={member.user_id ?? member.email}
                      size="small"
                      testId="member-avatar"
                    />
                    <span className="member-identity-text">
                      <span className="member-name">
                        {member.user_id && member.status !== "pending" ? (
                          <Link
                            to={settingsItemPath("members", member.user_id)}
                            className="member-link"
                            data-testid="member-link"
                          >
                            {name === member.email ? <EmailText email={name} /> : name}
                          </Link>
                        ) : name === member.email ? (
                          <EmailText email={name} />
                        ) : (
                          name
                        )}
                        {isSelf ? <span className="badge badge-you">You</span> : null}
                      </span>
                      {name !== member.email ? (
                        <EmailText email={member.email} className="member-email" />
                      ) : null}
                    </span>
                  </span>
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
                <td data-label="2FA">
                  <MfaBadge member={member} />
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
    </div>
  );
}

/** On or off for a member; an invitation has no login of its own yet. */
function MfaBadge({ member }: { member: Member }) {
  if (member.status === "pending") return <span className="muted">—</span>;
  return member.mfa_enabled ? (
    <span className="badge badge-success" data-testid="member-mfa" data-enabled="true">
      On
    </span>
  ) : (
    <span className="muted" data-testid="member-mfa" data-enabled="false">
      Off
    </span>
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
