import dns2 from "dns2";

const { Packet } = dns2;

type Records = { txt?: string[]; cname?: string; a?: string[] };

/**
 * A real DNS server (dns2, UDP on 127.0.0.1) answering TXT, CNAME and A questions from a table the
 * test edits as it goes — for custom-domain verification against DNS_SERVERS. Unknown names are
 * NXDOMAIN; `fail(name)` makes a name answer SERVFAIL (a resolver that cannot help).
 */
export async function startDnsRecordsServer() {
  const records = new Map<string, Records>();
  const failing = new Set<string>();
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      if (!question) return void send(response);
      const name = question.name.toLowerCase();
      queries.push(`${name}/${question.type}`);
      if (failing.has(name)) {
        response.header.rcode = 2; // SERVFAIL
        return void send(response);
      }
      const entry = records.get(name);
      if (!entry) {
        response.header.rcode = 3; // NXDOMAIN
        return void send(response);
      }
      type Answer = (typeof response.answers)[number];
      // dns2's types ask for `toBuffer` on answers; the encoder does not (its README pushes plain objects).
      const answer = (fields: Omit<Answer, "toBuffer">) => response.answers.push(fields as Answer);
      const base = { name: question.name, class: Packet.CLASS.IN, ttl: 1 };
      // A CNAME answers every question type about its name (RFC 1034 §3.6.2).
      if (entry.cname) answer({ ...base, type: Packet.TYPE.CNAME, domain: entry.cname });
      else if (question.type === Packet.TYPE.TXT)
        for (const data of entry.txt ?? []) answer({ ...base, type: Packet.TYPE.TXT, data });
      else if (question.type === Packet.TYPE.A)
        for (const address of entry.a ?? []) answer({ ...base, type: Packet.TYPE.A, address });
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = (addresses.udp as { port: number }).port;

  const edit = (name: string, change: Records) => {
    const key = name.toLowerCase();
    records.set(key, { ...records.get(key), ...change });
  };
  return {
    /** For DNS_SERVERS. */
    address: `127.0.0.1:${port}`,
    queries,
    txt: (name: string, values: string[]) => edit(name, { txt: values }),
    cname: (name: string, target: string | undefined) => edit(name, { cname: target }),
    a: (name: string, addresses: string[]) => edit(name, { a: addresses }),
    remove: (name: string) => records.delete(name.toLowerCase()),
    fail: (name: string, on = true) =>
      on ? failing.add(name.toLowerCase()) : failing.delete(name.toLowerCase()),
    close: () => server.close(),
  };
}

export type DnsRecordsServer = Awaited<ReturnType<typeof startDnsRecordsServer>>;
