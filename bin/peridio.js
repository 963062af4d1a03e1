#!/usr/bin/env node
// `npx peridio` from a checkout: runs the bundled CLI. The bundle is built by `npm run bundle`, so a checkout
// where it is missing gets told how to make it instead of a module-not-found stack trace.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('peridio: dist/cli/index.js is missing. Run `npm run bundle` in this checkout to build it.');
  process.exit(1);
}
await import(entry.href);
