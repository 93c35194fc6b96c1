import { isIP } from "node:net";
import { domainToASCII } from "node:url";

/** Longest host name DNS carries (RFC 1035: 255 octets on the wire = 253 characters written). */
export const MAX_HOSTNAME_LENGTH = 253;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export type HostnameProblem = { code: string; message: string };

/**
 * A host name as an account types it → its canonical form (lowercase, no trailing dot, IDN as
 * punycode), or why it cannot be a custom domain: IP addresses, single labels, localhost, the
 * installation's own host names and anything under them, over 253 characters, labels DNS refuses.
 */
export function normalizeHostname(
  input: string,
  ownHosts: readonly string[],
): { hostname: string } | { problem: HostnameProblem } {
  const typed = input.trim().toLowerCase().replace(/\.$/, "");
  const refuse = (code: string, message: string) => ({ problem: { code, message } });
  if (typed === "") return refuse("required", "Enter a host name like login.example.com");
  if (typed.length > MAX_HOSTNAME_LENGTH * 4)
    return refuse("too_long", `A host name has at most ${MAX_HOSTNAME_LENGTH} characters`);
  const bare = typed.replace(/^\[|\]$/g, "");
  if (isIP(bare) !== 0) return refuse("ip_address", "Use a host name, not an IP address");
  if (/[/:?#@\s*\\]/.test(typed))
    return refuse("invalid", "Only the host name: no scheme, port, path, wildcard or spaces");
  // domainToASCII answers "" for what IDNA refuses (bad code points, empty labels, bad punycode).
  const hostname = domainToASCII(typed);
  if (hostname === "") return refuse("invalid", "This is not a valid host name");
  if (hostname.length > MAX_HOSTNAME_LENGTH)
    return refuse("too_long", `A host name has at most ${MAX_HOSTNAME_LENGTH} characters`);
  if (hostname === "localhost" || hostname.endsWith(".localhost"))
    return refuse("reserved", "localhost cannot be a custom domain");
  const labels = hostname.split(".");
  if (labels.length < 2)
    return refuse("single_label", "Use a full host name with a dot, like login.example.com");
  if (!labels.every((label) => LABEL.test(label)))
    return refuse(
      "invalid_label",
      "Each part of a host name is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen",
    );
  // An all-numeric last label is an address in disguise (`1.2.3.4` spelled `1.2.3.04`, `0x7f.1`).
  if (/^[0-9]+$/.test(labels.at(-1) ?? "") || isIP(hostname) !== 0)
    return refuse("ip_address", "Use a host name, not an IP address");
  for (const own of ownHosts) {
    if (hostname === own || hostname.endsWith(`.${own}`))
      return refuse("reserved", `${own} and the names under it are this installation's own`);
  }
  return { hostname };
}

/**
 * The name part of a Host header (`Login.Example.com.:8443` → `login.example.com`), or undefined when
 * it is not a plausible DNS name (IPv6 literals, garbage): such hosts are never custom domains.
 */
export function hostOfHeader(host: string | undefined): string | undefined {
  if (!host || host.length > MAX_HOSTNAME_LENGTH + 7 || host.startsWith("[")) return undefined;
  const name = host
    .replace(/:\d{1,5}$/, "")
    .toLowerCase()
    .replace(/\.$/, "");
  if (name.length === 0 || name.length > MAX_HOSTNAME_LENGTH) return undefined;
  return name.split(".").every((label) => LABEL.test(label)) ? name : undefined;
}
