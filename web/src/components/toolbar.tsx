// The controls of a list's filter toolbar (members, assignments, people): a search box and selects
// whose labels are for screen readers only — the placeholder and the options say enough to the eye.
import { useId } from "react";

export function ToolbarSearch({
  label,
  value,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  testId?: string;
}) {
  const id = useId();
  return (
    <div className="toolbar-field toolbar-search">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <input
        id={id}
        name="q"
        type="search"
        className="toolbar-control"
        placeholder="Name or email"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        autoComplete="off"
        data-testid={testId}
      />
    </div>
  );
}

/** A select that shows itself active (data-active) when it is not on its first option, "no filter". */
export function ToolbarSelect({
  label,
  name,
  value,
  onChange,
  options,
  testId,
}: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  options: ReadonlyArray<{ value: string; label: string }>;
  testId?: string;
}) {
  const id = useId();
  return (
    <div className="toolbar-field">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <select
        id={id}
        name={name}
        className="toolbar-control toolbar-select"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        data-active={value !== options[0]?.value ? "true" : "false"}
        data-testid={testId}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
