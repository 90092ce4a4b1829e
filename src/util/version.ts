import { readFileSync } from 'node:fs';

/** The package's version, read once from package.json (the one place it is written). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What every saved run records about the software that made it. */
export const versions = (): { forgetmenot: string; node: string } => ({ forgetmenot: VERSION, node: process.version });
