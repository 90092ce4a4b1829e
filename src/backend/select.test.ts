import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './select.ts';

const root = join(import.meta.dirname, '..', '..');
const probe = `import { selectBackend } from './src/backend/select.ts'; console.log(selectBackend().name);`;

function pick(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8',
  });
}

describe('backend selection', () => {
  it('falls back to js with a one-line notice when the addon is missing', () => {
    const r = pick({ FMN_NATIVE_ADDON: '/nonexistent/fmn_native.node', FMN_BACKEND: '' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('js');
    const notices = r.stderr.split('\n').filter((l) => l.includes('native backend unavailable'));
    expect(notices).toHaveLength(1);
  });

  it('FMN_BACKEND=js forces the reference backend', () => {
    expect(selectBackend({ kind: 'js' }).name).toBe('js');
    expect(pick({ FMN_BACKEND: 'js' }).stdout.trim()).toBe('js');
  });

  it('forcing native without the addon is an error, not a silent fallback', () => {
    const r = pick({ FMN_NATIVE_ADDON: '/nonexistent/fmn_native.node', FMN_BACKEND: 'native' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('native addon not built');
  });

  it('a bad FMN_BACKEND value is a clear configuration error', () => {
    expect(() => selectBackend({ kind: 'gpu' as never })).toThrow(/js, native or auto/);
  });
});
