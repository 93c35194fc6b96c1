import { promises as dns } from "node:dns";

/** What a look at a domain's records found. */
export type DnsCheck =
  /** Both records are right. */
  | { outcome: "ok" }
  /** The resolver answered, and a record is missing or wrong: `reason` says which. */
  | { outcome: "broken"; reason: string }
  /** No usable answer (timeout, SERVFAIL, refused): nothing can be concluded about the records. */
  | { outcome: "unreachable"; reason: string };

/** Answers that say "the name or record does not exist" rather than "could not ask". */
const ABSENT = new Set([dns.NOTFOUND, dns.NODATA, "ENOTFOUND", "ENODATA"]);

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code ?? "EUNKNOWN";
const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

export const txtRecordName = (hostname: string) => `_gatehouse.${hostname}`;
export const txtRecordValue = (token: string) => `gatehouse-verification=${token}`;

/**
 * Looks a custom domain's records up through node's resolver (DNS_SERVERS, or the system's):
 * `_gatehouse.<hostname>` must hold the TXT value, and `<hostname>` must be a CNAME to the target —
 * or, for a zone apex that cannot have a CNAME (providers' "ALIAS"/"flattening"), resolve to the same
 * addresses as the target does.
 */
export function createDnsChecker(options: { servers: readonly string[]; timeoutMs?: number }) {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 3000, tries: 2 });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);

  /** The answer, [] when the name or record is absent, or the error code when no answer came. */
  async function lookup<T>(query: () => Promise<T[]>): Promise<T[] | { failed: string }> {
    try {
      return await query();
    } catch (error) {
      const code = codeOf(error);
      return ABSENT.has(code) ? [] : { failed: code };
    }
  }

  async function addresses(name: string): Promise<string[] | { failed: string }> {
    const v4 = await lookup(() => resolver.resolve4(name));
    if ("failed" in v4) return v4;
    const v6 = await lookup(() => resolver.resolve6(name));
    if ("failed" in v6) return v6;
    return [...v4, ...v6].sort();
  }

  async function checkTxt(hostname: string, token: string): Promise<DnsCheck> {
    const name = txtRecordName(hostname);
    const records = await lookup(() => resolver.resolveTxt(name));
    if ("failed" in records)
      return { outcome: "unreachable", reason: `Looking up TXT ${name} failed (${records.failed})` };
    const values = records.map((chunks) => chunks.join(""));
    if (values.length === 0) return { outcome: "broken", reason: `TXT record ${name} not found` };
    if (!values.includes(txtRecordValue(token)))
      return {
        outcome: "broken",
        reason: `TXT record ${name} does not hold ${txtRecordValue(token)}`,
      };
    return { outcome: "ok" };
  }

  async function checkCname(hostname: string, target: string): Promise<DnsCheck> {
    const cnames = await lookup(() => resolver.resolveCname(hostname));
    if ("failed" in cnames)
      return { outcome: "unreachable", reason: `Looking up CNAME ${hostname} failed (${cnames.failed})` };
    const pointsAt = cnames.map(bare);
    if (pointsAt.includes(target)) return { outcome: "ok" };
    if (pointsAt.length > 0)
      return {
        outcome: "broken",
        reason: `CNAME record ${hostname} points at ${pointsAt.join(", ")}, not ${target}`,
      };
    // No CNAME: an apex flattened by the DNS provider answers the target's own addresses.
    const [own, targets] = [await addresses(hostname), await addresses(target)];
    if ("failed" in own || "failed" in targets)
      return { outcome: "unreachable", reason: `Looking up the addresses of ${hostname} failed` };
    if (own.length > 0 && targets.length > 0 && own.every((a) => targets.includes(a)))
      return { outcome: "ok" };
    return { outcome: "broken", reason: `CNAME record ${hostname} → ${target} not found` };
  }

  return {
    /** Both records; a broken answer names every record that is missing or wrong. */
    async check(hostname: string, token: string, target: string): Promise<DnsCheck> {
      const results = [await checkTxt(hostname, token), await checkCname(hostname, target)];
      const unreachable = results.find((r) => r.outcome === "unreachable");
      if (unreachable) return unreachable;
      const broken = results.flatMap((r) => (r.outcome === "broken" ? [r.reason] : []));
      return broken.length > 0 ? { outcome: "broken", reason: broken.join("; ") } : { outcome: "ok" };
    },
  };
}

export type DnsChecker = ReturnType<typeof createDnsChecker>;
