import { type ReactNode, useId } from "react";

export type CheckboxOption = {
  value: string;
  label: ReactNode;
  hint?: ReactNode;
  /** Not choosable; `hint` should say why (a permission the user does not hold). */
  disabled?: boolean;
};

type Props = {
  legend: string;
  /** The API field the values go to (`team_ids`, `permissions`, `user_ids`). */
  name: string;
  options: readonly CheckboxOption[];
  selected: readonly string[];
  onChange: (next: string[]) => void;
  hint?: ReactNode;
  error?: string | undefined;
  emptyText?: string;
  /** Caps the height and scrolls, for long lists (account members). */
  scroll?: boolean;
  /** Renders the legend as a sub-heading (permission groups) instead of a field label. */
  compact?: boolean;
};

/** A multi-select as a group of checkboxes: accessible without any widget library. */
export function CheckboxList({
  legend,
  name,
  options,
  selected,
  onChange,
  hint,
  error,
  emptyText = "Nothing to choose from.",
  scroll = false,
  compact = false,
}: Props) {
  const id = useId();
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ");

  function toggle(value: string, checked: boolean) {
    onChange(checked ? [...selected, value] : selected.filter((candidate) => candidate !== value));
  }

  return (
    <fieldset
      className={`field checkbox-list${compact ? " checkbox-list-compact" : ""}${error ? " has-error" : ""}`}
      aria-describedby={describedBy || undefined}
    >
      <legend>{legend}</legend>
      {hint ? (
        <div id={`${id}-hint`} className="field-hint">
          {hint}
        </div>
      ) : null}
      {options.length === 0 ? (
        <p className="muted checkbox-list-empty">{emptyText}</p>
      ) : (
        <div className={`checkbox-list-options${scroll ? " checkbox-list-scroll" : ""}`}>
          {options.map((option, index) => (
            <div
              key={option.value}
              className={`checkbox-option${option.disabled ? " checkbox-option-disabled" : ""}`}
            >
              <input
                id={`${id}-${index}`}
                type="checkbox"
                name={name}
                value={option.value}
                checked={selected.includes(option.value)}
                disabled={option.disabled}
                onChange={(event) => toggle(option.value, event.target.checked)}
                aria-describedby={option.hint ? `${id}-${index}-hint` : undefined}
              />
              <label htmlFor={`${id}-${index}`}>{option.label}</label>
              {option.hint ? (
                <span id={`${id}-${index}-hint`} className="field-hint">
                  {option.hint}
                </span>
              ) : null}
            </div>
          ))}
        </div>
      )}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
