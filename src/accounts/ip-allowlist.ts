import { BlockList, isIP } from "node:net";
import type { Invalidator } from "../auth/session-cache.js";
import type { Executor } from "../db/database.js";
import { AppError, type FieldError } from "../http/errors.js";
import { createAccountCache } from "../lib/account-cache.js";
import { andThen, type MaybePromise } from "../lib/maybe-async.js";
import type { AccessCache } from "../roles/access.js";
import type { AccountsRepository } from "./accounts.repository.js";

/** A list longer than this is a mistake (or an attack), not a policy; entries are short by nature. */
export const IP_ALLOWLIST_LIMITS = { maxEntries: 100, maxEntryLength: 64 } as const;

type Parsed = { family: 4 | 6; value: bigint; prefix: number };

const BITS = { 4: 32, 6: 128 } as const;

function ipv4ToBigint(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
}

function ipv6ToBigint(address: string): bigint {
  // The WHATWG URL parser writes every IPv6 address in one compressed, hex-only form.
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = "", tail] = canonical.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

function format({ family, value }: Pick<Parsed, "family" | "value">): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, also as a range of /96 or longer) becomes the IPv4 it stands for. */
function unmap(parsed: Parsed): Parsed {
  if (parsed.family === 6 && parsed.prefix >= 96 && parsed.value >> 32n === 0xffffn)
    return { family: 4, value: parsed.value & 0xffffffffn, prefix: parsed.prefix - 96 };
  return parsed;
}

function parse(input: string): Parsed | undefined {
  if (input.length > IP_ALLOWLIST_LIMITS.maxEntryLength) return undefined;
  const [address = "", prefixText, ...rest] = input.split("/");
  // Zone ids (fe80::1%eth0) name an interface of one host; they mean nothing in a policy.
  if (rest.length > 0 || address.includes("%")) return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  let prefix: number = BITS[family];
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > BITS[family]) return undefined;
  }
  const value = family === 4 ? ipv4ToBigint(address) : ipv6ToBigint(address);
  return unmap({ family, value, prefix });
}

/** Network address of the range (host bits cleared), so equal ranges compare equal. */
function canonical(parsed: Parsed): string {
  const bits = BigInt(BITS[parsed.family]);
  const hostBits = bits - BigInt(parsed.prefix);
  const network = (parsed.value >> hostBits) << hostBits;
  const address = format({ family: parsed.family, value: network });
  return parsed.prefix === BITS[parsed.family] ? address : `${address}/${parsed.prefix}`;
}

/** The network of `prefix` bits an address lies in (`203.0.113.0/24`), or undefined for a non-address. */
export function networkOfAddress(address: string, prefix: { 4: number; 6: number }): string | undefined {
  const parsed = address.includes("/") ? undefined : parse(address.trim());
  return parsed && canonical({ ...parsed, prefix: prefix[parsed.family] });
}

/** One entry in its stored form (`203.0.113.0/24`, `2001:db8::/32`, `198.51.100.7`), or undefined. */
export function normalizeIpEntry(input: string): string | undefined {
  const parsed = parse(input.trim());
  return parsed && canonical(parsed);
}

/** The list as stored: canonical entries, duplicates removed, order kept. 400 naming every bad entry. */
export function normalizeIpAllowlist(entries: readonly string[], path = "ip_allowlist"): string[] {
  const errors: FieldError[] = [];
  if (entries.length > IP_ALLOWLIST_LIMITS.maxEntries) {
    errors.push({
      path,
      code: "too_long",
      message: `At most ${IP_ALLOWLIST_LIMITS.maxEntries} entries`,
    });
  }
  const normalized: string[] = [];
  entries.slice(0, IP_ALLOWLIST_LIMITS.maxEntries).forEach((entry, index) => {
    const value = normalizeIpEntry(entry);
    if (value === undefined) {
      const shown = JSON.stringify(entry.length > 70 ? `${entry.slice(0, 70)}…` : entry);
      errors.push({
        path: `${path}.${index}`,
        code: "invalid_ip",
        message: `${shown} is not an IPv4/IPv6 address or CIDR range (like 203.0.113.0/24 or 2001:db8::/32)`,
      });
    } else if (!normalized.includes(value)) normalized.push(value);
  });
  if (errors.length) {
    throw new AppError("validation_failed", errors.map((e) => e.message).join(". "), { errors });
  }
  return normalized;
}

/** The client's address in the form entries use (IPv4-mapped IPv6 as plain IPv4); undefined if unusable. */
export function clientIp(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const parsed = parse(raw);
  return parsed && parsed.prefix === BITS[parsed.family] ? format(parsed) : undefined;
}

export type CompiledAllowlist = { readonly empty: boolean; allows(ip: string | null | undefined): boolean };

const ALLOW_ALL: CompiledAllowlist = { empty: true, allows: () => true };

/** An empty list restricts nothing; otherwise only addresses inside one of the entries pass. */
export function compileAllowlist(entries: readonly string[]): CompiledAllowlist {
  if (entries.length === 0) return ALLOW_ALL;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parse(entry);
    if (!parsed) continue;
    const type = parsed.family === 4 ? "ipv4" : "ipv6";
    list.addSubnet(format(parsed), parsed.prefix, type);
  }
  return {
    empty: false,
    allows(ip) {
      const address = clientIp(ip);
      if (!address) return false;
      return list.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** 403 `ip_not_allowed`, naming the address the server saw (so a proxy misconfiguration shows). */
export class IpNotAllowedError extends AppError {
  constructor(ip: string | null | undefined, what = "this account") {
    super(
      "ip_not_allowed",
      `Access to ${what} is not allowed from your IP address (${clientIp(ip) ?? "unknown"}): it is not on the account's IP allowlist.`,
    );
  }
}

/** A session request as the allowlists see it (see `assertRequest`). */
type AllowlistRequest = {
  userId: string;
  activeAccountId: string | null;
  pathAccountId: string | undefined;
  ip: string | null | undefined;
  checkActive: boolean;
};

/**
 * Each account's allowlist, compiled, for the check on every request: cached per account and dropped in
 * every process by the same `acct:<id>` message a settings change publishes.
 */
export function createIpAllowlistGuard(deps: {
  db: Executor;
  accounts: AccountsRepository;
  access: AccessCache;
  invalidator: Invalidator;
}) {
  const cache = createAccountCache<CompiledAllowlist>(deps.invalidator);
  const load = async (executor: Executor, accountId: string) => {
    const account = await deps.accounts.findById(executor, accountId);
    return compileAllowlist(account?.settings.ip_allowlist ?? []);
  };
  const listOf = (accountId: string) => cache.get(accountId, () => load(deps.db, accountId));
  /** `assertRequest`'s second half: the account in the path, for its active members. */
  function assertPathAccount(input: AllowlistRequest): MaybePromise<void> {
    const { pathAccountId, ip } = input;
    if (!pathAccountId || (input.checkActive && pathAccountId === input.activeAccountId)) return;
    return andThen(listOf(pathAccountId), (list) => {
      if (list.empty) return;
      return andThen(deps.access.get(deps.db, pathAccountId, input.userId), (member) => {
        if (member?.status === "active" && !list.allows(ip)) throw new IpNotAllowedError(ip);
      });
    });
  }
  return {
    /** Cached; for the per-request check. */
    async allows(accountId: string, ip: string | null | undefined): Promise<boolean> {
      return (await listOf(accountId)).allows(ip);
    },
    /**
     * Every session request: the session's active account (unless `checkActive` is off: logout, the
     * account list, switching away) and the account in the path must allow the IP. The path account
     * counts only for its active members: everyone else gets the route's usual 404. Decided at once when
     * the lists it needs are cached (the warm path of every request: returns or throws without a
     * promise), else a promise; refuses with IpNotAllowedError.
     */
    assertRequest(input: AllowlistRequest): MaybePromise<void> {
      const { activeAccountId, ip } = input;
      if (!(input.checkActive && activeAccountId)) return assertPathAccount(input);
      return andThen(listOf(activeAccountId), (list) => {
        if (!list.allows(ip)) throw new IpNotAllowedError(ip);
        return assertPathAccount(input);
      });
    },
    /** Read through `executor` (inside a transaction: what it sees), never cached. */
    async allowsFresh(executor: Executor, accountId: string, ip: string | null | undefined) {
      return (await load(executor, accountId)).allows(ip);
    },
  };
}

export type IpAllowlistGuard = ReturnType<typeof createIpAllowlistGuard>;
