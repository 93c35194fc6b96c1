import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { CheckboxList } from "../../components/checkbox-list";
import { Dialog, DialogActions } from "../../components/dialog";
import { SelectField, TextAreaField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { explainItemError } from "../../error-messages";
import { Link } from "../../router";
import type { Account, InvitePreview, InviteResult, RoleRef, Team } from "../../types";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";
import { InviteQuote } from "./invite-quote";
import { BILLING_PATH, useSeats } from "./seat-usage";

const FIELDS = ["emails", "first_name", "last_name", "role_id", "team_ids"] as const;
const MAX_EMAILS = 100;

type InviteForm = {
  emails: string;
  first_name: string;
  last_name: string;
  role_id: string;
  team_ids: string[];
};

/** Commas, semicolons, spaces and new lines all separate addresses (pasting from a spreadsheet works). */
export function parseEmails(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((email) => email.trim())
    .filter(Boolean);
}

type Props = {
  roles: readonly RoleRef[];
  teams: readonly Team[];
  onClose: () => void;
  /** Some invitations went out: the lists behind the dialog are stale. */
  onInvited: () => void;
};

export function InviteDialog({ roles, teams, onClose, onInvited }: Props) {
  const api = useApi();
  const base = useAccountPath();
  const { can } = usePermissions();
  const account = useResource<Account>(can("account:read") ? base : null);
  const defaultRole = roles.find((role) => role.id === account.data?.default_role_id);
  // On a paid plan an accepted invitation is charged: the cost is shown first, sending is a second step.
  // Nothing is sent before the plan is known; if it cannot be read, the cost is shown anyway.
  const seats = useSeats();
  const planKnown = seats.data !== undefined || seats.error !== null;
  const quoteFirst = seats.data?.plan !== "free";
  const [form, setForm] = useState<InviteForm>({
    emails: "",
    first_name: "",
    last_name: "",
    role_id: "",
    team_ids: [],
  });
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [busy, setBusy] = useState(false);
  // Keyed by position: the same address may be listed twice (a "duplicate" result).
  const [results, setResults] = useState<Array<InviteResult & { key: string }> | null>(null);
  // What accepting each address would cost, for exactly the form as it is: any edit drops it.
  const [quote, setQuote] = useState<Array<InvitePreview & { key: string }> | null>(null);
  const emails = parseEmails(form.emails);

  function set<K extends keyof InviteForm>(field: K) {
    return (value: InviteForm[K]) => {
      setForm((current) => ({ ...current, [field]: value }));
      edited(field);
      setQuote(null);
    };
  }

  function showResults(data: InviteResult[]) {
    setResults(data.map((result, position) => ({ ...result, key: String(position) })));
    // What failed stays in the box, ready to be corrected and sent again.
    const failed = data.filter((result) => result.error).map((result) => result.email);
    setForm((current) => ({ ...current, emails: failed.join("\n") }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (emails.length === 0 || emails.length > MAX_EMAILS) {
      refuse({
        emails:
          emails.length === 0
            ? "Enter at least one email address."
            : `At most ${MAX_EMAILS} addresses at a time (you entered ${emails.length}).`,
      });
      return;
    }
    setBusy(true);
    clear();
    const body = {
      emails,
      ...(form.first_name.trim() ? { first_name: form.first_name.trim() } : {}),
      ...(form.last_name.trim() ? { last_name: form.last_name.trim() } : {}),
      ...(form.role_id ? { role_id: form.role_id } : {}),
      ...(form.team_ids.length > 0 ? { team_ids: form.team_ids } : {}),
    };
    try {
      if (quoting) {
        const preview = await api.post<{ data: InvitePreview[] }>(`${base}/invitations`, {
          ...body,
          preview: true,
        });
        if (preview.data.every((item) => item.error)) {
          // Nothing would be sent: say why, as a real attempt would.
          showResults(preview.data);
          return;
        }
        setResults(null);
        setQuote(preview.data.map((item, position) => ({ ...item, key: String(position) })));
        return;
      }
      const answer = await api.post<{ data: InviteResult[] }>(`${base}/invitations`, body);
      setQuote(null);
      showResults(answer.data);
      if (answer.data.some((result) => !result.error)) onInvited();
    } catch (caught) {
      setQuote(null);
      // No seat for any of them: a 402 whose errors say, per address, why it was not invited.
      const refused = seatLimitResults(caught, emails);
      if (refused) {
        showResults(refused);
        return;
      }
      // Per-address problems ("emails.3") belong to the emails box, unknown teams ("team_ids.0") to
      // the teams: fieldFor (form-errors.ts) places list items on their list.
      fail(caught);
    } finally {
      setBusy(false);
    }
  }

  const quoting = quoteFirst && quote === null;
  // After a quote, what will be sent: the addresses it found nothing against.
  const sending = quote ? quote.filter((item) => !item.error).length : emails.length;
  const submitLabel = quoting
    ? busy
      ? "Checking the cost…"
      : "Check the cost"
    : busy
      ? "Sending…"
      : sending > 1
        ? `Send ${sending} invitations`
        : "Send invitation";
  const sent = results?.filter((result) => !result.error).length ?? 0;
  const failedCount = (results?.length ?? 0) - sent;
  const noSeats = results?.some((result) => result.error?.code === "seat_limit_reached") ?? false;

  return (
    <Dialog title="Invite people" onClose={onClose} busy={busy} wide>
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? <FormAlert code={errors.code}>{errors.form}</FormAlert> : null}
        {quote ? <InviteQuote items={quote} /> : null}
        {results ? (
          <div className="invite-results">
            <FormAlert tone={failedCount > 0 ? "error" : "success"} testId="invite-summary">
              {sent > 0 ? `Sent ${sent} invitation${sent === 1 ? "" : "s"}.` : "No invitations were sent."}
              {failedCount > 0
                ? ` ${failedCount} address${failedCount === 1 ? "" : "es"} need attention.`
                : ""}
            </FormAlert>
            {noSeats ? (
              <FormAlert testId="invite-seat-limit" code="seat_limit_reached">
                The account's seats are all in use, so some addresses were not invited.{" "}
                <Link to={BILLING_PATH}>Upgrade the plan</Link>, or remove users or revoke pending
                invitations, then send them again.
              </FormAlert>
            ) : null}
            <ul className="result-list" aria-label="Invitation results">
              {results.map((result) => (
                <li
                  key={result.key}
                  className={result.error ? "result-fail" : "result-ok"}
                  data-testid="invite-result"
                  data-email={result.email}
                  data-ok={result.error ? "false" : "true"}
                  data-code={result.error?.code}
                >
                  <span className="result-icon" aria-hidden="true">
                    {result.error ? "✗" : "✓"}
                  </span>
                  <span className="break">
                    <strong>{result.email}</strong>
                    {" — "}
                    {result.error ? explainItemError(result.error) : "Invitation sent"}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <TextAreaField
          label="Email addresses"
          name="emails"
          rows={4}
          required
          value={form.emails}
          onValueChange={set("emails")}
          error={errors.fields.emails}
          hint={
            results && failedCount > 0
              ? "The addresses that were not invited are left here to fix and send again."
              : `Separate addresses with commas, spaces or new lines (up to ${MAX_EMAILS}).`
          }
          spellCheck={false}
          autoCapitalize="none"
          data-autofocus=""
        />
        <div className="grid-2">
          <TextField
            label="First name (optional)"
            name="first_name"
            value={form.first_name}
            onValueChange={set("first_name")}
            error={errors.fields.first_name}
          />
          <TextField
            label="Last name (optional)"
            name="last_name"
            value={form.last_name}
            onValueChange={set("last_name")}
            error={errors.fields.last_name}
          />
        </div>
        <SelectField
          label="Role"
          name="role_id"
          value={form.role_id}
          onValueChange={set("role_id")}
          options={[
            { value: "", label: defaultRole ? `${defaultRole.name} (account default)` : "Account default" },
            ...roles.map((role) => ({ value: role.id, label: role.name })),
          ]}
          error={errors.fields.role_id}
        />
        {teams.length > 0 ? (
          <CheckboxList
            legend="Teams (optional)"
            name="team_ids"
            options={teams.map((team) => ({
              value: team.id,
              label: team.name,
              hint: team.role ? `Grants ${team.role.name}` : undefined,
            }))}
            selected={form.team_ids}
            onChange={set("team_ids")}
            error={errors.fields.team_ids}
            scroll
          />
        ) : null}
        <DialogActions>
          <button
            type="submit"
            className="button"
            disabled={busy || !planKnown}
            data-testid="invite-submit"
            data-step={quoting ? "quote" : "send"}
          >
            {submitLabel}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            {results ? "Done" : "Cancel"}
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/**
 * The per-address results of a 402 `seat_limit_reached` (nothing was invited): `errors[].path` is
 * `emails.N`, the message "<email>: reason". Undefined for any other error.
 */
function seatLimitResults(error: unknown, emails: readonly string[]): InviteResult[] | undefined {
  if (!(error instanceof ApiError) || error.code !== "seat_limit_reached") return undefined;
  const byIndex = new Map<number, { code: string; detail: string }>();
  for (const entry of error.errors) {
    const index = /emails[./](\d+)/.exec(entry.path)?.[1];
    if (index === undefined) continue;
    const email = emails[Number(index)] ?? "";
    const detail = entry.message.startsWith(`${email}: `)
      ? entry.message.slice(email.length + 2)
      : entry.message;
    byIndex.set(Number(index), { code: entry.code, detail });
  }
  if (byIndex.size === 0) {
    return emails.map((email) => ({ email, error: { code: error.code, detail: error.message } }));
  }
  return emails.flatMap((email, index) => {
    const refusal = byIndex.get(index);
    return refusal ? [{ email, error: refusal }] : [];
  });
}
