/**
 * The package as a user gets it: `npm pack` (which compiles src/ to dist/ with declarations),
 * a fresh project that installs the tarball offline, and the README's library example in it —
 * type-checked against the shipped declarations, then run; the compiled JavaScript imports on
 * plain Node without tsx; the `fmn` bin answers.
 *
 * Offline: the fresh project gets a lockfile naming the tarball and this package's production
 * dependencies exactly as package-lock.json resolves them, so `npm ci --offline` takes every
 * one from the npm cache that installing this checkout filled.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...o });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${String(r.stdout).slice(-1500)}\n${String(r.stderr).slice(-3000)}`);
  return String(r.stdout);
}

describe('the packed package in a fresh project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-pack-'));
  const app = join(dir, 'app');
  let tarball = '';

  beforeAll(() => {
    mkdirSync(app);
    run(npm, ['pack', '--silent', '--pack-destination', app], { cwd: root });
    tarball = readdirSync(app).find((f) => f.endsWith('.tgz'))!;
    const me = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    // the production closure: everything not dev-only; "devOptional" (needed by an optional production
    // dependency and by a dev one) stays, as optional
    const prod = Object.fromEntries(Object.entries(lock.packages as Record<string, { dev?: boolean; devOptional?: boolean }>)
      .filter(([k, v]) => k !== '' && !v.dev)
      .map(([k, { devOptional, ...v }]) => [k, devOptional ? { ...v, optional: true } : v]));
    const deps = { forgetmenot: `file:${tarball}` };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module', dependencies: deps }, null, 2));
    const integrity = `sha512-${createHash('sha512').update(readFileSync(join(app, tarball))).digest('base64')}`;
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify({
      name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: deps },
        'node_modules/forgetmenot': { version: me.version, resolved: `file:${tarball}`, integrity, hasInstallScript: true, license: me.license, dependencies: me.dependencies, bin: me.bin, engines: me.engines },
        ...prod,
      },
    }, null, 2));
    run(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships compiled JavaScript with declarations, not the tests', () => {
    const pkg = join(app, 'node_modules', 'forgetmenot');
    const files = readdirSync(pkg, { recursive: true }).map(String);
    expect(files).toContain(join('dist', 'index.js'));
    expect(files).toContain(join('dist', 'index.d.ts'));
    expect(files.filter((f) => /\.test\.ts$|\.testutil\.ts$/.test(f))).toEqual([]);
    // plain Node, no TypeScript loader: the compiled package imports
    const out = run(process.execPath, ['--input-type=module', '-e', "const m = await import('forgetmenot'); console.log(typeof m.finetune, typeof m.evaluateProbes)"], { cwd: app });
    expect(out.trim()).toBe('function function');
  });

  it('the README library example type-checks against the shipped declarations and runs', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const code = /## As a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    writeFileSync(join(app, 'example.ts'), code!);
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), 'example.ts'], { cwd: app });
    const out = run(process.execPath, ['--import', 'tsx', 'example.ts'], { cwd: app });
    expect(out).toMatch(/^task [\d.]+ → [\d.]+, drift -?[\d.]+% \[-?[\d.]+%, -?[\d.]+%\], (PASS|FAIL|INCONCLUSIVE)/);
  }, 300_000);

  it('the fmn bin answers', () => {
    expect(run(join(app, 'node_modules', '.bin', 'fmn'), ['--help'], { cwd: app })).toMatch(/^fmn \d+\.\d+\.\d+/);
  });
});
