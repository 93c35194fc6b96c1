import { type FormEvent, useEffect, useMemo, useState } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import { LoadingBlock } from "../../components/skeleton";
import { errorCode, explainError } from "../../error-messages";
import type { Member, RoleRef, Team } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { linkedItemMark, useRevealLinkedItem } from "../../use-reveal-linked-item";
import { useSaveDialog } from "../../use-save-dialog";
import { useToast } from "../../use-toast";
import { memberName, useAccountPath, useLoadAllMembers, useRoles, useTeams } from "./account-data";
import type { SettingsPageProps } from "./pages";

type OpenDialog =
  | { kind: "create" }
  | { kind: "edit"; team: Team }
  | { kind: "members"; team: Team }
  | { kind: "delete"; team: Team }
  | null;

export function TeamsTab({ itemId = null }: SettingsPageProps) {
  const { can } = usePermissions();
  const teams = useTeams();
  const roles = useRoles();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const toast = useToast();
  const canManage = can("teams:manage");
  const list = teams.data?.data ?? [];
  const roleList: RoleRef[] = roles.data?.data ?? [];
  const linked = itemId === null ? undefined : list.find((team) => team.id === itemId);
  useRevealLinkedItem(itemId, linked !== undefined);

  function done(text: string) {
    toast.show({ text });
    teams.reload();
  }

  return (
    <div className="stack">
      <section className="card" aria-labelledby="teams-heading">
        <div className="card-header">
          <h2 id="teams-heading">All teams</h2>
          {canManage ? (
            <button
              type="button"
              className="button button-small"
              onClick={() => setDialog({ kind: "create" })}
              data-testid="team-create"
            >
              New team
            </button>
          ) : null}
        </div>
        <p className="muted">
          Members of a team get the team's role on top of their own: their permissions are the union of both.
        </p>
        {teams.error ? <FormAlert>{teams.error}</FormAlert> : null}
        {itemId !== null && teams.data && !linked ? <LinkedItemMissing what="team" /> : null}
        {teams.loading && !teams.data ? (
          <LoadingBlock label="Loading teams…" table={{ columns: 3, rows: 3 }} />
        ) : list.length === 0 && teams.data ? (
          <p className="muted" data-testid="teams-empty">
            No teams yet.{canManage ? " Create one to grant a role to a group of people at once." : ""}
          </p>
        ) : list.length > 0 ? (
          <table className="table responsive-table teams-table">
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Role granted</th>
                <th scope="col">Members</th>
                {canManage ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.map((team) => (
                <tr
                  key={team.id}
                  data-testid="team-row"
                  data-name={team.name}
                  data-team-id={team.id}
                  data-highlighted={linkedItemMark(itemId, team.id)}
                >
                  <td data-label="Team" className="cell-primary">
                    <span className="member-name">{team.name}</span>
                    {team.description ? <span className="member-email">{team.description}</span> : null}
                  </td>
                  <td data-label="Role granted">{team.role?.name ?? <span className="muted">None</span>}</td>
                  <td data-label="Members">{team.member_ids.length}</td>
                  {canManage ? (
                    <td className="cell-actions">
                      <div className="button-row">
                        <button
                          type="button"
                          className="button button-secondary button-small"
                          onClick={() => setDialog({ kind: "edit", team })}
                          aria-label={`Edit ${team.name}`}
                          data-testid="team-edit"
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="button button-secondary button-small"
                          onClick={() => setDialog({ kind: "members", team })}
                          aria-label={`Manage members of ${team.name}`}
                          data-testid="team-members"
                        >
                          Members
                        </button>
                        <button
                          type="button"
                          className="button button-danger button-small"
                          onClick={() => setDialog({ kind: "delete", team })}
                          aria-label={`Delete ${team.name}`}
                          data-testid="team-delete"
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>

      {dialog?.kind === "create" || dialog?.kind === "edit" ? (
        <TeamDialog
          team={dialog.kind === "edit" ? dialog.team : null}
          roles={roleList}
          onClose={() => setDialog(null)}
          onSaved={(team) => {
            setDialog(null);
            done(dialog.kind === "edit" ? `Saved ${team.name}.` : `Created ${team.name}.`);
          }}
        />
      ) : null}
      {dialog?.kind === "members" ? (
        <TeamMembersDialog
          team={dialog.team}
          onClose={() => setDialog(null)}
          onSaved={(team) => {
            setDialog(null);
            done(
              `${team.name} now has ${team.member_ids.length} member${team.member_ids.length === 1 ? "" : "s"}.`,
            );
          }}
        />
      ) : null}
      {dialog?.kind === "delete" ? (
        <DeleteTeamDialog
          team={dialog.team}
          others={list.filter((team) => team.id !== dialog.team.id)}
          onClose={() => setDialog(null)}
          onDeleted={() => done(`Deleted ${dialog.team.name}.`)}
        />
      ) : null}
    </div>
  );
}

const TEAM_FIELDS = ["name", "description", "role_id"] as const;

function TeamDialog({
  team,
  roles,
  onClose,
  onSaved,
}: {
  team: Team | null;
  roles: readonly RoleRef[];
  onClose: () => void;
  onSaved: (team: Team) => void;
}) {
  const base = useAccountPath();
  const [form, setForm] = useState({
    name: team?.name ?? "",
    description: team?.description ?? "",
    role_id: team?.role?.id ?? "",
  });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(TEAM_FIELDS);
  // The team's current role stays listed even if the roles could not be read.
  const roleOptions =
    team?.role && !roles.some((role) => role.id === team.role?.id) ? [team.role, ...roles] : roles;

  function set(field: keyof typeof form) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      clearError(field);
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form.name.trim()) {
      refuse({ name: "Give the team a name." });
      return;
    }
    await save<Team>(
      team ? { update: `${base}/teams/${encodeURIComponent(team.id)}` } : { create: `${base}/teams` },
      {
        name: form.name.trim(),
        // The API keeps "no description" as an empty string, and "no role" as null.
        description: form.description.trim(),
        role_id: form.role_id || null,
      },
      onSaved,
    );
  }

  return (
    <Dialog title={team ? `Edit ${team.name}` : "New team"} onClose={onClose} busy={busy}>
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? <FormAlert code={errors.code}>{errors.form}</FormAlert> : null}
        <TextField
          label="Name"
          name="name"
          required
          value={form.name}
          onValueChange={set("name")}
          error={errors.fields.name}
          maxLength={100}
        />
        <TextField
          label="Description (optional)"
          name="description"
          value={form.description}
          onValueChange={set("description")}
          error={errors.fields.description}
          maxLength={500}
        />
        <SelectField
          label="Role granted to members"
          name="role_id"
          value={form.role_id}
          onValueChange={set("role_id")}
          options={[
            { value: "", label: "None" },
            ...roleOptions.map((role) => ({ value: role.id, label: role.name })),
          ]}
          hint="Members get this role's permissions in addition to their own role."
          error={errors.fields.role_id}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="team-save">
            {busy ? "Saving…" : team ? "Save team" : "Create team"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

function TeamMembersDialog({
  team,
  onClose,
  onSaved,
}: {
  team: Team;
  onClose: () => void;
  onSaved: (team: Team) => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  const loadAllMembers = useLoadAllMembers();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string[]>(team.member_ids);
  const [filter, setFilter] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);

  useEffect(() => {
    let cancelled = false;
    loadAllMembers().then(
      (loaded) => {
        if (!cancelled) setMembers(loaded);
      },
      (caught: unknown) => {
        if (!cancelled) setLoadError(explainError(caught));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [loadAllMembers]);

  const options = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return (members ?? [])
      .filter(
        (member) =>
          !needle ||
          // Ticked people stay visible, so a filter never hides what will be saved.
          selected.includes(member.user_id as string) ||
          `${memberName(member)} ${member.email}`.toLowerCase().includes(needle),
      )
      .map((member) => ({
        value: member.user_id as string,
        label: memberName(member),
        hint: memberName(member) === member.email ? undefined : member.email,
      }));
  }, [members, filter, selected]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = await api.put<Team>(`${base}/teams/${encodeURIComponent(team.id)}/members`, {
        user_ids: selected,
      });
      onSaved(saved);
    } catch (caught) {
      setError({ text: explainError(caught), code: errorCode(caught) });
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Members of ${team.name}`} onClose={onClose} busy={busy} wide>
      <form onSubmit={submit} noValidate>
        {error ? <FormAlert code={error.code}>{error.text}</FormAlert> : null}
        {loadError ? <FormAlert>The members could not be loaded: {loadError}</FormAlert> : null}
        {members === null && !loadError ? (
          <p role="status" className="muted">
            Loading members…
          </p>
        ) : null}
        {members ? (
          <>
            <TextField
              label="Find people"
              name="member_filter"
              type="search"
              placeholder="Name or email"
              value={filter}
              onValueChange={setFilter}
              autoComplete="off"
            />
            <CheckboxList
              legend={`Members (${selected.length} selected)`}
              name="user_ids"
              options={options}
              selected={selected}
              onChange={setSelected}
              emptyText={filter ? "Nobody matches." : "The account has no members yet."}
              scroll
            />
          </>
        ) : null}
        <DialogActions>
          <button
            type="submit"
            className="button"
            disabled={busy || members === null}
            data-testid="team-members-save"
          >
            {busy ? "Saving…" : "Save members"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/**
 * Deleting a team asks where its members and its resources go, each only when it has any (the API
 * needs both answers: an empty team's go nowhere, so "no team" and "the account" are sent).
 */
function DeleteTeamDialog({
  team,
  others,
  onClose,
  onDeleted,
}: {
  team: Team;
  others: readonly Team[];
  onClose: () => void;
  onDeleted: () => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  const members = team.member_ids.length;
  const resources = team.resource_count;
  // "" means "not chosen yet".
  const [membersTo, setMembersTo] = useState("");
  const [resourcesTo, setResourcesTo] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const teamOptions = others.map((other) => ({ value: other.id, label: other.name }));

  return (
    <ConfirmDialog
      title={`Delete ${team.name}?`}
      confirmLabel="Delete team"
      busyLabel="Deleting…"
      danger
      testId="team-delete-dialog"
      onClose={onClose}
      onConfirm={async () => {
        const missing: Record<string, string> = {};
        if (members > 0 && !membersTo) missing.reassign_members_to = "Choose where the team's members go.";
        if (resources > 0 && !resourcesTo) {
          missing.transfer_resources_to = "Choose who owns the team's resources.";
        }
        setFieldErrors(missing);
        if (Object.keys(missing).length > 0) return false;
        await api.delete(`${base}/teams/${encodeURIComponent(team.id)}`, {
          reassign_members_to: membersTo && membersTo !== "none" ? membersTo : null,
          transfer_resources_to: resourcesTo || "account",
        });
        onDeleted();
      }}
    >
      <p data-testid="team-delete-summary">
        {members === 0
          ? "The team has no members."
          : `The team has ${members} member${members === 1 ? "" : "s"}. They stay in the account; only the team and the role it grants go away.`}{" "}
        {resources === 0
          ? "It owns no resources."
          : `It owns ${resources} resource${resources === 1 ? "" : "s"}.`}
      </p>
      {members > 0 ? (
        <SelectField
          label="Move its members to"
          name="reassign_members_to"
          value={membersTo}
          onValueChange={(value) => {
            setMembersTo(value);
            setFieldErrors(({ reassign_members_to: _dropped, ...rest }) => rest);
          }}
          options={[{ value: "", label: "Choose…" }, { value: "none", label: "No team" }, ...teamOptions]}
          error={fieldErrors.reassign_members_to}
        />
      ) : null}
      {resources > 0 ? (
        <SelectField
          label="Transfer its resources to"
          name="transfer_resources_to"
          value={resourcesTo}
          onValueChange={(value) => {
            setResourcesTo(value);
            setFieldErrors(({ transfer_resources_to: _dropped, ...rest }) => rest);
          }}
          options={[
            { value: "", label: "Choose…" },
            { value: "account", label: "The account (no team)" },
            ...teamOptions,
          ]}
          error={fieldErrors.transfer_resources_to}
        />
      ) : null}
    </ConfirmDialog>
  );
}
