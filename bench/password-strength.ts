// The cost of the password strength rule (min_strength, zxcvbn) per password set, against the
// argon2id hash every password set pays anyway, measured in the same run. One process, one thread:
// the check is synchronous CPU work on the event loop.
// Usage: npx tsx bench/password-strength.ts [--rounds 200]
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { strengthInputs } from "../src/auth/password-policy.js";
import { passwordStrength } from "../src/auth/password-strength.js";
import { ARGON2_PARAMS, createPasswordHasher } from "../src/auth/passwords.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "200" } } });
const rounds = Number(values.rounds);

const person = {
  email: "grace.hopper@example.com",
  firstName: "Grace",
  lastName: "Hopper",
  accountNames: ["Navy Labs"],
};
const inputs = strengthInputs(person);

// Deterministic inputs: what people type (passphrases, word+digits, common shapes)…
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const WORDS = [
  "violet",
  "harbor",
  "sunrise",
  "lantern",
  "orchid",
  "meadow",
  "quartz",
  "garden",
  "summer",
  "dragon",
];
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
const typical = Array.from({ length: rounds }, (_, i) => {
  const shape = i % 4;
  if (shape === 0) return `${pick(WORDS)}-${pick(WORDS)}-${pick(WORDS)}-${Math.floor(random() * 100)}`;
  if (shape === 1) return `${pick(WORDS)}${Math.floor(random() * 10_000)}!`;
  if (shape === 2) return `password${Math.floor(random() * 1_000_000)}`;
  return `${pick(WORDS)[0]?.toUpperCase()}${pick(WORDS).slice(1)}${pick(["!", "?", "#"])}${pick(WORDS)}${i}`;
});
// …and inputs shaped to make the matchers work hard (dictionary words with l33t, digit runs, keyboard rows).
const HARD_UNITS = ["a1-Long-passphrase-", "the1andof2to3", "1234567890", "p@55w0rd!", "qwertyuiop[]asdf"];
const hard = (length: number) =>
  HARD_UNITS.map((unit) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

type Sample = { median: number; p95: number };
const summary = (samples: number[]): Sample => {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { median: at(0.5), p95: at(0.95) };
};
async function elapsed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

// First use in a fresh process: importing the dictionaries and building the matcher.
const load = await elapsed(() => passwordStrength("first-use", inputs));

// zxcvbn's own defaults (256 characters, 100 l33t substitutions), to show what the limits save.
// Imported only now, so that the first-use time above includes loading the dictionaries.
const [core, common, en] = await Promise.all([
  import("@zxcvbn-ts/core"),
  import("@zxcvbn-ts/language-common"),
  import("@zxcvbn-ts/language-en"),
]);
const unbounded = new core.ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});
const hasher = createPasswordHasher(ARGON2_PARAMS);
for (const password of typical.slice(0, 50)) {
  await passwordStrength(password, inputs);
  unbounded.check(password, inputs);
}
await hasher.hash("warm-up-password");

// Interleaved, so that the baseline and each kind of check share the machine's load at every moment
// (the 2 cores are shared with other work): one round = one of each.
const kinds = ["argon", "typical", "hard64", "hard256", "unbounded256"] as const;
const samples: Record<(typeof kinds)[number], number[]> = {
  argon: [],
  typical: [],
  hard64: [],
  hard256: [],
  unbounded256: [],
};
const hard64 = hard(64);
const hard256 = hard(256);
for (let round = 0; round < rounds; round++) {
  samples.argon.push(await elapsed(() => hasher.hash(`violet-Harbor-sunrise-${round}`)));
  samples.typical.push(await elapsed(() => passwordStrength(typical[round] as string, inputs)));
  samples.hard64.push(await elapsed(() => passwordStrength(hard64[round % hard64.length] as string, inputs)));
  samples.hard256.push(
    await elapsed(() => passwordStrength(hard256[round % hard256.length] as string, inputs)),
  );
  // Seconds each: every tenth round only.
  if (round % 10 === 0)
    samples.unbounded256.push(
      await elapsed(() => unbounded.check(hard256[round % hard256.length] as string, inputs)),
    );
}
const argon = summary(samples.argon);
const typicalCost = summary(samples.typical);
const hard64Cost = summary(samples.hard64);
const hard256Cost = summary(samples.hard256);
const unbounded256 = summary(samples.unbounded256);

const ms = (n: number) => n.toFixed(1);
const ratio = (cost: Sample) => `${((cost.median / argon.median) * 100).toFixed(0)}% of a hash`;
const rows = [
  ["argon2id hash (baseline, m=19456 t=2 p=1)", argon, "100%"],
  ["strength check, typical passwords (12–30 chars)", typicalCost, ratio(typicalCost)],
  ["strength check, worst-case shapes, 64 chars", hard64Cost, ratio(hard64Cost)],
  ["strength check, worst-case shapes, 256 chars (scored: first 64)", hard256Cost, ratio(hard256Cost)],
  ["zxcvbn defaults (no limits), worst-case shapes, 256 chars", unbounded256, ratio(unbounded256)],
] as const;
console.log(
  `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (load average ${loadavg()[0]?.toFixed(1)} at the end), Node ${process.version}, ${rounds} rounds; first use (import + build) ${ms(load)} ms.\n`,
);
console.log("| what | median ms | p95 ms | ratio (medians) |\n| --- | ---: | ---: | ---: |");
for (const [what, cost, share] of rows)
  console.log(`| ${what} | ${ms(cost.median)} | ${ms(cost.p95)} | ${share} |`);
