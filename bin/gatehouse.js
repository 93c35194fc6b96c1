#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// Runs the compiled CLI when present (npm run build), else the TypeScript source through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const args = existsSync(compiled) ? [compiled] : ["--import", "tsx", source];
const result = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
