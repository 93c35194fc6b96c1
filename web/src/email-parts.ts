/**
 * Where an email address may wrap: before its "@" and its dots ("alice.nguyen" / "@example.com"),
 * as style guides break addresses. Each part keeps its hyphens: "very-long" never splits.
 */
export function emailParts(email: string): string[] {
  return email.split(/(?=[@.])/).filter(Boolean);
}
