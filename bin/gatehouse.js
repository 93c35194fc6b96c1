#!/usr/bin/env node
// Runs the TypeScript source through tsx in a checkout; the compiled build (npm run build) where the
// source is absent, or when GATEHOUSE_COMPILED=1 — so a stale dist/ never shadows the source.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const useCompiled = existsSync(compiled) && (process.env.GATEHOUSE_COMPILED === "1" || !existsSync(source));
const args = useCompiled ? [compiled] : ["--import", "tsx", source];
const result = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
