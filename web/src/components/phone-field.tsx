import { type ReactNode, useId, useMemo } from "react";
import type { CountryCode, PhoneValue } from "../phone";
import { usePhoneKit } from "../use-phone-kit";
import { describedBy, FieldFrame } from "./field";

type Props = {
  label: string;
  /** The number input's name; the country picker is `${name}_country`. */
  name: string;
  value: PhoneValue;
  onValueChange: (value: PhoneValue) => void;
  hint?: ReactNode;
  error?: string | undefined;
  required?: boolean;
};

/**
 * A phone number: a country picker (a native select, so typing a country's name finds it, and screen
 * readers know it) and the number, formatted for that country as it is typed. A number typed or
 * autofilled with "+…" or "00…" picks its own country. Read it with `readPhone` (phone.ts) for E.164.
 * Until the phone kit has loaded (a moment, on first use) the field shows its value, disabled.
 */
export function PhoneField({ label, name, value, onValueChange, hint, error, required }: Props) {
  const id = useId();
  const kit = usePhoneKit();
  const options = useMemo(() => kit?.countryOptions(navigator.language) ?? [], [kit]);
  const selected = options.find((option) => option.code === value.country);
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <div className="phone-input">
        <span className="phone-country">
          <span className="phone-country-shown" aria-hidden="true">
            {value.country} {selected ? `+${selected.callingCode}` : ""}
          </span>
          <select
            name={`${name}_country`}
            aria-label={`Country of the ${label.toLowerCase()}`}
            value={value.country}
            disabled={!kit}
            onChange={(event) =>
              kit && onValueChange(kit.pickCountry(value, event.target.value as CountryCode))
            }
          >
            {selected ? null : <option value={value.country}>{value.country}</option>}
            {options.map((option) => (
              <option key={option.code} value={option.code}>
                {option.name} (+{option.callingCode})
              </option>
            ))}
          </select>
        </span>
        <input
          id={id}
          type="tel"
          name={name}
          inputMode="tel"
          autoComplete="tel"
          maxLength={32}
          required={required}
          disabled={!kit}
          value={value.text}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, hint, error)}
          onChange={(event) => kit && onValueChange(kit.typePhone(value, event.target.value))}
          onBlur={() => {
            // Tidies what a deletion left; an untouched value is not a change (its error stays).
            const tidy = kit?.formatPhone(value);
            if (tidy && (tidy.text !== value.text || tidy.country !== value.country)) onValueChange(tidy);
          }}
        />
      </div>
    </FieldFrame>
  );
}
