import { type FormEvent, useState } from "react";
import type { BulkRoleResult } from "../../assignments";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { explainError } from "../../error-messages";
import type { RoleRef } from "../../types";
import { useApi } from "../../use-api";

/** "Change role…" for the ticked members: one request, answered member by member. */
export function BulkRoleDialog({
  count,
  roles,
  path,
  userIds,
  onClose,
  onDone,
}: {
  count: number;
  roles: readonly RoleRef[];
  path: string;
  userIds: readonly string[];
  onClose: () => void;
  onDone: (role: RoleRef, results: BulkRoleResult[]) => void;
}) {
  const api = useApi();
  const [roleId, setRoleId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const role = roles.find((r) => r.id === roleId);
    if (!role) {
      setError("Choose the role to give them.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api.post<{ data: BulkRoleResult[] }>(path, {
        user_ids: userIds,
        role_id: role.id,
      });
      onDone(role, answer.data);
    } catch (caught) {
      setError(explainError(caught));
      setBusy(false);
    }
  }

  const title = `Change the role of ${count === 1 ? "1 member" : `${count} members`}`;
  return (
    <Dialog title={title} onClose={onClose} busy={busy} testId="bulk-role-dialog">
      <form onSubmit={submit} noValidate>
        {error ? <FormAlert>{error}</FormAlert> : null}
        <p className="muted">
          Each member is changed as if you changed them one by one: members you may not change are left as
          they are, and the results say why.
        </p>
        <SelectField
          label="New role"
          name="role_id"
          value={roleId}
          onValueChange={setRoleId}
          options={[
            { value: "", label: "Choose a role" },
            ...roles.map((r) => ({ value: r.id, label: r.name })),
          ]}
        />
        <DialogActions>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="button" disabled={busy} data-testid="bulk-role-submit">
            {busy ? "Changing…" : "Change role"}
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
