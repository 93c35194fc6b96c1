import { networkOfAddress } from "../accounts/ip-allowlist.js";
import { parseUserAgent } from "../users/user-agent.js";

/** "Firefox on macOS": the browser without its version (an update is the same device) and the system. */
export function deviceFamily(userAgent: string | null): string {
  const { browser, os } = parseUserAgent(userAgent);
  return `${browser.replace(/ \d+$/, "")} on ${os}`;
}

/**
 * The network an address belongs to, as a person's connection keeps it between log-ins: the /24 of
 * an IPv4 address, the /48 of an IPv6 one (an IPv4-mapped address counts as its IPv4). Null when
 * there is no usable address.
 */
export function networkOf(ip: string | null | undefined): string | null {
  return ip ? (networkOfAddress(ip, { 4: 24, 6: 48 }) ?? null) : null;
}
