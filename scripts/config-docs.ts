// Writes docs/config.md from the commands' schemas: npm run docs:config
import { writeFileSync } from 'node:fs';
import { ALL_SCHEMAS } from '../src/cli/schemas.ts';
import { renderConfigReference } from '../src/config/reference.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference(ALL_SCHEMAS));
