import { promises as dns, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, isIPv4 } from "node:net";

/**
 * The one way Gatehouse makes HTTP requests to addresses its users choose (webhooks). The SSRF policy
 * lives here: a URL may not reach loopback, private, link-local, CGNAT, unspecified, multicast or cloud
 * metadata addresses, nor IPv6 forms that carry such an IPv4 address. It is checked when a URL is saved
 * (a clear 400) and again on the address each connection is actually made to: the custom `lookup` below
 * is what node's http/https connect with, so a name that answers differently later (DNS rebinding) is
 * refused at connect time.
 */

export type ForbiddenRange =
  | "loopback"
  | "private"
  | "link-local"
  | "cgnat"
  | "unspecified"
  | "multicast"
  | "metadata"
  | "reserved";

type Range = { bytes: number[]; prefix: number; kind: ForbiddenRange };

const v4 = (cidr: string, kind: ForbiddenRange): Range => {
  const [address = "", prefix = "32"] = cidr.split("/");
  return { bytes: address.split(".").map(Number), prefix: Number(prefix), kind };
};

// Most specific first: the metadata address sits inside link-local.
const IPV4_RANGES: Range[] = [
  v4("169.254.169.254/32", "metadata"),
  v4("0.0.0.0/8", "unspecified"),
  v4("127.0.0.0/8", "loopback"),
  v4("10.0.0.0/8", "private"),
  v4("172.16.0.0/12", "private"),
  v4("192.168.0.0/16", "private"),
  v4("169.254.0.0/16", "link-local"),
  v4("100.64.0.0/10", "cgnat"),
  v4("224.0.0.0/4", "multicast"),
  // Class E and the broadcast address: never a real host.
  v4("240.0.0.0/4", "reserved"),
];

function inRange(bytes: readonly number[], range: Range): boolean {
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const width = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - width)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((range.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** 16 bytes of an IPv6 address (zone id ignored), or undefined when it is not one. */
export function parseIpv6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, "");
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  if (isIP(address) !== 6) return undefined;
  const lastColon = address.lastIndexOf(":");
  const last = address.slice(lastColon + 1);
  if (last.includes(".")) {
    // A trailing dotted quad (::ffff:127.0.0.1) is two more groups.
    const [a = 0, b = 0, c = 0, d = 0] = last.split(".").map(Number);
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = address.split("::");
  const parse = (part: string) => (part ? part.split(":").map((h) => Number.parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(rest ?? "");
  const fill = rest === undefined ? [] : new Array(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  if (groups.length !== 8) return undefined;
  return groups.flatMap((g) => [(g >> 8) & 0xff, g & 0xff]);
}

function classifyIpv4(bytes: readonly number[]): ForbiddenRange | undefined {
  return IPV4_RANGES.find((range) => inRange(bytes, range))?.kind;
}

const isZero = (bytes: readonly number[]) => bytes.every((b) => b === 0);

function classifyIpv6(bytes: readonly number[]): ForbiddenRange | undefined {
  const head10 = bytes.slice(0, 10);
  const embedded = bytes.slice(12, 16);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the old "compatible" form): the IPv4 address decides.
  if (
    isZero(head10) &&
    ((bytes[10] === 0xff && bytes[11] === 0xff) || (bytes[10] === 0 && bytes[11] === 0))
  ) {
    if (isZero(bytes.slice(0, 15)) && bytes[15] === 0) return "unspecified";
    if (isZero(bytes.slice(0, 15)) && bytes[15] === 1) return "loopback";
    return classifyIpv4(embedded);
  }
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address a gateway will connect to.
  if (
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    isZero(bytes.slice(4, 12))
  )
    return classifyIpv4(embedded);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyIpv4(bytes.slice(2, 6));
  // fd00:ec2::254, the EC2 metadata service over IPv6 (inside fc00::/7).
  const metadata = parseIpv6("fd00:ec2::254") as number[];
  if (bytes.every((b, i) => b === metadata[i])) return "metadata";
  const first = bytes[0] ?? 0;
  if ((first & 0xfe) === 0xfc) return "private";
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return "link-local";
  // fec0::/10, the withdrawn site-local range.
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0xc0) return "private";
  if (first === 0xff) return "multicast";
  return undefined;
}

/** The forbidden range `address` (IPv4 or IPv6 text) falls in, or undefined when it may be reached. */
export function forbiddenRange(address: string): ForbiddenRange | undefined {
  if (isIPv4(address)) return classifyIpv4(address.split(".").map(Number));
  const bytes = parseIpv6(address);
  // Not an IP address at all: nothing may be connected to it.
  if (!bytes) return "reserved";
  return classifyIpv6(bytes);
}

const RANGE_WORDS: Record<ForbiddenRange, string> = {
  loopback: "a loopback address",
  private: "a private network address",
  "link-local": "a link-local address",
  cgnat: "a carrier-grade NAT address",
  unspecified: "an unspecified address",
  multicast: "a multicast address",
  metadata: "a cloud metadata address",
  reserved: "a reserved address",
};

/** Why a URL may not be called: the message is for the person who entered it. */
export class OutboundRefused extends Error {
  constructor(
    message: string,
    readonly reason: "scheme" | "address" | "dns" | "url",
  ) {
    super(message);
    this.name = "OutboundRefused";
  }
}

/** How a host name becomes addresses; tests inject a resolver that asks their own DNS server. */
export type ResolveHost = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export type OutboundPolicy = {
  /** Lift the address check (development and tests: WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). */
  allowPrivateNetworks: boolean;
  /** Production: only https URLs. */
  requireHttps: boolean;
  resolve?: ResolveHost;
};

export type OutboundResponse = {
  /** The HTTP status, or null when no answer came (timeout, refused address, connection error). */
  status: number | null;
  /** The first `maxResponseBytes` of the answer's body. */
  body: string | null;
  durationMs: number;
  error: string | null;
};

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

export function createOutboundHttp(policy: OutboundPolicy) {
  const resolve = policy.resolve ?? systemResolver;
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 50 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };

  function parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefused("Enter a full URL like https://example.com/webhooks", "url");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new OutboundRefused("The URL must start with https://", "scheme");
    if (policy.requireHttps && url.protocol !== "https:")
      throw new OutboundRefused("The URL must use https://", "scheme");
    if (url.username || url.password)
      throw new OutboundRefused("The URL may not carry a user name or password", "url");
    return url;
  }

  function assertAllowed(address: string, hostname: string) {
    if (policy.allowPrivateNetworks) return;
    const range = forbiddenRange(address);
    if (!range) return;
    const named = address === hostname ? address : `${hostname} (${address})`;
    throw new OutboundRefused(
      `${named} is ${RANGE_WORDS[range]}; webhooks can only be sent to public addresses`,
      "address",
    );
  }

  /** Every address `hostname` resolves to, each checked: one forbidden address refuses the name. */
  async function resolveChecked(hostname: string): Promise<Array<{ address: string; family: number }>> {
    if (isIP(hostname)) {
      assertAllowed(hostname, hostname);
      return [{ address: hostname, family: isIP(hostname) }];
    }
    let addresses: Array<{ address: string; family: number }>;
    try {
      addresses = await resolve(hostname);
    } catch {
      throw new OutboundRefused(`${hostname} does not resolve to an address`, "dns");
    }
    if (addresses.length === 0)
      throw new OutboundRefused(`${hostname} does not resolve to an address`, "dns");
    for (const { address } of addresses) assertAllowed(address, hostname);
    return addresses;
  }

  /**
   * node's `lookup` hook: the connection goes to an address checked here, never to one resolved
   * separately. (node skips the hook for IP literals: `post` checks those before it connects.)
   */
  function lookup(
    hostname: string,
    options: { all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    resolveChecked(hostname).then(
      (addresses) => {
        if (options.all) callback(null, addresses as LookupAddress[]);
        else callback(null, addresses[0]?.address ?? "", addresses[0]?.family ?? 4);
      },
      (error: Error) => callback(error, options.all ? [] : ""),
    );
  }

  return {
    /** Saving a URL: its scheme, and where its host resolves now (throws OutboundRefused). */
    async checkUrl(raw: string): Promise<void> {
      await resolveChecked(hostOf(parse(raw)));
    },

    /**
     * POSTs `body`; never follows redirects (a 3xx is just the answer) and never throws: a refused
     * address, a timeout or a lost connection come back as `error` with no status.
     */
    async post(
      raw: string,
      request: { headers: Record<string, string>; body: string; timeoutMs: number; maxResponseBytes: number },
    ): Promise<OutboundResponse> {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let url: URL;
      try {
        url = parse(raw);
        const host = hostOf(url);
        if (isIP(host)) assertAllowed(host, host);
      } catch (error) {
        return { status: null, body: null, durationMs: elapsed(), error: (error as Error).message };
      }
      const client = url.protocol === "https:" ? https : http;
      return new Promise<OutboundResponse>((done) => {
        let settled = false;
        const finish = (outcome: Omit<OutboundResponse, "durationMs">) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          done({ ...outcome, durationMs: elapsed() });
        };
        const req = client.request(url, {
          method: "POST",
          headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
          agent: agents[url.protocol as "http:" | "https:"],
          lookup,
        });
        const timer = setTimeout(() => {
          req.destroy();
          finish({ status: null, body: null, error: `No answer within ${request.timeoutMs} ms` });
        }, request.timeoutMs);
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const complete = () =>
            finish({
              status: res.statusCode ?? null,
              body: Buffer.concat(chunks).subarray(0, request.maxResponseBytes).toString("utf8"),
              error: null,
            });
          res.on("data", (chunk: Buffer) => {
            if (size >= request.maxResponseBytes) return;
            chunks.push(chunk);
            size += chunk.length;
            // Enough read: the rest of a large answer is not waited for.
            if (size >= request.maxResponseBytes) {
              complete();
              res.destroy();
            }
          });
          res.on("end", complete);
          res.on("error", complete);
          res.on("close", complete);
        });
        req.on("error", (error) => {
          const message = error instanceof OutboundRefused ? error.message : describeNetworkError(error);
          finish({ status: null, body: null, error: message });
        });
        req.end(request.body);
      });
    },

    close(): void {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

function describeNetworkError(error: Error & { code?: string }): string {
  return (error.code ? `${error.code}: ${error.message}` : error.message).slice(0, 500);
}

export type OutboundHttp = ReturnType<typeof createOutboundHttp>;
