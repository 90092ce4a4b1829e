import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { CheckpointError } from '../errors.ts';
import { relErr, sharedDir } from '../../test/util.ts';
import { loadModel, saveModel } from './checkpoint.ts';
import { interleavedToHalf, loadLlama2c, readLlama2c } from './llama2c.ts';
import { readSafetensors } from './safetensors.ts';

const fixture = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'stories260k', 'reference.safetensors');
const bin = sharedDir('data', 'external', 'stories260k', 'stories260K.bin');
const be = createJsBackend();
const tmp = mkdtempSync(join(tmpdir(), 'fmn-llama2c-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic legacy checkpoint: header + `nFloats` float32 values. */
function writeBin(name: string, header: number[], nFloats: number): string {
  const buf = Buffer.alloc(28 + 4 * nFloats);
  header.forEach((v, i) => buf.writeInt32LE(v, 4 * i));
  for (let i = 0; i < nFloats; i++) buf.writeFloatLE(((i * 37) % 101) / 101 - 0.5, 28 + 4 * i);
  const file = join(tmp, name);
  writeFileSync(file, buf);
  return file;
}

/** Floats a legacy file with these dims holds (see llama2c.ts). */
function floatsFor(C: number, H: number, L: number, nh: number, nkv: number, V: number, T: number, shared: boolean): number {
  const hs = C / nh;
  return V * C + 2 * L * C + L * C * C + 2 * L * C * nkv * hs + L * C * C + 3 * L * C * H + C + 2 * T * (hs / 2) + (shared ? 0 : V * C);
}

const realName = bin === null ? 'llama2c stories260K — SKIPPED: ../shared/data/external/stories260k/stories260K.bin is absent' : 'llama2c stories260K';
describe.skipIf(bin === null)(realName, () => {
  it('logits match the independent PyTorch reference (llama2.c interleaved RoPE)', () => {
    const model = loadLlama2c(bin!, be);
    expect(model.config).toMatchObject({ nEmbd: 64, intermediateSize: 172, nLayer: 5, nHead: 8, nKvHead: 4, vocabSize: 512, nCtx: 512, tieWordEmbeddings: true });
    const ref = readSafetensors(fixture).tensors;
    const [B, T] = ref.get('ids')!.shape;
    const logits = model.forward(Int32Array.from(ref.get('ids')!.data), B, T);   // (B, T, V)
    const err = relErr(logits.data, ref.get('logits')!.data);
    console.log(`stories260K logits: max rel err ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('saveModel → loadModel (HF layout) gives identical logits', () => {
    const model = loadLlama2c(bin!, be);
    const dir = join(tmp, 'hf');
    saveModel(model, dir);
    const back = loadModel(dir, be);
    expect(back.config).toEqual(model.config);
    const ids = Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 53 + 1) % 512);
    const a = model.forward(ids, 2, 9).data, b = back.forward(ids, 2, 9).data;
    expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(0);
  });

  it('a truncated copy is a CheckpointError naming the file', () => {
    const file = join(tmp, 'truncated.bin');
    writeFileSync(file, readFileSync(bin!).subarray(0, 500_000));
    expect(() => readLlama2c(file)).toThrow(CheckpointError);
    expect(() => readLlama2c(file)).toThrow(/truncated\.bin: truncated: 500000 bytes, the header promises 1056540/);
  });
});

describe('llama2c reader on synthetic files', () => {
  const [C, H, L, nh, nkv, V, T] = [8, 12, 1, 2, 1, 5, 4];

  it('untied classifier (negative vocab_size) becomes lm_head; wq/wk rows are permuted per head', () => {
    const n = floatsFor(C, H, L, nh, nkv, V, T, false);
    const file = writeBin('untied.bin', [C, H, L, nh, nkv, -V, T], n);
    const { config, tensors } = readLlama2c(file);
    expect(config.tieWordEmbeddings).toBe(false);
    expect(tensors.get('lm_head.weight')!.shape).toEqual([V, C]);
    expect(tensors.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([nkv * C / nh, C]);
    expect(loadLlama2c(file, be).forward(Int32Array.from([0, 1, 2, 3]), 1, 4).shape).toEqual([1, 4, V]);
  });

  it('interleavedToHalf maps row 2i → i and 2i+1 → i + hs/2 within each head', () => {
    const rows = Float32Array.from({ length: 8 }, (_, i) => i);   // 2 heads, hs 4, 1 column
    expect(Array.from(interleavedToHalf(rows, 2, 4, 1))).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
  });

  const bad: [string, number[], number, RegExp][] = [
    ['trailing bytes', [C, H, L, nh, nkv, V, T], floatsFor(C, H, L, nh, nkv, V, T, true) + 1, /4 trailing bytes/],
    ['truncated (untied expected)', [C, H, L, nh, nkv, -V, T], floatsFor(C, H, L, nh, nkv, V, T, true), /truncated/],
    ['zero dim', [0, H, L, nh, nkv, V, T], 10, /field "dim".*must be positive, got 0/],
    ['negative n_layers', [C, H, -1, nh, nkv, V, T], 10, /field "n_layers".*must be positive/],
    ['n_heads not dividing dim', [C, H, L, 3, 1, V, T], 10, /dim 8 is not a multiple of n_heads 3/],
    ['n_kv_heads not dividing n_heads', [C, H, L, 4, 3, V, T], 10, /n_heads 4 is not a multiple of n_kv_heads 3/],
    ['odd head size', [6, H, L, 2, 1, V, T], 10, /head size 3 is odd/],
    ['shorter than the header', [C, H], -5, /shorter than the 28-byte/],
  ];
  it.each(bad)('%s → CheckpointError naming the file', (name, header, nFloats, msg) => {
    const fname = `${name.replace(/\W+/g, '-')}.bin`;
    let file: string;
    if (nFloats < 0) { file = join(tmp, fname); writeFileSync(file, Buffer.alloc(28 + 4 * nFloats)); } else file = writeBin(fname, header, nFloats);
    let err: unknown;
    try { readLlama2c(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(file);
    expect((err as Error).message).toMatch(msg);
  });

  it('a missing file is a CheckpointError', () => {
    expect(() => readLlama2c(join(tmp, 'nope.bin'))).toThrow(CheckpointError);
  });
});
