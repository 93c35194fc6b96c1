/**
 * Account-written mail text (the subject and intro overrides of the invitation and welcome mails) is
 * never compiled as a template: this tiny replacer substitutes only the variables below, and PATCH
 * refuses any other `{{…}}` (helpers, blocks, partials, triple braces, unknown names). What comes out
 * is plain text; the mail template escapes it for HTML like any other value.
 */
export const TEMPLATE_VARIABLES = {
  account_name: "The account's name",
  inviter_name: "Who sent the invitation (their name, or their email address)",
  recipient_name: "The invited person's first name (may be empty)",
  recipient_email: "The invited person's email address",
  role_name: "The role the invitation grants",
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export type TemplateValues = Record<TemplateVariable, string>;

/** Everything that looks like a placeholder, well-formed or not: `{{`, up to the next `}}` (or the end). */
const PLACEHOLDER = /\{\{([^}]*)(\}\}\}?)?/g;
const VARIABLE = /^\s*([a-z_]+)\s*$/;

const isVariable = (name: string): name is TemplateVariable => Object.hasOwn(TEMPLATE_VARIABLES, name);

/** The placeholders of `text` that are not a known variable, as written (empty: the text is fine). */
export function unknownPlaceholders(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const [whole, inner = "", close] = match;
    const name = VARIABLE.exec(inner)?.[1];
    // `{{{x}}}` (triple braces) shows as inner "{x"; an unclosed `{{x` has no close.
    if (close !== "}}" || !name || !isVariable(name)) found.push(whole.slice(0, 60));
  }
  return [...new Set(found)];
}

/** `text` with each known variable replaced by its value (unknown ones were refused when saved). */
export function substituteVariables(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (whole, inner: string, close: string | undefined) => {
    const name = VARIABLE.exec(inner)?.[1];
    return close === "}}" && name && isVariable(name) ? values[name] : whole;
  });
}
