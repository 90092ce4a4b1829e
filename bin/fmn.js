#!/usr/bin/env node
// The fmn CLI: runs the TypeScript sources through tsx (no build step). A command's module is
// loaded only when it runs, so `fmn --help` stays quick.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(argv, version);
