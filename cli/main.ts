#!/usr/bin/env node
// `npx easel ...`: package.json's bin is this file compiled (dist/cli/main.js), so the CLI runs
// on plain Node after `npm ci --omit=dev`; run.ts holds the logic, so tests call it in-process.
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
