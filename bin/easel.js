#!/usr/bin/env node
// `npx easel ...`: the operator CLI. The CLI is TypeScript (scripts/cli/), typed and tested
// like the rest of Easel; tsx (already used by `npm run dev` and the tests) runs it straight
// from the checkout, so it works right after `npm install`, with no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { runCli } = await import('../scripts/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
