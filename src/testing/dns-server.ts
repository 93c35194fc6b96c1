import dgram from "node:dgram";
import { promises as dns } from "node:dns";
import type { ResolveHost } from "../lib/outbound-http.js";

/**
 * A real DNS server on UDP 127.0.0.1 that answers A and AAAA questions from a table the test changes
 * as it goes (to play a rebinding attacker). Enough of RFC 1035 for node's resolver: one question,
 * answers with a pointer to it, NOERROR with no answers for names it does not know.
 */
export async function startDnsServer() {
  const records = new Map<string, string[]>();
  const queries: string[] = [];
  const socket = dgram.createSocket("udp4");

  socket.on("message", (message, remote) => {
    const id = message.readUInt16BE(0);
    let offset = 12;
    const labels: string[] = [];
    for (let length = message[offset] ?? 0; length > 0; length = message[offset] ?? 0) {
      labels.push(message.subarray(offset + 1, offset + 1 + length).toString("ascii"));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = message.readUInt16BE(offset + 1);
    const name = labels.join(".").toLowerCase();
    queries.push(`${name}/${type === 28 ? "AAAA" : "A"}`);
    const wanted = (records.get(name) ?? []).filter((a) =>
      type === 28 ? a.includes(":") : !a.includes(":"),
    );
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(wanted.length, 6);
    const answers = wanted.map((address) => {
      const data = address.includes(":") ? ipv6Bytes(address) : Buffer.from(address.split(".").map(Number));
      const answer = Buffer.alloc(12);
      answer.writeUInt16BE(0xc00c, 0);
      answer.writeUInt16BE(type, 2);
      answer.writeUInt16BE(1, 4);
      answer.writeUInt32BE(0, 6);
      answer.writeUInt16BE(data.length, 10);
      return Buffer.concat([answer, data]);
    });
    socket.send(
      Buffer.concat([header, message.subarray(12, questionEnd), ...answers]),
      remote.port,
      remote.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();

  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  /** What the app uses to resolve names: this server, A and AAAA. */
  const resolveHost: ResolveHost = async (hostname) => {
    const v4 = await resolver.resolve4(hostname).catch(() => [] as string[]);
    const v6 = await resolver.resolve6(hostname).catch(() => [] as string[]);
    return [
      ...v4.map((address) => ({ address, family: 4 })),
      ...v6.map((address) => ({ address, family: 6 })),
    ];
  };

  return {
    port,
    resolveHost,
    /** Questions asked so far, as `name/A` or `name/AAAA`. */
    queries,
    /** From now on `name` answers these addresses. */
    answer(name: string, addresses: string[]) {
      records.set(name.toLowerCase(), addresses);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function ipv6Bytes(address: string): Buffer {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...new Array(8 - left.length - right.length).fill("0"), ...right];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return bytes;
}
