import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type IpAllowlistGuard, IpNotAllowedError } from "../accounts/ip-allowlist.js";
import type { Db } from "../db/database.js";
import { invalidFields } from "../http/errors.js";
import { type AccessCache, holds, requirePermission } from "../roles/access.js";
import type { ManagedMembersRepository, ManagedPerson } from "./managed-members.repository.js";
import type { MemberStatus } from "./members.repository.js";

/** An account whose members the caller may read (members:read, active, from this IP). */
export type ManagedAccount = {
  accountId: string;
  accountName: string;
  role: { id: string; key: string; name: string };
  canInvite: boolean;
};

export type ManagedPeopleInput = {
  accountId?: string;
  status?: MemberStatus;
  q?: string;
  limit: number;
  cursor?: string;
};

type Cursor = { key: string; id: string };

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof parsed.key === "string" && typeof parsed.id === "string")
      return { key: parsed.key, id: parsed.id };
  } catch {}
  throw invalidFields([
    { path: "cursor", code: "invalid", message: "This cursor is not one a previous page gave" },
  ]);
}

/**
 * The people of every account a person administers, for those who look after several. The scope is
 * computed per request from the caller's own memberships, each checked with the same access model as
 * the account's member list: nothing of an account they may not read is ever queried.
 */
export function createManagedMembersService(deps: {
  db: Db;
  access: AccessCache;
  accounts: Pick<AccountsRepository, "membershipsOfUser">;
  ipAllowlist: Pick<IpAllowlistGuard, "allows">;
  managedMembers: ManagedMembersRepository;
}) {
  const { db, access } = deps;

  async function managedAccounts(userId: string, ip: string | null | undefined): Promise<ManagedAccount[]> {
    const memberships = await deps.accounts.membershipsOfUser(db, userId);
    const found: ManagedAccount[] = [];
    for (const membership of memberships) {
      const held = await access.get(db, membership.accountId, userId);
      if (held?.status !== "active" || !holds(held, "members:read")) continue;
      // An account's IP allowlist keeps its member list away from other networks, here too.
      if (!(await deps.ipAllowlist.allows(membership.accountId, ip))) continue;
      found.push({
        accountId: membership.accountId,
        accountName: membership.accountName,
        role: { id: membership.role.id, key: membership.role.key, name: membership.role.name },
        canInvite: holds(held, "members:invite"),
      });
    }
    return found.sort(
      (a, b) => a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId),
    );
  }

  return {
    managedAccounts,

    async list(
      userId: string,
      ip: string | null | undefined,
      input: ManagedPeopleInput,
    ): Promise<{ people: ManagedPerson[]; nextCursor: string | null }> {
      const after = input.cursor ? decodeCursor(input.cursor) : undefined;
      if (input.accountId) {
        // The same answers as the account's own member list: 404 outside it, 403 without members:read.
        requirePermission(await access.get(db, input.accountId, userId), "members:read");
        if (!(await deps.ipAllowlist.allows(input.accountId, ip))) throw new IpNotAllowedError(ip);
      }
      const scope = (await managedAccounts(userId, ip)).map((a) => a.accountId);
      const rows = await deps.managedMembers.list(db, {
        scope,
        limit: input.limit + 1,
        ...(input.accountId ? { accountId: input.accountId } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.q ? { q: input.q } : {}),
        ...(after ? { after } : {}),
      });
      const people = rows.slice(0, input.limit);
      const last = people.at(-1);
      return {
        people,
        nextCursor:
          rows.length > input.limit && last ? encodeCursor({ key: last.sortKey, id: last.userId }) : null,
      };
    },
  };
}

export type ManagedMembersService = ReturnType<typeof createManagedMembersService>;
