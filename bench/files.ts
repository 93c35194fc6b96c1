// File serving: GET /files/<key> (an uploaded logo, from the data folder) against a bare Fastify route
// sending the same number of bytes from memory with the same headers, measured in the same run; and the
// revalidation answer (If-None-Match → 304), which browsers rarely need since the files are immutable.
// Usage: npm run bench:files [-- --seconds 10 --connections 10]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import sharp from "sharp";
import { type Measured, measure, startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const load = (options: Parameters<typeof measure>[0]) => measure(options, seconds, connections);
/** As `measure`, for an answer that is meant to be 304 (autocannon counts it as non-2xx). */
async function load304(options: autocannon.Options): Promise<Measured> {
  await autocannon({ ...options, duration: 1, connections });
  const r = await autocannon({ ...options, duration: seconds, connections });
  if (
    r.errors ||
    r["3xx"] !== r.requests.total - r["1xx"] - r["2xx"] - r["4xx"] - r["5xx"] ||
    r["2xx"] ||
    r["4xx"] ||
    r["5xx"]
  )
    throw new Error(
      `${options.url}: not all 304 (${r["2xx"]} 2xx, ${r["4xx"]} 4xx, ${r["5xx"]} 5xx, ${r.errors} errors)`,
    );
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** Logs in as the benchmark user and uploads a 1024×1024 PNG logo; returns the served path and size. */
async function uploadLogo(url: string, accountId: string) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  // A gradient, so the PNG is a realistic size rather than a few hundred bytes of one colour.
  const pixels = Buffer.alloc(1024 * 1024 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + (i >> 12)) & 0xff;
  const png = await sharp(pixels, { raw: { width: 1024, height: 1024, channels: 3 } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append("file", new Blob([png], { type: "image/png" }), "logo.png");
  const response = await fetch(`${url}/api/v1/accounts/${accountId}/logo`, {
    method: "PUT",
    headers: { cookie, "x-csrf-token": csrf_token },
    body: form,
  });
  if (response.status !== 200) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  const path = new URL(((await response.json()) as { logo_url: string }).logo_url).pathname;
  const served = await fetch(`${url}${path}`);
  return { path, bytes: (await served.arrayBuffer()).byteLength, etag: served.headers.get("etag") ?? "" };
}

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);

const rows: string[] = [];
const results: Array<[string, string, Awaited<ReturnType<typeof load>>]> = [];
// The baseline is measured before and after the others (the machine is shared: load comes and goes),
// and the ratios use the better of the two.
const bare = await startServer(["bare"], { BARE_FILE_BYTES: "15500" });
const bareBefore = await load({ url: `${bare.url}/bare-file` });
for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  try {
    const logo = await uploadLogo(server.url, server.accountId);
    results.push([
      `GET /files/<key> (200, ${logo.bytes} bytes)`,
      name,
      await load({ url: `${server.url}${logo.path}` }),
    ]);
    results.push([
      "GET /files/<key> with If-None-Match (304)",
      name,
      await load304({ url: `${server.url}${logo.path}`, headers: { "if-none-match": logo.etag } }),
    ]);
  } finally {
    server.child.kill();
  }
}
const bareAfter = await load({ url: `${bare.url}/bare-file` });
bare.child.kill();
const baseline = bareBefore.rps >= bareAfter.rps ? bareBefore : bareAfter;
console.log(`baseline before: ${fmt(bareBefore.rps)}/s, after: ${fmt(bareAfter.rps)}/s`);
rows.push(
  `| bare Fastify route, same bytes from memory (baseline) | – | ${fmt(baseline.rps)} | ${baseline.p50} | ${baseline.p99} | 100% |`,
);
for (const [what, name, r] of results)
  rows.push(
    `| ${what} | ${name} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${((r.rps / baseline.rps) * 100).toFixed(0)}% of bare |`,
  );
console.log(`${seconds} s per row, ${connections} connections`);
console.log("| request | database | requests/s | p50 ms | p99 ms | ratio |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
process.exit(0);
