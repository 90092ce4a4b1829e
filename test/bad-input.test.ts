/**
 * User mistakes, as a user makes them on the command line: each exits 2 with a message naming
 * the file (and line or key) or the flag as typed, no stack trace, and nothing already on disk
 * changed.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js/index.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { toHfJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'fmn-bad-'));
const fmn = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fmn.js'), ...a], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FMN_BACKEND: 'js' } });
const snapshot = (d: string) => readdirSync(d, { recursive: true }).map(String).sort().map((f) => { try { return `${f}:${readFileSync(join(d, f)).length}`; } catch { return f; } });

function expectUserError(r: ReturnType<typeof fmn>, ...parts: (string | RegExp)[]) {
  expect(r.status, r.stderr).toBe(2);
  for (const p of parts) expect(r.stderr).toMatch(typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
  expect(r.stderr).not.toMatch(/\n\s+at /);                     // no stack trace
}

beforeAll(() => {
  const tok = trainBpe(['He went home. She worked.'], { vocabSize: 270 });
  const m = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 32 });
  m.initWeights(new Rng(1));
  saveModel(m, join(dir, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
  writeFileSync(join(dir, 'sft.jsonl'), '{"prompt":"He goed home.","completion":"He went home."}\n');
  writeFileSync(join(dir, 'a-file'), 'not a directory');
});

describe('bad input → exit 2, named, nothing touched', () => {
  it('--out that is an existing file, for every command that writes', () => {
    const f = join(dir, 'a-file');
    expectUserError(fmn('corpus', '--out', f, '--tokens', '200', '--sft-rows', '5'), f, 'exists and is not a directory');
    expectUserError(fmn('tokenizer', 'train', '--text', join(dir, 'sft.jsonl'), '--vocab', '270', '--out', f), f, 'exists and is not a directory');
    expectUserError(fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', f), f, 'exists and is not a directory');
    expectUserError(fmn('pretrain', '--text', join(dir, 'sft.jsonl'), '--out', f), f, 'exists and is not a directory');
    expectUserError(fmn('eval', '--model', join(dir, 'base'), '--probes', join(dir, 'sft.jsonl'), '--log-samples', f), /field "kind"|exists and is not a directory/);
    expect(readFileSync(f, 'utf8')).toBe('not a directory');
  });

  it('--out that is a non-empty directory of something else, for every command that writes: refused, left as it was', () => {
    const foreign = join(dir, 'my-notes');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const before = snapshot(foreign);
    const refused = /is not empty and is not (a corpus|a tokenizer directory|a lab directory|an fmn run|a model directory) \(notes\.txt\); choose another --out/;
    expectUserError(fmn('corpus', '--out', foreign, '--tokens', '200', '--sft-rows', '5'), foreign, refused);
    expectUserError(fmn('tokenizer', 'train', '--text', join(dir, 'sft.jsonl'), '--vocab', '270', '--out', foreign), foreign, refused);
    expectUserError(fmn('lab', '--fast', '--out', foreign), foreign, refused);
    expectUserError(fmn('pretrain', '--text', join(dir, 'sft.jsonl'), '--out', foreign), foreign, refused);
    expectUserError(fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', foreign), foreign, refused);
    expect(snapshot(foreign)).toEqual(before);
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
    // a corpus directory is regenerated in place
    const c = join(dir, 'corpus-again');
    expect(fmn('corpus', '--out', c, '--tokens', '300', '--sft-rows', '5').status).toBe(0);
    expect(fmn('corpus', '--out', c, '--tokens', '300', '--sft-rows', '5').status).toBe(0);
  });

  it('text that is not UTF-8 names the file and line; an empty or missing file names the file', () => {
    const latin = join(dir, 'latin1.txt');
    writeFileSync(latin, Buffer.concat([Buffer.from('line one\nline two\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
    expectUserError(fmn('pretrain', '--text', latin, '--out', join(dir, 'p1'), '--steps', '1'), `${latin}:3`, 'is not valid UTF-8');
    expectUserError(fmn('pretrain', '--text', join(dir, 'nope.txt'), '--out', join(dir, 'p2')), 'nope.txt', 'no such file');
    writeFileSync(join(dir, 'empty.txt'), '\n\n');
    expectUserError(fmn('pretrain', '--text', join(dir, 'empty.txt'), '--out', join(dir, 'p3')), 'empty.txt', 'no text');
  });

  it('a rank past the layers\' width, unknown targets, and a tokenizer larger than the model\'s vocabulary', () => {
    const base = ['--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl')];
    expectUserError(fmn('finetune', ...base, '--out', join(dir, 'r1'), '--rank', '1000'), 'field "rank": rank 1000 exceeds 48');
    expectUserError(fmn('finetune', ...base, '--out', join(dir, 'r2'), '--targets', 'nope'), 'field "targets": no Linear layer matches nope');
    expectUserError(fmn('params', '--model', join(dir, 'base'), '--targets', 'nope'), 'no Linear layer matches nope');
    const big = join(dir, 'big-tok');
    mkdirSync(big);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(dir, 'base', f), join(big, f));
    writeFileSync(join(big, 'tokenizer.json'), JSON.stringify(toHfJson(trainBpe(['He went home. She worked. They saw it. We ate lunch.'], { vocabSize: 300 }))));
    expectUserError(fmn('generate', '--model', big, '--prompt', 'He'), 'tokenizer.json', 'more than the model\'s vocabulary');
  });

  it('an adapter config with null, negative or absurd r is refused before anything is built', () => {
    const run = join(dir, 'run');
    expect(fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', run, '--rank', '4', '--steps', '1', '--batch', '1').status).toBe(0);
    const cfg = JSON.parse(readFileSync(join(run, 'adapter_config.json'), 'utf8'));
    const before = snapshot(run);
    for (const [r, msg] of [[null, 'must be a number, got null'], [-4, 'must be a positive integer, got -4'], [1e6, 'rank 1000000 exceeds 48'], ['8', 'must be a number, got "8"']] as const) {
      writeFileSync(join(run, 'adapter_config.json'), JSON.stringify({ ...cfg, r }));
      expectUserError(fmn('generate', '--model', join(dir, 'base'), '--adapter', run, '--prompt', 'He'), msg);
    }
    writeFileSync(join(run, 'adapter_config.json'), JSON.stringify(cfg, null, 2) + '\n');
    expect(snapshot(run)).toEqual(before);
  });

  it('flags as typed: a negative number is a value, an unknown flag is suggested, a missing value is named', () => {
    const base = ['--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'f1')];
    expectUserError(fmn('finetune', ...base, '--lr', '-1'), 'field "--lr": must be a number > 0, got -1');
    expectUserError(fmn('finetune', ...base, '--stpes', '3'), 'field "--stpes": unknown option (did you mean --steps?)');
    expectUserError(fmn('finetune', ...base, '--steps'), 'field "--steps": needs a value');
    expectUserError(fmn('finetune', ...base, '--steps', '3', '--steps', '4'), 'given twice');
  });
});
