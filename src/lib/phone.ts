import { parsePhoneNumberFromString } from "libphonenumber-js/min";

/** What to say about a number that is not one: the same words for the SMS factor and the profile. */
export const PHONE_MESSAGE = "Enter a mobile number with its country code, like +44 7700 900123";

/** The same for a phone that need not be a mobile (an organization's). */
export const PHONE_NUMBER_MESSAGE = "Enter a phone number with its country code, like +44 20 7946 0958";

/** What people type in a phone number besides digits: spaces, dots, dashes, parentheses. */
const SEPARATORS = /[\s().-]/g;

/**
 * A phone number in E.164 form ("+447700900123"), or undefined when it is not one. The number is given
 * with its country code ("+44 7700 900123"; a leading "00" counts as "+"); spaces, dots, dashes and
 * parentheses are ignored, and nothing else is accepted (no letters, no other scripts' digits).
 * libphonenumber-js (the `min` metadata, as in the web app) decides whether the country exists and the
 * number has a length possible there; a trunk "(0)" after the country code is dropped.
 */
export function normalizePhone(input: string): string | undefined {
  const compact = input.trim().replace(SEPARATORS, "");
  const international = compact.startsWith("00") ? `+${compact.slice(2)}` : compact;
  if (!/^\+[0-9]{1,20}$/.test(international)) return undefined;
  const number = parsePhoneNumberFromString(international);
  return number?.isPossible() ? number.number : undefined;
}
