// Shared by the benchmark scripts: child-process servers (bench/servers.ts) and autocannon runs.
import { type ChildProcess, spawn } from "node:child_process";
import autocannon from "autocannon";

export type Measured = { rps: number; p50: number; p99: number };

/** Starts `bench/servers.ts <args>` in its own process and resolves with its address. */
export function startServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; accountId: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/servers.ts", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      const { address } = JSON.parse(line) as { address: { port: number; account_id: string } };
      resolve({ url: `http://127.0.0.1:${address.port}`, accountId: address.account_id, child });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

/** A warm-up, then `seconds` of load; any error or non-2xx answer fails the benchmark. */
export async function measure(
  options: autocannon.Options,
  seconds: number,
  connections: number,
): Promise<Measured> {
  await autocannon({ ...options, duration: 1, connections });
  const r = await autocannon({ ...options, duration: seconds, connections });
  if (r.non2xx || r.errors) throw new Error(`${options.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

/** Raw argon2id verifications per second with the server's parameters (the log-in baseline). */
export async function runArgon2(seconds: number): Promise<{ per_second: number; p50: number; p99: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/servers.ts", "argon2", String(seconds), "4"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await new Promise((resolve) => child.on("exit", resolve));
  return JSON.parse(out.trim().split("\n").pop() as string);
}
