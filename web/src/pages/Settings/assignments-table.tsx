import { type Assignment, type AssignmentTeam, assignmentName, holding } from "../../assignments";
import { Link } from "../../router";

/** The matrix: one row per member; their role, a column per team, and the chosen permission's source. */
export function AssignmentsTable({
  members,
  teams,
  permission,
  selectable,
  selected,
  onSelectedChange,
  memberPath,
}: {
  members: readonly Assignment[];
  teams: readonly AssignmentTeam[];
  /** The permission whose holders and sources get a column; null: none chosen. */
  permission: string | null;
  /** Rows that can be ticked for a bulk role change; null hides the checkboxes. */
  selectable: readonly Assignment[] | null;
  selected: readonly string[];
  onSelectedChange: (next: string[]) => void;
  memberPath: (userId: string) => string;
}) {
  const selectableIds = new Set((selectable ?? []).map((member) => member.user_id));
  const allSelected = selectableIds.size > 0 && [...selectableIds].every((id) => selected.includes(id));
  const toggle = (userId: string, on: boolean) =>
    onSelectedChange(on ? [...selected, userId] : selected.filter((id) => id !== userId));

  return (
    <div className="table-scroll">
      <table className="table assignments-table" data-testid="assignments-table">
        <caption className="visually-hidden">
          Members with their role{teams.length ? ", the teams they are in" : ""}
          {permission ? ` and where ${permission} comes from` : ""}
        </caption>
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
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            {teams.map((team) => (
              <th scope="col" key={team.id} data-testid="assignments-team-column">
                {team.name}
                <span className="assignments-team-role">
                  {team.role ? `gives ${team.role.name}` : "no role"}
                </span>
              </th>
            ))}
            {permission ? (
              <th scope="col" data-testid="assignments-permission-column">
                Has <code>{permission}</code>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {members.map((member) => {
            const name = assignmentName(member);
            const held = permission ? holding(member, permission) : null;
            return (
              <tr key={member.user_id} data-testid="assignment-row" data-email={member.email}>
                {selectable ? (
                  <td className="cell-check">
                    {selectableIds.has(member.user_id) ? (
                      <input
                        type="checkbox"
                        aria-label={`Select ${name}`}
                        checked={selected.includes(member.user_id)}
                        onChange={(event) => toggle(member.user_id, event.target.checked)}
                        data-testid="assignment-select"
                      />
                    ) : null}
                  </td>
                ) : null}
                <th scope="row" className="cell-primary">
                  <Link to={memberPath(member.user_id)} className="member-name">
                    {name}
                  </Link>
                  {name !== member.email ? <span className="member-email">{member.email}</span> : null}
                  {member.status !== "active" ? (
                    <span className={`badge${member.status === "suspended" ? " badge-danger" : ""}`}>
                      {member.status === "suspended" ? "Suspended" : "Deactivated"}
                    </span>
                  ) : null}
                </th>
                <td data-testid="assignment-role">{member.role.name}</td>
                {teams.map((team) =>
                  member.teams.some((t) => t.id === team.id) ? (
                    <td key={team.id}>
                      <span className="badge">Member</span>
                    </td>
                  ) : (
                    <td key={team.id}>
                      <span className="muted" aria-hidden="true">
                        –
                      </span>
                      <span className="visually-hidden">Not a member</span>
                    </td>
                  ),
                )}
                {held ? (
                  <td data-testid="assignment-source" data-held={held.held ? "true" : "false"}>
                    {held.held ? (
                      <>
                        <span className="badge badge-success">Yes</span>{" "}
                        <span className="assignments-source">{held.text}</span>
                      </>
                    ) : (
                      <span className="muted">No</span>
                    )}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
