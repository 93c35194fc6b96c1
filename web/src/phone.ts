// Phone numbers in forms: a country picker plus the number, formatted as it is typed and sent in
// E.164 form. libphonenumber-js with its `min` metadata, as on the server (src/lib/phone.ts), so both
// agree on what a number is. Kept free of React so that test/web can check it.
import {
  AsYouType,
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberFromString,
} from "libphonenumber-js/min";
// ".js": test/web imports this module with Node's resolution; Vite finds the .ts all the same.
import { TIME_ZONE_COUNTRIES } from "./time-zone-countries.js";

export type { CountryCode };

/** What a phone field holds: the picked country and the text typed, as shown. */
export type PhoneValue = { country: CountryCode; text: string };

export type CountryOption = { code: CountryCode; name: string; callingCode: string };

/** Every country with its calling code, named in `locale` and sorted by that name. */
export function countryOptions(locale: string): CountryOption[] {
  let names: Intl.DisplayNames | undefined;
  try {
    names = new Intl.DisplayNames([locale, "en"], { type: "region" });
  } catch {
    names = undefined;
  }
  const collator = new Intl.Collator([locale, "en"]);
  return getCountries()
    .map((code) => ({ code, name: names?.of(code) ?? code, callingCode: getCountryCallingCode(code) }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

/** Names countries in `locale` ("GB" → "United Kingdom"), for messages. */
export function countryNamer(locale: string): (code: CountryCode) => string {
  try {
    const names = new Intl.DisplayNames([locale, "en"], { type: "region" });
    return (code) => names.of(code) ?? code;
  } catch {
    return (code) => code;
  }
}

const KNOWN = new Set<string>(getCountries());
const isCountry = (code: string | undefined): code is CountryCode => code !== undefined && KNOWN.has(code);

const ZONE_COUNTRY = new Map(
  Object.entries(TIME_ZONE_COUNTRIES).flatMap(([country, zones]) => zones.map((zone) => [zone, country])),
);

function regionOf(tag: string | null | undefined, likely = false): string | undefined {
  if (!tag) return undefined;
  try {
    const locale = new Intl.Locale(tag);
    return (likely ? locale.maximize() : locale).region;
  } catch {
    return undefined;
  }
}

/** Where the picker starts, from what is known of the user. */
export type CountryHints = {
  /** The profile's locale (`me.locale`, "en-GB"); often just a language ("en"). */
  locale?: string | null;
  /** The profile's time zone (`me.timezone`); "UTC" says nothing. */
  timeZone?: string | null;
  /** The browser's languages (`navigator.languages`). */
  languages?: readonly string[];
  /** The browser's time zone. */
  browserTimeZone?: string | null;
};

/**
 * The country a phone field starts with: the region of the profile's locale when it names one, else
 * the country of the profile's time zone, else the region of the browser's first language that names
 * one, else the browser's time zone, else the likely region of the language ("fr" → FR), else the US.
 */
export function defaultCountry(hints: CountryHints): CountryCode {
  const candidates = [
    regionOf(hints.locale),
    ZONE_COUNTRY.get(hints.timeZone ?? ""),
    ...(hints.languages ?? []).map((language) => regionOf(language)),
    ZONE_COUNTRY.get(hints.browserTimeZone ?? ""),
    regionOf(hints.locale, true),
    regionOf(hints.languages?.[0], true),
  ];
  return candidates.find(isCountry) ?? "US";
}

/** Only what people type in phone numbers; anything else is not a number (as on the server). */
const PHONE_TEXT = /^[0-9+\s().-]*$/;

/** "0044 …" is "+44 …"; separators are left to the formatter. */
function international(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith("+")) return trimmed;
  if (trimmed.startsWith("00")) return `+${trimmed.slice(2)}`;
  return undefined;
}

/** The country whose calling code a "+…" number starts with (the main one for shared codes: +1 → US). */
function countryOfInternational(text: string): CountryCode | undefined {
  const typer = new AsYouType();
  typer.input(text);
  const country = typer.getCountry();
  if (country) return country;
  const callingCode = typer.getCallingCode();
  return callingCode ? getCountries().find((code) => getCountryCallingCode(code) === callingCode) : undefined;
}

/**
 * The next value as the user types: formatted for the country ("07700900123" → "07700 900123"); a
 * number typed with "+" or "00" picks its country itself. A deletion is left as typed, or the space
 * just deleted would come straight back; `formatPhone` tidies it when the field is left.
 */
export function typePhone(previous: PhoneValue, text: string): PhoneValue {
  if (!PHONE_TEXT.test(text) || text.length < previous.text.length) return { ...previous, text };
  return formatPhone({ ...previous, text });
}

/** The value formatted for its country, or the country its "+…" says. */
export function formatPhone(value: PhoneValue): PhoneValue {
  if (!PHONE_TEXT.test(value.text) || value.text.trim() === "") return value;
  const plus = international(value.text);
  if (plus) {
    return { country: countryOfInternational(plus) ?? value.country, text: new AsYouType().input(plus) };
  }
  return { ...value, text: new AsYouType(value.country).input(value.text.trim()) };
}

/** A new country picked: a number typed with its own "+…" keeps its national digits for the new country. */
export function pickCountry(value: PhoneValue, country: CountryCode): PhoneValue {
  const plus = international(value.text);
  const number = plus ? parsePhoneNumberFromString(plus) : undefined;
  const national = number ? number.nationalNumber : value.text;
  return formatPhone({ country, text: national });
}

export type PhoneReading =
  | { status: "empty" }
  | { status: "ok"; e164: string }
  | { status: "invalid"; message: string };

/** What the field holds, as the API wants it: E.164, or why it is not a number. */
export function readPhone(value: PhoneValue, countryName: (code: CountryCode) => string): PhoneReading {
  const text = value.text.trim();
  if (text === "") return { status: "empty" };
  const plus = international(text);
  const number = PHONE_TEXT.test(text)
    ? plus
      ? parsePhoneNumberFromString(plus)
      : parsePhoneNumberFromString(text, value.country)
    : undefined;
  if (number?.isPossible()) return { status: "ok", e164: number.number };
  const country = plus ? countryOfInternational(plus) : value.country;
  return {
    status: "invalid",
    message: country
      ? `That is not a possible phone number in ${countryName(country)}. Check the number and the country.`
      : "Enter the number with its country code, like +44 7700 900123, or pick the country.",
  };
}

/**
 * A stored number shown in the field: its country and its national form ("+447700900123" → GB,
 * "07700 900123"). A number kept from before E.164 was required stays as it was, in `fallback`.
 */
export function phoneValueOf(stored: string | null | undefined, fallback: CountryCode): PhoneValue {
  if (!stored) return { country: fallback, text: "" };
  const number = parsePhoneNumberFromString(stored, fallback);
  if (!number) return { country: fallback, text: stored };
  const country =
    number.country ?? number.getPossibleCountries()[0] ?? countryOfInternational(stored) ?? fallback;
  return { country, text: number.formatNational() };
}
