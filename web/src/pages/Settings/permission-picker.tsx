import { useId, useMemo } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { FormAlert } from "../../components/form-alert";
import type { PermissionInfo } from "../../types";

function groupLabel(group: string): string {
  const text = group.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The catalog by group (`members`, `teams`…), in the catalog's order. */
export function groupPermissions(catalog: readonly PermissionInfo[]): [string, PermissionInfo[]][] {
  const byGroup = new Map<string, PermissionInfo[]>();
  for (const permission of catalog) {
    const group = permission.group || permission.key.split(":")[0] || "other";
    byGroup.set(group, [...(byGroup.get(group) ?? []), permission]);
  }
  return [...byGroup.entries()];
}

type Props = {
  /** "Permissions", "Scopes": the fieldset's legend, followed by the count chosen. */
  legend: string;
  /** The API field the values go to (`permissions`, `scopes`). */
  name: string;
  catalog: readonly PermissionInfo[] | null;
  catalogError: string | null;
  selected: readonly string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
  /** Why a permission cannot be chosen (the user does not hold it), or null when it can. */
  unavailable?: (key: string) => string | null;
};

/**
 * The permission catalog as checkboxes grouped by area: a role's permissions, an API key's scopes.
 * Permissions that `unavailable` names are shown disabled, with the reason under them.
 */
export function PermissionPicker({
  legend,
  name,
  catalog,
  catalogError,
  selected,
  onChange,
  error,
  unavailable,
}: Props) {
  const errorId = useId();
  const groups = useMemo(() => groupPermissions(catalog ?? []), [catalog]);

  function setGroup(groupKeys: readonly string[], chosen: string[]) {
    onChange([...selected.filter((key) => !groupKeys.includes(key)), ...chosen]);
  }

  return (
    <fieldset className="permission-groups" aria-describedby={error ? errorId : undefined}>
      <legend>
        {legend} ({selected.length} chosen)
      </legend>
      {catalogError ? <FormAlert>The permission list could not be loaded: {catalogError}</FormAlert> : null}
      {catalog === null && !catalogError ? (
        <p role="status" className="muted">
          Loading permissions…
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
      <div className="permission-grid">
        {groups.map(([group, permissions]) => {
          const keys = permissions.map((permission) => permission.key);
          return (
            <CheckboxList
              key={group}
              legend={groupLabel(group)}
              name={name}
              compact
              options={permissions.map((permission) => {
                const reason = unavailable?.(permission.key) ?? null;
                return {
                  value: permission.key,
                  label: <code>{permission.key}</code>,
                  hint: reason ? `${permission.description}. ${reason}` : permission.description,
                  disabled: reason !== null,
                };
              })}
              selected={selected.filter((key) => keys.includes(key))}
              onChange={(chosen) => setGroup(keys, chosen)}
            />
          );
        })}
      </div>
    </fieldset>
  );
}
