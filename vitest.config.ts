import { defineConfig } from "vitest/config";

const E2E = ["test/e2e/**/*.test.ts"];

export default defineConfig({
  test: {
    pool: "forks",
    // Argon2 and the browser are CPU-bound; two workers match the two cores.
    maxWorkers: 2,
    // Each worker imports the app once for all the files it runs: isolated, every file re-imported the
    // whole module graph (about 2 s of a core per file, a quarter of the suite's time). Tests share no
    // module state: each builds its own app, database, SMTP sink and browser, and closes them.
    isolate: false,
    hookTimeout: 60_000,
    // expect.poll waits for something to happen (a page to load, a job to run): 1 s by default, which a
    // browser on two loaded cores can miss. A bound, not a timed assertion: a poll returns as soon as it holds.
    expect: { poll: { timeout: 15_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          exclude: E2E,
          testTimeout: 30_000,
        },
      },
      {
        // A browser journey shares two cores with argon2 and the other files: the timeout only
        // guards against a hang, so it is generous (nothing here asserts how long a step takes).
        extends: true,
        test: { name: "e2e", include: E2E, testTimeout: 300_000, hookTimeout: 180_000 },
      },
    ],
  },
});
