import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

// The README's library example, pasted into a file and run as a user would (through the
// package name, resolved by the package's own "exports").
it('the README library example runs as written', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = /## As a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = mkdtempSync(join(tmpdir(), 'fmn-readme-'));
  try {
    const file = join(root, `readme-example-${process.pid}.tmp.ts`);   // inside the package, so 'forgetmenot' resolves
    writeFileSync(file, code!);
    try {
      const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout).toMatch(/^task [\d.]+ → [\d.]+, drift -?[\d.]+% \[-?[\d.]+%, -?[\d.]+%\], (PASS|FAIL|INCONCLUSIVE)/);
    } finally { rmSync(file, { force: true }); }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}, 300_000);
