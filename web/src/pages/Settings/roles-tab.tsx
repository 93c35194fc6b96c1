import { type FormEvent, useMemo, useState } from "react";
import { withQuery } from "../../api";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import { LoadingBlock } from "../../components/skeleton";
import { errorCode, errorNotice, type Notice } from "../../error-messages";
import type { PermissionInfo, RoleDetail, RoleTemplate } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { linkedItemMark, useRevealLinkedItem } from "../../use-reveal-linked-item";
import { useSaveDialog } from "../../use-save-dialog";
import { useSessionInfo } from "../../use-session";
import { useAccountPath, useRoles } from "./account-data";
import type { SettingsPageProps } from "./pages";
import { PermissionPicker } from "./permission-picker";

type OpenDialog =
  | { kind: "create" }
  | { kind: "edit"; role: RoleDetail }
  | { kind: "delete"; role: RoleDetail }
  | null;

export function RolesTab({ itemId = null }: SettingsPageProps) {
  const api = useApi();
  const base = useAccountPath();
  const { account_id } = useSessionInfo();
  const permissions = usePermissions();
  const canManage = permissions.can("roles:manage");
  const roles = useRoles();
  const templates = useResource<{ data: RoleTemplate[] }>(canManage ? `${base}/role-templates` : null);
  const catalog = useResource<{ data: PermissionInfo[] }>(withQuery("/permissions", { account_id }));
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [adding, setAdding] = useState<string | null>(null);
  const list = roles.data?.data ?? [];
  const builtins = list.filter((role) => role.builtin).sort(byBuiltinRank);
  const custom = list.filter((role) => !role.builtin);
  const linked = itemId === null ? undefined : list.find((role) => role.id === itemId);
  useRevealLinkedItem(itemId, linked !== undefined);
  const descriptions = useMemo(
    () => new Map((catalog.data?.data ?? []).map((permission) => [permission.key, permission.description])),
    [catalog.data],
  );

  function changed(text: string) {
    setNotice({ tone: "success", text });
    roles.reload();
    // The caller's own role may be the one that changed.
    permissions.reload();
  }

  async function addTemplate(template: RoleTemplate) {
    setAdding(template.key);
    setNotice(null);
    try {
      const role = await api.post<RoleDetail>(`${base}/roles`, { template: template.key });
      changed(`Added the ${role.name} role.`);
    } catch (caught) {
      setNotice(errorNotice(caught, `Could not add the ${template.name} role`));
    } finally {
      setAdding(null);
    }
  }

  return (
    <div className="stack">
      {notice ? (
        <FormAlert tone={notice.tone} testId="action-notice" code={notice.code}>
          {notice.text}
        </FormAlert>
      ) : null}
      {roles.error ? <FormAlert>{roles.error}</FormAlert> : null}
      {itemId !== null && roles.data && !linked ? <LinkedItemMissing what="role" /> : null}

      <section className="card" aria-labelledby="builtin-roles-heading">
        <h2 id="builtin-roles-heading">Built-in roles</h2>
        <p className="muted">These come with every account and can't be changed.</p>
        {roles.loading && !roles.data ? (
          <LoadingBlock label="Loading roles…" table={{ columns: 3, rows: 3 }} />
        ) : (
          <RolesTable roles={builtins} descriptions={descriptions} itemId={itemId} />
        )}
      </section>

      <section className="card" aria-labelledby="custom-roles-heading">
        <div className="card-header">
          <h2 id="custom-roles-heading">Custom roles</h2>
          {canManage ? (
            <button
              type="button"
              className="button button-small"
              onClick={() => setDialog({ kind: "create" })}
              data-testid="role-create"
            >
              New role
            </button>
          ) : null}
        </div>
        {canManage && templates.data && templates.data.data.length > 0 ? (
          <section className="templates" aria-labelledby="templates-heading">
            <h3 id="templates-heading">Add from a template</h3>
            <ul className="template-list">
              {templates.data.data.map((template) => {
                // The API would add a second copy; a role by that name already exists, so say so instead.
                const added = custom.some((role) => role.name.toLowerCase() === template.name.toLowerCase());
                return (
                  <li key={template.key} className="template">
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      onClick={() => addTemplate(template)}
                      disabled={adding !== null || added}
                      data-testid="role-template"
                      data-template={template.key}
                      aria-describedby={`template-${template.key}`}
                    >
                      {adding === template.key
                        ? "Adding…"
                        : added
                          ? `✓ ${template.name} added`
                          : `Add ${template.name}`}
                    </button>
                    <span id={`template-${template.key}`} className="field-hint">
                      {template.description} ({template.permissions.length} permissions)
                    </span>
                  </li>
                );
              })}
            </ul>
          </section>
        ) : null}
        {templates.error ? <FormAlert>Templates could not be loaded: {templates.error}</FormAlert> : null}
        {roles.data && custom.length === 0 ? (
          <p className="muted" data-testid="roles-empty">
            No custom roles yet.
          </p>
        ) : null}
        {custom.length > 0 ? (
          <RolesTable
            roles={custom}
            descriptions={descriptions}
            itemId={itemId}
            onEdit={canManage ? (role) => setDialog({ kind: "edit", role }) : undefined}
            onDelete={canManage ? (role) => setDialog({ kind: "delete", role }) : undefined}
          />
        ) : null}
      </section>

      {dialog?.kind === "create" || dialog?.kind === "edit" ? (
        <RoleEditor
          role={dialog.kind === "edit" ? dialog.role : null}
          catalog={catalog.data?.data ?? null}
          catalogError={catalog.error}
          onClose={() => setDialog(null)}
          onSaved={(role) => {
            setDialog(null);
            changed(
              dialog.kind === "edit" ? `Saved the ${role.name} role.` : `Created the ${role.name} role.`,
            );
          }}
        />
      ) : null}
      {dialog?.kind === "delete" ? (
        <DeleteRoleDialog
          role={dialog.role}
          others={list.filter((role) => role.id !== dialog.role.id)}
          onClose={() => setDialog(null)}
          onDeleted={() => changed(`Deleted the ${dialog.role.name} role.`)}
        />
      ) : null}
    </div>
  );
}

// Most powerful first, as the contract lists them; unknown built-ins go last.
const BUILTIN_ORDER = ["root", "admin", "billing", "developer", "monitor"];
const builtinRank = (role: RoleDetail) => {
  const rank = BUILTIN_ORDER.indexOf(role.key);
  return rank === -1 ? BUILTIN_ORDER.length : rank;
};
const byBuiltinRank = (a: RoleDetail, b: RoleDetail) => builtinRank(a) - builtinRank(b);

function RolesTable({
  roles,
  descriptions,
  itemId,
  onEdit,
  onDelete,
}: {
  roles: readonly RoleDetail[];
  descriptions: ReadonlyMap<string, string>;
  /** A deep link's role: its row is marked. */
  itemId: string | null;
  onEdit?: ((role: RoleDetail) => void) | undefined;
  onDelete?: ((role: RoleDetail) => void) | undefined;
}) {
  const editable = Boolean(onEdit || onDelete);
  return (
    <table className="table responsive-table roles-table">
      <thead>
        <tr>
          <th scope="col">Role</th>
          <th scope="col">Permissions</th>
          <th scope="col">Members</th>
          {editable ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {roles.map((role) => (
          <tr
            key={role.id}
            data-testid="role-row"
            data-key={role.key}
            data-name={role.name}
            data-builtin={role.builtin ? "true" : "false"}
            data-role-id={role.id}
            data-highlighted={linkedItemMark(itemId, role.id)}
          >
            <td data-label="Role" className="cell-primary">
              <span className="member-name">
                {role.name}
                {role.builtin ? <span className="badge">Built-in</span> : null}
              </span>
              {role.description ? <span className="member-email">{role.description}</span> : null}
            </td>
            <td data-label="Permissions">
              <details className="permission-details">
                <summary>
                  {role.permissions.length} permission{role.permissions.length === 1 ? "" : "s"}
                </summary>
                <ul className="permission-chips">
                  {role.permissions.map((permission) => (
                    <li key={permission}>
                      <code title={descriptions.get(permission)}>{permission}</code>
                    </li>
                  ))}
                </ul>
              </details>
            </td>
            <td data-label="Members">{role.member_count}</td>
            {editable ? (
              <td className="cell-actions">
                <div className="button-row">
                  {onEdit ? (
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      onClick={() => onEdit(role)}
                      aria-label={`Edit ${role.name}`}
                      data-testid="role-edit"
                    >
                      Edit
                    </button>
                  ) : null}
                  {onDelete ? (
                    <button
                      type="button"
                      className="button button-danger button-small"
                      onClick={() => onDelete(role)}
                      aria-label={`Delete ${role.name}`}
                      data-testid="role-delete"
                    >
                      Delete
                    </button>
                  ) : null}
                </div>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const ROLE_FIELDS = ["name", "description", "permissions"] as const;

function RoleEditor({
  role,
  catalog,
  catalogError,
  onClose,
  onSaved,
}: {
  role: RoleDetail | null;
  catalog: readonly PermissionInfo[] | null;
  catalogError: string | null;
  onClose: () => void;
  onSaved: (role: RoleDetail) => void;
}) {
  const base = useAccountPath();
  const [form, setForm] = useState({
    name: role?.name ?? "",
    description: role?.description ?? "",
    permissions: role?.permissions ?? [],
  });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(ROLE_FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!form.name.trim()) fields.name = "Give the role a name.";
    if (form.permissions.length === 0) fields.permissions = "Choose at least one permission.";
    if (Object.keys(fields).length > 0) {
      refuse(fields);
      return;
    }
    await save<RoleDetail>(
      role ? { update: `${base}/roles/${encodeURIComponent(role.id)}` } : { create: `${base}/roles` },
      { name: form.name.trim(), description: form.description.trim(), permissions: form.permissions },
      onSaved,
    );
  }

  return (
    <Dialog title={role ? `Edit ${role.name}` : "New role"} onClose={onClose} busy={busy} wide>
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? <FormAlert code={errors.code}>{errors.form}</FormAlert> : null}
        <div className="grid-2">
          <TextField
            label="Name"
            name="name"
            required
            value={form.name}
            onValueChange={(name) => {
              setForm((current) => ({ ...current, name }));
              clearError("name");
            }}
            error={errors.fields.name}
            maxLength={100}
          />
          <TextField
            label="Description (optional)"
            name="description"
            value={form.description}
            onValueChange={(description) => setForm((current) => ({ ...current, description }))}
            error={errors.fields.description}
            maxLength={500}
          />
        </div>
        <PermissionPicker
          legend="Permissions"
          name="permissions"
          catalog={catalog}
          catalogError={catalogError}
          selected={form.permissions}
          onChange={(permissions) => {
            setForm((current) => ({ ...current, permissions }));
            clearError("permissions");
          }}
          error={errors.fields.permissions}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="role-save">
            {busy ? "Saving…" : role ? "Save role" : "Create role"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

function DeleteRoleDialog({
  role,
  others,
  onClose,
  onDeleted,
}: {
  role: RoleDetail;
  others: readonly RoleDetail[];
  onClose: () => void;
  onDeleted: () => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  // The count can be stale; a role_in_use answer asks for a target even when it said 0.
  const [needsTarget, setNeedsTarget] = useState(role.member_count > 0);
  const [moveTo, setMoveTo] = useState("");
  const [moveError, setMoveError] = useState<string | undefined>();

  return (
    <ConfirmDialog
      title={`Delete the ${role.name} role?`}
      confirmLabel="Delete role"
      busyLabel="Deleting…"
      danger
      onClose={onClose}
      onConfirm={async () => {
        if (needsTarget && !moveTo) {
          setMoveError("Choose the role its members get instead.");
          return false;
        }
        try {
          await api.delete(
            withQuery(`${base}/roles/${encodeURIComponent(role.id)}`, {
              move_to: needsTarget ? moveTo : null,
            }),
          );
        } catch (caught) {
          if (errorCode(caught) !== "role_in_use" || needsTarget) throw caught;
          setNeedsTarget(true);
          setMoveError("Members still have this role. Choose the role they get instead.");
          return false;
        }
        onDeleted();
      }}
    >
      <p>
        {role.member_count > 0
          ? `${role.member_count} member${role.member_count === 1 ? " has" : "s have"} this role. Choose the role they get instead.`
          : "Nobody has this role."}
      </p>
      {needsTarget ? (
        <SelectField
          label="Move its members to"
          name="move_to"
          value={moveTo}
          onValueChange={(value) => {
            setMoveTo(value);
            setMoveError(undefined);
          }}
          options={[
            { value: "", label: "Choose a role…" },
            ...others.map((other) => ({ value: other.id, label: other.name })),
          ]}
          error={moveError}
        />
      ) : null}
    </ConfirmDialog>
  );
}
