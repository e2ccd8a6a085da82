#!/usr/bin/env -S node --max-semi-space-size=64
// Parley's command line. Runs the TypeScript sources through tsx (see docs/decisions/0001).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../apps/server/src/cli/main.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
