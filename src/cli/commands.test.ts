/** The corpus and tokenizer commands, run as a user runs them: `node bin/fmn.js …`. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fmn = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/fmn.js'), ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('fmn corpus / fmn tokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-cli-'));

  it('corpus --out writes the files and prints the manifest with --json; tokenizer train reads them', () => {
    const r = fmn('corpus', '--out', join(dir, 'c'), '--seed', '3', '--tokens', '20000', '--replay-tokens', '5000', '--sft-rows', '100', '--json');
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.seed).toBe(3);
    expect(manifest.options.replay).toEqual({ tokens: 5000 });
    expect(manifest.counts.replay.irregularPastOverregular).toBe(0);
    for (const f of ['pretrain.txt', 'replay.txt', 'sft.jsonl', 'probes/dev/task.jsonl', 'probes/test/control.jsonl', 'probes/test/adoption.jsonl', 'probes/dev/generalization.jsonl', 'probes/test/echo.jsonl', 'manifest.json']) {
      expect(existsSync(join(dir, 'c', f)), f).toBe(true);
    }
    expect(manifest.counts.sft.rows).toBe(100);

    const t = fmn('tokenizer', 'train', '--text', join(dir, 'c/pretrain.txt'), join(dir, 'c/sft.jsonl'), '--vocab', '300', '--out', join(dir, 'tok'), '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ vocab_size: 300, merges: 41 });
    const json = JSON.parse(readFileSync(join(dir, 'tok/tokenizer.json'), 'utf8'));
    expect(json.model.type).toBe('BPE');

    const e = fmn('tokenizer', 'encode', '--tokenizer', join(dir, 'tok'), '--allow-special', 'Él fue<|sep|>');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).at(-1)).toBe(299);
  });

  it('--help prints usage and exits 0', () => {
    for (const cmd of ['corpus', 'tokenizer']) {
      const r = fmn(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: fmn /);
    }
  });

  it('unknown options and bad values exit 2 with a clear message', () => {
    const r = fmn('corpus', '--out', join(dir, 'x'), '--colour', 'red');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('field "--colour": unknown option');
    const v = fmn('tokenizer', 'train', '--text', 'a.txt', '--vocab', 'lots', '--out', join(dir, 'y'));
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/"--vocab".*"lots"/);
    const t = fmn('corpus', '--out', join(dir, 'x'), '--sed', '3');
    expect(t.stderr).toContain('did you mean --seed?');
    const m = fmn('corpus', '--seed', '1');
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--out/);
  });

  it('a broken tokenizer.json exits 2 naming the file and line', () => {
    const bad = join(dir, 'broken.json');
    writeFileSync(bad, '{\n  "model": {\n    "type": "BPE",\n  }\n}\n');
    const r = fmn('tokenizer', 'encode', '--tokenizer', bad, 'hello');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:4: malformed JSON`);
  });

  it('corpus --check: a malformed probe line exits 2 naming file, line and field', () => {
    const c = join(dir, 'c');
    expect(fmn('corpus', '--check', c).code).toBe(0);
    const task = join(c, 'probes/test/task.jsonl');
    const rows = readFileSync(task, 'utf8').split('\n');
    rows[2] = '{"kind": "pair", "good": "x"}';
    writeFileSync(task, rows.join('\n'));
    const r = fmn('corpus', '--check', c);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${task}:3, field "bad"`);
    rows[2] = '{"kind": "pair", "good": "x",';
    writeFileSync(task, rows.join('\n'));
    expect(fmn('corpus', '--check', c).stderr).toContain(`${task}:3: malformed JSON`);
  });
});
