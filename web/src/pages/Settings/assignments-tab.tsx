import { useId, useState } from "react";
import { withQuery } from "../../api";
import {
  type Assignment,
  type AssignmentsPage,
  assignmentName,
  type BulkRoleResult,
  bulkRoleSummary,
} from "../../assignments";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { ToolbarSearch, ToolbarSelect } from "../../components/toolbar";
import { explainItemError } from "../../error-messages";
import { settingsItemPath } from "../../settings-nav";
import type { PermissionInfo, RoleRef } from "../../types";
import { useDebouncedValue } from "../../use-debounced-value";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { useAccountPath } from "./account-data";
import { BulkRoleDialog } from "./assignments-bulk-dialog";
import { AssignmentsTable } from "./assignments-table";
import type { SettingsPageProps } from "./pages";
import "./assignments.css";

type Filters = { q: string; role_id: string; team_id: string; permission: string; only_holders: boolean };
const NO_FILTERS: Filters = { q: "", role_id: "", team_id: "", permission: "", only_holders: false };

type Outcome = { roleName: string; results: Array<BulkRoleResult & { name: string }> };

/** User assignments: members × their role and teams, and where a chosen permission comes from. */
export function AssignmentsTab(_props: SettingsPageProps) {
  const base = useAccountPath();
  const { can } = usePermissions();
  const { user, account_id } = useSessionInfo();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const q = useDebouncedValue(filters.q.trim(), 300);
  const listPath = withQuery(`${base}/assignments`, {
    q,
    role_id: filters.role_id,
    team_id: filters.team_id,
    permission: filters.permission && filters.only_holders ? filters.permission : "",
  });
  const list = usePagedList<Assignment, AssignmentsPage>(listPath, 50);
  const catalog = useResource<{ data: PermissionInfo[] }>(withQuery("/permissions", { account_id }));
  const [selected, setSelected] = useState<string[]>([]);
  const [selectionPath, setSelectionPath] = useState(listPath);
  const [changing, setChanging] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  // Other filters show other rows: drop a selection the user can no longer see.
  if (selectionPath !== listPath) {
    setSelectionPath(listPath);
    setSelected([]);
  }

  const roles: RoleRef[] = list.head?.roles ?? [];
  const teams = list.head?.teams ?? [];
  const canChange = can("members:update_role");
  // The server refuses a change to your own role, so your own row has no checkbox.
  const selectable = list.items.filter((member) => member.user_id !== user.id);
  const update = (patch: Partial<Filters>) => setFilters((current) => ({ ...current, ...patch }));
  const names = new Map(list.items.map((member) => [member.user_id, assignmentName(member)]));
  const refused = outcome?.results.filter((r) => r.error) ?? [];

  return (
    <div className="stack">
      <section className="card" aria-labelledby="assignments-heading">
        <div className="card-header">
          <h2 id="assignments-heading">Roles, teams and permissions</h2>
        </div>
        <p className="muted">
          A member holds the permissions of their own role plus those of the role each of their teams gives.
          Choose a permission to see who has it and where it comes from.
        </p>

        <AssignmentFilters
          filters={filters}
          onChange={update}
          onClear={() => setFilters(NO_FILTERS)}
          roles={roles}
          teams={teams}
          permissions={catalog.data?.data ?? []}
        />

        {outcome ? (
          <FormAlert tone={refused.length ? "error" : "success"} testId="bulk-role-outcome">
            <p>{bulkRoleSummary(outcome.results, outcome.roleName)}</p>
            <ul className="result-list">
              {outcome.results.map((result) => (
                <li
                  key={result.user_id}
                  data-testid="bulk-role-result"
                  data-ok={result.error ? "false" : "true"}
                  data-code={result.error?.code}
                >
                  <span
                    className={`result-icon ${result.error ? "result-fail" : "result-ok"}`}
                    aria-hidden="true"
                  >
                    {result.error ? "✕" : "✓"}
                  </span>
                  <span>
                    <strong>{result.name}</strong>:{" "}
                    {result.error ? explainItemError(result.error) : `now ${outcome.roleName}`}
                  </span>
                </li>
              ))}
            </ul>
          </FormAlert>
        ) : null}
        {list.error ? <FormAlert>{list.error}</FormAlert> : null}

        {canChange && selected.length > 0 ? (
          <section className="bulk-bar" aria-label="Selected members">
            <span>{selected.length} selected</span>
            <button
              type="button"
              className="button button-small"
              onClick={() => setChanging(true)}
              data-testid="bulk-role-open"
            >
              Change role…
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

        {list.status === "loading" ? (
          <LoadingBlock label="Loading assignments…" table={{ columns: 4, rows: 4 }} />
        ) : list.items.length === 0 && list.status === "ready" ? (
          <p className="muted" data-testid="assignments-empty">
            No members match these filters.
          </p>
        ) : list.items.length > 0 ? (
          <AssignmentsTable
            members={list.items}
            teams={teams}
            permission={filters.permission || null}
            selectable={canChange ? selectable : null}
            selected={selected}
            onSelectedChange={setSelected}
            memberPath={(userId) => settingsItemPath("members", userId)}
          />
        ) : null}
        <LoadMore list={list} />
      </section>

      {changing ? (
        <BulkRoleDialog
          count={selected.length}
          roles={roles}
          onClose={() => setChanging(false)}
          path={`${base}/members/bulk-role`}
          userIds={selected}
          onDone={(role, results) => {
            setChanging(false);
            setOutcome({
              roleName: role.name,
              results: results.map((r) => ({ ...r, name: names.get(r.user_id) ?? r.user_id })),
            });
            // Those refused stay ticked, to try again with another role.
            setSelected(results.filter((r) => r.error).map((r) => r.user_id));
            list.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function AssignmentFilters({
  filters,
  onChange,
  onClear,
  roles,
  teams,
  permissions,
}: {
  filters: Filters;
  onChange: (patch: Partial<Filters>) => void;
  onClear: () => void;
  roles: readonly RoleRef[];
  teams: ReadonlyArray<{ id: string; name: string }>;
  permissions: readonly PermissionInfo[];
}) {
  const onlyId = useId();
  const filtered =
    filters.q !== "" || filters.role_id !== "" || filters.team_id !== "" || filters.permission !== "";
  return (
    <search className="toolbar" aria-label="Filter assignments">
      <ToolbarSearch label="Search members" value={filters.q} onChange={(q) => onChange({ q })} />
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
        label="Permission"
        name="permission"
        value={filters.permission}
        onChange={(permission) => onChange({ permission })}
        options={[
          { value: "", label: "Show a permission…" },
          ...permissions.map((p) => ({ value: p.key, label: `${p.key} — ${p.description}` })),
        ]}
      />
      {filters.permission ? (
        <div className="toolbar-field assignments-only">
          <input
            id={onlyId}
            type="checkbox"
            name="only_holders"
            checked={filters.only_holders}
            onChange={(event) => onChange({ only_holders: event.target.checked })}
          />
          <label htmlFor={onlyId}>Only members who have it</label>
        </div>
      ) : null}
      {filtered ? (
        <button type="button" className="button button-ghost button-small" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </search>
  );
}
