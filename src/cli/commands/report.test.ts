import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, DataError, isUserError } from '../../errors.ts';
import { fixtureSummary, writeFixtureMetrics } from '../../report/fixture.testutil.ts';
import { command } from './report.ts';

describe('fmn report DIR...', () => {
  const root = mkdtempSync(join(tmpdir(), 'fmn-report-cli-'));
  let out: string;
  beforeEach(() => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => { vi.restoreAllMocks(); });

  const lab = (name: string) => {
    const dir = join(root, name);
    const s = fixtureSummary();
    writeFixtureMetrics(dir, s);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
    return dir;
  };

  it('rebuilds report.html, report.md and the plots of every directory from summary.json', async () => {
    const a = lab('a'), b = lab('b');
    expect(await command.run([a, b, '--json'])).toBe(0);
    for (const d of [a, b]) {
      for (const f of ['report.html', 'report.md', 'plots/frontier.svg', 'plots/frontier.png']) expect(existsSync(join(d, f)), f).toBe(true);
      expect(JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8'))).toEqual(fixtureSummary());
    }
    const res = JSON.parse(out);
    expect(res.reports.map((r: { dir: string }) => r.dir)).toEqual([a, b]);
    expect(res.reports[0].html).toBe(join(a, 'report.html'));
  });

  it('--help prints usage', async () => {
    expect(await command.run(['--help'])).toBe(0);
    expect(out).toMatch(/^usage: fmn report DIR/);
  });

  it('no directory, a missing summary.json, bad JSON and a wrong shape are user errors naming the file', async () => {
    await expect(command.run([])).rejects.toBeInstanceOf(ConfigError);
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(command.run([empty])).rejects.toThrow(join(empty, 'summary.json'));
    await expect(command.run([empty])).rejects.toBeInstanceOf(ConfigError);

    const bad = join(root, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'summary.json'), '{"version": 1, "arms": [');
    const e1 = await command.run([bad]).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DataError);
    expect((e1 as DataError).file).toBe(join(bad, 'summary.json'));
    expect(isUserError(e1)).toBe(true);

    const s = fixtureSummary() as unknown as { arms: { drift: unknown }[] };
    s.arms[1]!.drift = 'high';
    writeFileSync(join(bad, 'summary.json'), JSON.stringify(s));
    const e2 = await command.run([bad]).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(DataError);
    expect((e2 as DataError).field).toBe('arms.1.drift');
    expect((e2 as Error).message).toContain(join(bad, 'summary.json'));
    rmSync(bad, { recursive: true });
  });
});
