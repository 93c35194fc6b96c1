import { useId, useState } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import type { EventType } from "../../types";
import { ALL_EVENTS, examplePayload, groupEventTypes } from "../../webhooks";

type Props = {
  types: readonly EventType[] | null;
  typesError: string | null;
  /** Event types, or `["*"]`. */
  selected: readonly string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
};

/**
 * What an endpoint listens to: "All events", or event types grouped by prefix (member., team., role.,
 * invoice.…) with each one's description; below, the example payload of a chosen type.
 */
export function EventTypePicker({ types, typesError, selected, onChange, error }: Props) {
  const errorId = useId();
  const all = selected.includes(ALL_EVENTS);
  const chosen = all ? [] : selected;

  function setGroup(groupTypes: readonly string[], picked: string[]) {
    onChange([...chosen.filter((type) => !groupTypes.includes(type)), ...picked]);
  }

  return (
    <>
      <fieldset
        className={`field event-picker${error ? " has-error" : ""}`}
        aria-describedby={error ? errorId : undefined}
        data-testid="webhook-events"
      >
        <legend>Events {all ? "(all)" : `(${chosen.length} chosen)`}</legend>
        <div className="checkbox-option">
          <input
            id={`${errorId}-all`}
            type="checkbox"
            name="events"
            value={ALL_EVENTS}
            checked={all}
            onChange={(event) => onChange(event.target.checked ? [ALL_EVENTS] : [])}
            aria-describedby={`${errorId}-all-hint`}
          />
          <label htmlFor={`${errorId}-all`}>All events</label>
          <span id={`${errorId}-all-hint`} className="field-hint">
            Every event in the catalog, including types added later.
          </span>
        </div>
        {typesError ? (
          <FormAlert>The event types could not be loaded: {typesError}</FormAlert>
        ) : types === null ? (
          <LoadingBlock label="Loading event types…" lines={4} />
        ) : all ? null : (
          <div className="event-groups">
            {groupEventTypes(types).map(([prefix, group]) => (
              <CheckboxList
                key={prefix}
                compact
                legend={`${prefix}.`}
                name="events"
                options={group.map((type) => ({
                  value: type.type,
                  label: <code>{type.type}</code>,
                  hint: type.description,
                }))}
                selected={chosen.filter((type) => group.some((candidate) => candidate.type === type))}
                onChange={(picked) =>
                  setGroup(
                    group.map((type) => type.type),
                    picked,
                  )
                }
              />
            ))}
          </div>
        )}
        {error ? (
          <p id={errorId} className="field-error">
            {error}
          </p>
        ) : null}
      </fieldset>
      {types && types.length > 0 ? <PayloadPreview types={types} chosen={chosen} /> : null}
    </>
  );
}

/** The body a receiver gets for one type (`{type, timestamp, data}`), pretty-printed. */
function PayloadPreview({ types, chosen }: { types: readonly EventType[]; chosen: readonly string[] }) {
  const id = useId();
  const offered = chosen.length > 0 ? types.filter((type) => chosen.includes(type.type)) : types;
  const [picked, setPicked] = useState<string | null>(null);
  const shown = offered.find((type) => type.type === picked) ?? offered[0];
  if (!shown) return null;
  return (
    <div className="field payload-preview">
      <label htmlFor={id}>Example payload</label>
      <select
        id={id}
        value={shown.type}
        onChange={(event) => setPicked(event.target.value)}
        data-testid="webhook-example-type"
      >
        {offered.map((type) => (
          <option key={type.type} value={type.type}>
            {type.type}
          </option>
        ))}
      </select>
      <pre className="code-block" data-testid="webhook-example">
        {examplePayload(shown)}
      </pre>
    </div>
  );
}
