import { describe, expect, it } from "vitest";
import { normalizePhone } from "../../src/lib/phone.js";
import {
  countryOptions,
  defaultCountry,
  formatPhone,
  type PhoneValue,
  phoneValueOf,
  pickCountry,
  readPhone,
  typePhone,
} from "../../web/src/phone.js";

const names = new Intl.DisplayNames(["en"], { type: "region" });
const countryName = (code: string) => names.of(code) ?? code;

/** Types `text` one character at a time, as a person would. */
function typed(start: PhoneValue, text: string): PhoneValue {
  let value = start;
  for (const character of text) value = typePhone(value, value.text + character);
  return value;
}

describe("phone fields", () => {
  it("formats a national number as it is typed, and reads it as E.164", () => {
    const gb = typed({ country: "GB", text: "" }, "07700900123");
    expect(gb).toEqual({ country: "GB", text: "07700 900123" });
    expect(readPhone(gb, countryName)).toEqual({ status: "ok", e164: "+447700900123" });

    const us = typed({ country: "US", text: "" }, "4155550100");
    expect(us.text).toBe("(415) 555-0100");
    expect(readPhone(us, countryName)).toEqual({ status: "ok", e164: "+14155550100" });
  });

  it("lets a number typed with + or 00 pick its own country", () => {
    const plus = typed({ country: "US", text: "" }, "+33612345678");
    expect(plus).toEqual({ country: "FR", text: "+33 6 12 34 56 78" });
    expect(readPhone(plus, countryName)).toEqual({ status: "ok", e164: "+33612345678" });

    // Pasted at once, with the 00 of many countries' international prefix.
    const pasted = typePhone({ country: "US", text: "" }, "0044 7700 900 321");
    expect(pasted.country).toBe("GB");
    expect(readPhone(pasted, countryName)).toEqual({ status: "ok", e164: "+447700900321" });
  });

  it("leaves a deletion as typed, and tidies it when asked", () => {
    const before = { country: "GB" as const, text: "07700 900123" };
    const deleted = typePhone(before, "07700900123");
    expect(deleted.text).toBe("07700900123");
    expect(formatPhone(deleted).text).toBe("07700 900123");
  });

  it("says when a number is not possible for its country", () => {
    expect(readPhone({ country: "GB", text: "0770" }, countryName)).toEqual({
      status: "invalid",
      message: "That is not a possible phone number in United Kingdom. Check the number and the country.",
    });
    expect(readPhone({ country: "DE", text: "call me" }, countryName).status).toBe("invalid");
    expect(readPhone({ country: "DE", text: "  " }, countryName)).toEqual({ status: "empty" });
  });

  it("agrees with the server on what it sends", () => {
    for (const [country, text] of [
      ["GB", "07700 900123"],
      ["FR", "06 12 34 56 78"],
      ["US", "(415) 555-0100"],
      ["DE", "0151 23456789"],
      ["IN", "98765 43210"],
    ] as const) {
      const reading = readPhone({ country, text }, countryName);
      expect(reading.status, `${country} ${text}`).toBe("ok");
      if (reading.status === "ok") expect(normalizePhone(reading.e164)).toBe(reading.e164);
    }
  });

  it("keeps the national digits when another country is picked", () => {
    expect(pickCountry({ country: "GB", text: "+44 7700 900123" }, "FR")).toEqual({
      country: "FR",
      text: "7700900123",
    });
    expect(pickCountry({ country: "GB", text: "0612345678" }, "FR")).toEqual({
      country: "FR",
      text: "06 12 34 56 78",
    });
  });

  it("shows a stored E.164 number in its country's national form", () => {
    expect(phoneValueOf("+447700900123", "US")).toEqual({ country: "GB", text: "07700 900123" });
    expect(phoneValueOf("+14155550100", "GB")).toEqual({ country: "US", text: "(415) 555-0100" });
    expect(phoneValueOf(null, "DE")).toEqual({ country: "DE", text: "" });
    // Stored before numbers had to carry their country: shown as it was.
    expect(phoneValueOf("call me", "DE")).toEqual({ country: "DE", text: "call me" });
  });

  it("starts from the profile's locale, then its time zone, then the browser", () => {
    expect(defaultCountry({ locale: "fr-CA", timeZone: "Europe/Paris", languages: ["en-US"] })).toBe("CA");
    expect(defaultCountry({ locale: "en", timeZone: "Europe/Berlin", languages: ["en-US"] })).toBe("DE");
    expect(defaultCountry({ locale: "en", timeZone: "UTC", languages: ["de", "en-GB"] })).toBe("GB");
    expect(
      defaultCountry({ locale: "en", timeZone: "UTC", languages: ["fr"], browserTimeZone: "Asia/Calcutta" }),
    ).toBe("IN");
    expect(defaultCountry({ locale: "ja", timeZone: "UTC", languages: [] })).toBe("JP");
    expect(defaultCountry({})).toBe("US");
  });

  it("lists every country once, named and sorted for the reader, with its calling code", () => {
    const options = countryOptions("en");
    expect(new Set(options.map((o) => o.code)).size).toBe(options.length);
    expect(options.length).toBeGreaterThan(200);
    expect(options.find((o) => o.code === "GB")).toEqual({
      code: "GB",
      name: "United Kingdom",
      callingCode: "44",
    });
    const german = countryOptions("de");
    expect(german.find((o) => o.code === "DE")?.name).toBe("Deutschland");
    expect(german.map((o) => o.name)).toEqual(
      [...german.map((o) => o.name)].sort(new Intl.Collator("de").compare),
    );
  });
});
