// People across accounts (Settings → People): the shapes of GET /me/managed-members, /me/managed-accounts
// and POST /invitations, and the plain logic the page needs, kept apart from React for test/web.
import type { RoleRef } from "./types.js";

/** An account whose members the signed-in user may read; `can_invite`: members:invite there too. */
export type ManagedAccount = { account_id: string; account_name: string; role: RoleRef; can_invite: boolean };

export type PersonMembership = {
  account_id: string;
  account_name: string;
  role: RoleRef;
  status: "active" | "suspended" | "deactivated" | string;
  last_login_at: string | null;
  joined_at: string;
};

export type ManagedPerson = {
  user_id: string;
  name: string;
  first_name: string;
  last_name: string;
  email: string;
  avatar_url: string | null;
  avatar_thumb_url: string | null;
  accounts: PersonMembership[];
};

export type MultiInviteRow = {
  email: string;
  account_id: string;
  invitation?: { id: string };
  error?: { code: string; detail: string };
};

/** The People page is for people who look after several accounts: members:read in two or more. */
export function managesSeveralAccounts(accounts: readonly ManagedAccount[] | undefined): boolean {
  return (accounts?.length ?? 0) >= 2;
}

export type PeopleFilters = {
  account_id: string;
  q: string;
  status: "" | "active" | "suspended" | "deactivated";
};

export const NO_PEOPLE_FILTERS: PeopleFilters = { account_id: "", q: "", status: "" };

/** The list's query parameters: empty filters are left out, the search trimmed. */
export function peopleQuery(filters: PeopleFilters): Record<string, string | undefined> {
  const q = filters.q.trim();
  return {
    account_id: filters.account_id || undefined,
    q: q || undefined,
    status: filters.status || undefined,
  };
}

/** What a row shows as the person's name: their name, else their address. */
export function personLabel(person: Pick<ManagedPerson, "name" | "email">): string {
  return person.name.trim() || person.email;
}

/**
 * Why one address was not invited to one account, in words naming the account, for the refusals that
 * are about the account; null for the rest (the shared explanations in error-messages.ts say those).
 */
export function inviteRefusal(row: MultiInviteRow, accountName: string): string | null {
  const error = row.error;
  if (!error) return null;
  switch (error.code) {
    case "seat_limit_reached":
      return `No free seat in ${accountName}: its plan's seat limit is reached.`;
    case "not_found":
      return `You are not a member of ${accountName}.`;
    case "forbidden":
      return `Your role in ${accountName} doesn't allow inviting people.`;
    case "ip_not_allowed":
      return `${accountName} doesn't allow access from your network.`;
    default:
      return null;
  }
}

export type InviteOutcomes = {
  /** The addresses, in the order given (each once). */
  emails: string[];
  /** The accounts, in the order asked. */
  accountIds: string[];
  /** `email → account → row`. */
  cell(email: string, accountId: string): MultiInviteRow | undefined;
  sent: number;
  refused: number;
};

/** The per-address, per-account answer of POST /invitations, as a grid to show. */
export function inviteOutcomes(rows: readonly MultiInviteRow[]): InviteOutcomes {
  const emails: string[] = [];
  const accountIds: string[] = [];
  const cells = new Map<string, MultiInviteRow>();
  for (const row of rows) {
    if (!emails.includes(row.email)) emails.push(row.email);
    if (!accountIds.includes(row.account_id)) accountIds.push(row.account_id);
    const key = `${row.email}\u0000${row.account_id}`;
    // A repeated address keeps its first answer (the second is "listed more than once").
    if (!cells.has(key)) cells.set(key, row);
  }
  return {
    emails,
    accountIds,
    cell: (email, accountId) => cells.get(`${email}\u0000${accountId}`),
    sent: rows.filter((row) => row.invitation).length,
    refused: rows.filter((row) => row.error).length,
  };
}

/** The summary line above the results: "Sent 2 invitations. 2 were not sent." */
export function inviteSummary(outcomes: Pick<InviteOutcomes, "sent" | "refused">): string {
  const sent =
    outcomes.sent > 0
      ? `Sent ${outcomes.sent} invitation${outcomes.sent === 1 ? "" : "s"}.`
      : "No invitations were sent.";
  if (outcomes.refused === 0) return sent;
  return `${sent} ${outcomes.refused} ${outcomes.refused === 1 ? "was" : "were"} not sent (reasons below).`;
}

/** The role an account's row starts with: Monitor (read-only) when there is one, else the first offered. */
export function defaultInviteRole(roles: readonly RoleRef[]): string {
  return (
    (roles.find((role) => role.key === "monitor") ?? roles.find((role) => role.key !== "root"))?.id ?? ""
  );
}
