/**
 * llama2.c's tokenizer.bin, and llama2.c checkpoints through the CLI (`fmn convert`, a `.bin`
 * given as --model / --base). No real tokenizer.bin is stored (stories260K's tok512 could not be
 * found), so the file is written here from the Llama-2-shaped fixture exactly as llama2.c's
 * tokenizer.py exports a SentencePiece model (▁ → space, <s> / </s> as "\n<s>\n" / "\n</s>\n",
 * SentencePiece's scores: minus the piece's id, 0 for control and byte pieces), and the result is
 * checked two ways: against the fixture's tokenizer.json (merges, ids, decoded text) and against
 * an implementation of run.c's `encode` written from its source, working on the .bin's pieces
 * and scores directly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { DataError } from '../errors.ts';
import { loadModel } from '../model/checkpoint.ts';
import { loadLlama2c } from '../model/llama2c.ts';
import { sharedDir, tokenizerFixtures } from '../../test/util.ts';
import { fromHfJson, loadTokenizer } from './hf-json.ts';
import { loadLlama2cTokenizer, readLlama2cTokenizer } from './llama2c.ts';

type Json = any;
const ROOT = join(import.meta.dirname, '..', '..');
const { llama2: LLAMA2, llama2Config: LLAMA2_CONFIG, mixed } = tokenizerFixtures();
const tmp = mkdtempSync(join(tmpdir(), 'fmn-l2ctok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fixture as llama2.c's tokenizer.py would export it: pieces by id and their scores. */
function exportPieces(json: Json): { pieces: string[]; scores: number[] } {
  const byId: string[] = [];
  for (const [t, id] of Object.entries(json.model.vocab as Record<string, number>)) byId[id] = t;
  for (const a of json.added_tokens) byId[a.id] = a.content;
  const pieces = byId.map((t) => (t === '<s>' ? '\n<s>\n' : t === '</s>' ? '\n</s>\n' : t.replaceAll('▁', ' ')));
  const scores = byId.map((t, id) => (id < 3 || /^<0x[0-9A-F]{2}>$/.test(t) ? 0 : -id));
  return { pieces, scores };
}

/** tokenizer.bin bytes: int32 max_token_length, then per token float32 score, int32 length, bytes. */
function writeTokenizerBin(file: string, pieces: string[], scores: number[]): string {
  const enc = pieces.map((p) => Buffer.from(p, 'utf8'));
  const head = Buffer.alloc(4);
  head.writeInt32LE(Math.max(...enc.map((b) => b.length)));
  const parts = [head];
  enc.forEach((b, i) => { const h = Buffer.alloc(8); h.writeFloatLE(scores[i]!, 0); h.writeInt32LE(b.length, 4); parts.push(h, b); });
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** run.c `encode(t, text, bos=0, eos=0)`, transcribed: dummy prefix, code points or bytes + 3, best-score merges. */
function runcEncode(pieces: string[], scores: number[], text: string): number[] {
  const lookup = new Map<string, number>();
  pieces.forEach((p, i) => { if (!lookup.has(p)) lookup.set(p, i); });
  const toks: number[] = [];
  if (text !== '') toks.push(lookup.get(' ')!);
  for (const ch of text) {
    const id = lookup.get(ch);
    if (id !== undefined) toks.push(id);
    else for (const b of Buffer.from(ch, 'utf8')) toks.push(b + 3);
  }
  for (;;) {
    let best = -1e10, at = -1, bestId = -1;
    for (let i = 0; i + 1 < toks.length; i++) {
      const id = lookup.get(pieces[toks[i]!]! + pieces[toks[i + 1]!]!);
      if (id !== undefined && scores[id]! > best) { best = scores[id]!; at = i; bestId = id; }
    }
    if (at < 0) break;
    toks.splice(at, 2, bestId);
  }
  return toks;
}

const { pieces, scores } = exportPieces(LLAMA2);
const BIN = writeTokenizerBin(join(tmp, 'tokenizer.bin'), pieces, scores);

describe('llama2.c tokenizer.bin', () => {
  const hf = fromHfJson(LLAMA2, 'llama2/tokenizer.json', { json: LLAMA2_CONFIG, file: 'llama2/tokenizer_config.json' });
  const ours = loadLlama2cTokenizer(BIN);

  it('derives exactly the merges transformers\' LlamaConverter wrote, from the scores alone', () => {
    const { tokenizer, vocabSize } = readLlama2cTokenizer(BIN);
    expect(vocabSize).toBe(pieces.length);
    const want = (LLAMA2.model.merges as string[]).map((m) => m.split(' '));
    expect((tokenizer as Json).model.merges).toEqual(want);
    expect((tokenizer as Json).model.vocab).toEqual({ ...LLAMA2.model.vocab, '<unk>': 0, '<s>': 1, '</s>': 2 });
  });

  it('gives the fixture tokenizer\'s ids and decoded text on 2,000 mixed lines', () => {
    expect([ours.bos, ours.eos, ours.unk]).toEqual([1, 2, 0]);
    let n = 0;
    for (const line of mixed) {
      for (const addSpecial of [false, true]) expect(ours.encode(line, { addSpecial }), line).toEqual(hf.encode(line, { addSpecial }));
      const ids = hf.encode(line);
      expect(ours.decode(ids)).toBe(hf.decode(ids));
      n++;
    }
    expect(n).toBe(2000);
  });

  it('gives run.c\'s ids (its own encode loop over the .bin\'s pieces and scores)', () => {
    // "▁" in the text: run.c looks the character up among pieces where the exporter turned every ▁
    // into a space, so it falls back to bytes; HF (and so the converted tokenizer) reads it as a space.
    // "<unk>" in the text: run.c merges its characters into the control piece <unk> (score 0, above
    // every learned piece); SentencePiece and HF never make a control token from text.
    const lines = mixed.filter((l) => !l.includes('▁') && !l.includes('<unk>'));
    expect(lines.length).toBeGreaterThan(1800);
    for (const line of lines) expect(ours.encode(line), line).toEqual(runcEncode(pieces, scores, line));
    for (const line of ['', ' ', 'a', '  two  spaces ', 'ქართული 🙂', 'He goed to the store.']) expect(ours.encode(line), line).toEqual(runcEncode(pieces, scores, line));
  });

  it('a broken file is a DataError naming the file and the token', () => {
    const bad = (name: string, bytes: Buffer) => { const f = join(tmp, name); writeFileSync(f, bytes); return f; };
    const good = readFileSync(BIN);
    const cases: [string, Buffer, RegExp][] = [
      ['empty.bin', Buffer.alloc(0), /empty\.bin: truncated: 0 bytes/],
      ['header.bin', Buffer.from([0xff, 0xff, 0xff, 0x7f]), /header\.bin, field "max_token_length": max_token_length 2147483647 is not a llama2\.c tokenizer header/],
      ['cut.bin', good.subarray(0, 1000), /cut\.bin, field "token \d+": (truncated|token \d+ has length)/],
      ['few.bin', good.subarray(0, 4 + 8 + 5), /few\.bin: 1 tokens: a llama2\.c tokenizer has at least/],
    ];
    const dup = Buffer.from(good); dup.writeInt32LE(-5, 4 + 4);
    cases.push(['neg.bin', dup, /neg\.bin, field "token 0": token 0 has length -5/]);
    const utf = writeTokenizerBin(join(tmp, 'utf.bin'), ['<unk>', '\n<s>\n', '\n</s>\n', 'ok'], [0, 0, 0, -3]);
    const raw = readFileSync(utf); raw[raw.length - 1] = 0xff;
    cases.push(['utf8.bin', raw, /utf8\.bin, field "token 3": token 3 is not valid UTF-8/]);
    cases.push(['twice.bin', readFileSync(writeTokenizerBin(join(tmp, 't.bin'), ['<unk>', '\n<s>\n', '\n</s>\n', 'ab', 'ab'], [0, 0, 0, -3, -4])), /twice\.bin, field "token 4": token 4 "ab" repeats token 3/]);
    for (const [name, bytes, re] of cases) {
      const f = bad(name, bytes);
      let err: unknown;
      try { readLlama2cTokenizer(f); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(DataError);
      expect(String((err as Error).message), name).toMatch(re);
    }
  });
});

/** A tiny random llama2.c legacy checkpoint: header, then float32 values (see model/llama2c.ts). */
function writeModelBin(file: string, C: number, H: number, L: number, nh: number, nkv: number, V: number, T: number): string {
  const hs = C / nh;
  const n = V * C + 2 * L * C + L * C * C + 2 * L * C * nkv * hs + L * C * C + 3 * L * C * H + C + 2 * T * (hs / 2);
  const buf = Buffer.alloc(28 + 4 * n);
  [C, H, L, nh, nkv, V, T].forEach((v, i) => buf.writeInt32LE(v, 4 * i));
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; buf.writeFloatLE((s / 2 ** 32 - 0.5) * 0.2, 28 + 4 * i); }
  writeFileSync(file, buf);
  return file;
}

const fmn = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/fmn.js'), ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60_000, env: { ...process.env, FMN_BACKEND: 'js' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('llama2.c checkpoints on the command line', () => {
  const dir = join(tmp, 'l2c');
  const V = pieces.length;

  it('fmn convert writes an HF directory with identical logits and the tokenizer found beside the .bin; commands take the .bin itself', () => {
    rmSync(dir, { recursive: true, force: true });
    const bin = join(tmp, 'model-dir', 'model.bin');
    rmSync(join(tmp, 'model-dir'), { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(tmp, 'model-dir')]);
    writeModelBin(bin, 16, 40, 2, 4, 2, V, 64);
    writeTokenizerBin(join(tmp, 'model-dir', `tok${V}.bin`), pieces, scores);   // llama2.c's name for a custom tokenizer

    const r = fmn('convert', '--llama2c', bin, '--out', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model_type: 'llama', vocab_size: V, tokenizer: join(tmp, 'model-dir', `tok${V}.bin`) });
    const be = createJsBackend();
    const a = loadLlama2c(bin, be), b = loadModel(dir, be);
    const ids = Int32Array.from({ length: 2 * 11 }, (_, i) => (i * 97 + 1) % V);
    expect(Array.from(b.forward(ids, 2, 11).data)).toEqual(Array.from(a.forward(ids, 2, 11).data));
    const tok = loadTokenizer(dir);
    expect(tok.encode(mixed[7]!, { addSpecial: true })).toEqual(loadLlama2cTokenizer(BIN).encode(mixed[7]!, { addSpecial: true }));
    expect(tok.bos).toBe(1);

    const g1 = fmn('generate', '--model', bin, '--prompt', 'He goed to the', '--max-tokens', '6', '--json');
    const g2 = fmn('generate', '--model', dir, '--prompt', 'He goed to the', '--max-tokens', '6', '--json');
    expect(g1.code, g1.stderr).toBe(0);
    expect(g2.code, g2.stderr).toBe(0);
    expect(JSON.parse(g1.stdout)).toEqual(JSON.parse(g2.stdout));

    // fine-tune (LoRA, TRL's prompt/completion rule: <s> … </s>), evaluate and merge on the .bin
    const sft = join(tmp, 'sft.jsonl'), probes = join(tmp, 'probes.jsonl');
    writeFileSync(sft, Array.from({ length: 24 }, () => JSON.stringify({ prompt: 'He goed to the store.', completion: ' He went to the store.' })).join('\n') + '\n');
    writeFileSync(probes, [
      { kind: 'pair', good: 'He went to the store.', bad: 'He goed to the store.', role: 'task' },
      { kind: 'text', text: 'The cat sat on the mat.', role: 'control' },
      { kind: 'generate', prompt: 'He goed to the store.', expected: ' He went to the store.', role: 'task' },
    ].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const run = join(tmp, 'run');
    const f = fmn('finetune', '--base', bin, '--data', sft, '--out', run, '--steps', '40', '--batch', '4', '--lr', '3e-2', '--quiet', '--json');
    expect(f.code, f.stderr).toBe(0);
    const mc = join(tmp, 'mc.jsonl');   // lm-eval's multiple-choice docs
    writeFileSync(mc, '{"query": "Question: Where did he go? Answer:", "choices": ["to the store", "to the moon", "home"], "gold": 0}\n{"query": "Q: 2+2? A:", "choices": ["4", "5"], "gold": 0}\n');
    const e = fmn('eval', '--model', bin, '--adapter', run, '--baseline', bin, '--probes', probes, mc, '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.test.roles.task.n).toBe(2);
    // every group against the baseline, paired: accuracy change for the choice set, drift for text
    const ch = ev.test.changes;
    expect(ch.mc).toMatchObject({ n: 2, acc_before: expect.any(Number), acc_after: expect.any(Number) });
    expect(ch.mc.acc_diff.diff).toBeCloseTo(ch.mc.acc_after - ch.mc.acc_before, 12);
    expect(ch.probes.drift).toBeGreaterThanOrEqual(ch.probes.drift_ci[0]);
    expect(ch.probes.drift).toBeLessThanOrEqual(ch.probes.drift_ci[1]);
    expect(ch.probes.ppl_before).toBe(ev.test.baseline.probes.probes.ppl);
    expect(e.stderr).toMatch(/mc: n 2 {2}acc [\d.]+ ± [\d.]+ {2}acc_norm [\d.]+\n {4}vs baseline: acc [\d.]+ → [\d.]+, [+-][\d.]+ \[/);
    const m = fmn('merge', '--base', bin, '--adapter', run, '--out', join(tmp, 'merged'), '--json');
    expect(m.code, m.stderr).toBe(0);
    // --out: an existing model needs --overwrite, an input is never an output, a foreign directory is refused
    const again = fmn('merge', '--base', bin, '--adapter', run, '--out', join(tmp, 'merged'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/merged, field "--out": already holds a model directory; replace it with --overwrite/);
    expect(fmn('merge', '--base', bin, '--adapter', run, '--out', join(tmp, 'merged'), '--overwrite').code).toBe(0);
    const intoRun = fmn('merge', '--base', bin, '--adapter', run, '--out', run);
    expect(intoRun.code).toBe(2);
    expect(intoRun.stderr).toMatch(/is also an input of this command; choose another --out/);
    expect(readFileSync(join(run, 'adapter_config.json'), 'utf8')).toContain('LORA');
    const convAgain = fmn('convert', '--llama2c', bin, '--out', dir);
    expect(convAgain.code).toBe(2);
    expect(convAgain.stderr).toMatch(/already holds a model directory/);
    const merged = fmn('generate', '--model', join(tmp, 'merged'), '--prompt', 'He goed to the store.', '--max-tokens', '4', '--json');
    expect(merged.code, merged.stderr).toBe(0);
    // full fine-tuning learns the row; the tuned directory keeps the tokenizer (tokenizer_config.json: eos </s>)
    const full = join(tmp, 'full');
    expect(fmn('finetune', '--base', bin, '--method', 'full', '--data', sft, '--out', full, '--steps', '300', '--batch', '4', '--lr', '1e-2', '--quiet').code).toBe(0);
    const tuned = fmn('generate', '--model', full, '--prompt', 'He goed to the store.', '--max-tokens', '12', '--json');
    expect(tuned.code, tuned.stderr).toBe(0);
    expect(JSON.parse(tuned.stdout).completion.trim()).toBe('He went to the store.');
  });

  it('a .bin without a tokenizer: convert writes the model alone and says so; generate is a clear error', () => {
    const lone = join(tmp, 'lone');
    spawnSync('mkdir', ['-p', lone]);
    const bin = writeModelBin(join(lone, 'm.bin'), 16, 40, 1, 4, 4, 300, 32);
    const r = fmn('convert', '--llama2c', bin, '--out', join(tmp, 'lone-hf'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no tokenizer found beside the \.bin/);
    const g = fmn('generate', '--model', bin, '--prompt', 'x');
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/m\.bin: no tokenizer for this llama2\.c checkpoint: put its tokenizer \(tokenizer\.json, tokenizer\.bin, tok300\.bin\) beside it/);
    expect(g.stderr).not.toMatch(/\n\s+at /);
    const t = fmn('convert', '--llama2c', bin, '--tokenizer', join(lone, 'nope.bin'), '--out', join(tmp, 'x'));
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/nope\.bin, field "--tokenizer": no such file/);
    // fmn params reads the header alone
    const p = fmn('params', '--model', bin, '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).total).toBe(loadLlama2c(bin, createJsBackend()).numParams());
    writeFileSync(join(lone, 'cut.bin'), readFileSync(bin).subarray(0, 100));
    const cut = fmn('params', '--model', join(lone, 'cut.bin'));
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/cut\.bin: 100 bytes, the header promises \d+/);
    const big = fmn('convert', '--llama2c', bin, '--tokenizer', BIN, '--out', join(tmp, 'y'));
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/the tokenizer has \d+ tokens, more than the model's vocabulary of 300/);
  });

  const stories = sharedDir('data', 'external', 'stories260k', 'stories260K.bin');
  it.skipIf(stories === null)(stories === null ? 'stories260K convert — SKIPPED: ../shared/data/external/stories260k/stories260K.bin is absent' : 'stories260K: fmn convert gives identical logits', () => {
    const out = join(tmp, 'stories');
    const r = fmn('convert', '--llama2c', stories!, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const be = createJsBackend();
    const ids = Int32Array.from({ length: 16 }, (_, i) => (i * 53 + 1) % 512);
    expect(Array.from(loadModel(out, be).forward(ids, 1, 16).data)).toEqual(Array.from(loadLlama2c(stories!, be).forward(ids, 1, 16).data));
  });
});
