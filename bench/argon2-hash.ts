// Raw argon2id hashes per second with the server's parameters, `concurrency` at a time: the sign-up
// baseline of the request-path benchmark (bench/servers.ts `argon2` measures verifications, the log-in
// baseline). In a process of its own, like the servers.
// Usage: tsx bench/argon2-hash.ts <seconds> <concurrency>   → prints {"per_second":…,"p50":…,"p99":…,"cpu_us":…}
import { hash } from "@node-rs/argon2";
import { ARGON2_PARAMS } from "../src/auth/passwords.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 4);
let done = 0;
const cpuBefore = process.cpuUsage();
const latencies: number[] = [];
const until = Date.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async (_, worker) => {
    while (Date.now() < until) {
      const start = performance.now();
      await hash(`orchid-Lantern-Harbor-${worker}-${done}`, ARGON2_PARAMS);
      latencies.push(performance.now() - start);
      done++;
    }
  }),
);
latencies.sort((a, b) => a - b);
const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
// CPU of the whole process (the hashing threads included) per hash, in µs.
const cpu = process.cpuUsage(cpuBefore);
const cpu_us = (cpu.user + cpu.system) / Math.max(1, done);
process.stdout.write(
  `${JSON.stringify({ per_second: done / seconds, p50: pick(0.5), p99: pick(0.99), cpu_us })}\n`,
);
