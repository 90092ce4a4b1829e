/**
 * Same seed ⇒ same bits, whatever the machine's cache sizes, instruction set or thread count:
 * - the GEMM's result does not depend on its cache blocking (FMN_GEMM_BLOCKS, which stands in for
 *   another CPU's cache sizes) nor on its SIMD width (AVX2 against AVX-512): each element of C is
 *   one chain of fused multiply-adds in k order, however k, M and N are cut; causal attention's
 *   AVX-512 kernels (lower triangle only) give the bits of the GEMM path FMN_SIMD=avx2 runs;
 * - a fine-tune gives byte-identical weights at 1 and 2 kernel threads (the norms' parameter
 *   gradients are reduced over a row partition fixed by the shape, not by the threads), which is
 *   what lets the lab run its fine-tunes several at a time without changing a number.
 * Each configuration runs in a child process, since the blocks and the variant are chosen once
 * per process. Native backend only (skipped, saying so, without the addon).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js/index.ts';
import { loadNativeAddon } from '../src/backend/native/index.ts';
import { writeCorpus } from '../src/corpus/corpus.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { toHfJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = join(import.meta.dirname, '..');
let native: string | null = null;
try { loadNativeAddon(); } catch (e) { native = (e as Error).message; }

/** A child that multiplies fixed operands in every orientation (ragged shapes, accumulate too) and prints the sha256 of the results. */
const GEMM_SCRIPT = `
import { loadNativeBackend, loadNativeAddon } from ${JSON.stringify(join(ROOT, 'src/backend/native/index.ts'))};
const be = loadNativeBackend();
be.setThreads(Number(process.env.T ?? 1));
if (process.env.BF16) be.setMatmulPrecision('bf16');
const h = (await import('node:crypto')).createHash('sha256');
let s = 7;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
for (const [m, k, n] of [[37, 1000, 45], [200, 300, 129], [15, 77, 33], [130, 513, 70], [301, 700, 8], [513, 129, 3], [49, 40, 1], [8, 1000, 200], [5, 300, 37], [1, 50, 1], [3, 7, 70]]) {
  const A = Float32Array.from({ length: m * k }, rnd), B = Float32Array.from({ length: k * n }, rnd);
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
    for (const acc of [false, true]) {
      const C = Float32Array.from({ length: m * n }, rnd);
      be.matmul(C, A, B, m, n, k, tA, tB, acc);
      h.update(Buffer.from(C.buffer));
    }
  }
}
// causal attention, forward and backward (GQA, ragged T and head sizes): the AVX-512 kernels against the GEMM path
for (const [B, T, nh, nkv, hs] of [[2, 37, 4, 2, 24], [1, 70, 2, 2, 80], [3, 5, 3, 1, 16], [1, 129, 2, 1, 64]]) {
  const qs = nh * hs, kvs = nkv * hs;
  const q = Float32Array.from({ length: B * T * qs }, rnd), k = Float32Array.from({ length: B * T * kvs }, rnd), v = Float32Array.from({ length: B * T * kvs }, rnd);
  const out = new Float32Array(B * T * qs), att = new Float32Array(B * nh * T * T);
  be.attentionForward(out, att, q, k, v, B, T, nh, nkv, hs, qs, kvs);
  const dout = Float32Array.from({ length: B * T * qs }, rnd);
  const dq = Float32Array.from({ length: B * T * qs }, rnd), dk = Float32Array.from({ length: B * T * kvs }, rnd), dv = Float32Array.from({ length: B * T * kvs }, rnd);
  be.attentionBackward(dq, dk, dv, dout, att, q, k, v, B, T, nh, nkv, hs, qs, kvs, true);
  for (const x of [out, att, dq, dk, dv]) h.update(Buffer.from(x.buffer));
}
console.log(h.digest('hex') + ' ' + be.name + ' ' + JSON.stringify(loadNativeAddon().gemmInfo()));
`;

function gemmHash(env: Record<string, string>): { hash: string; line: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', GEMM_SCRIPT], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const line = r.stdout.trim();
  return { hash: line.split(' ')[0]!, line };
}

describe('GEMM and attention bits do not depend on blocking, SIMD width or threads', () => {
  if (native !== null) { it.skip(`skipped: no native addon (${native})`, () => {}); return; }
  it('FMN_GEMM_BLOCKS (other caches), FMN_SIMD=avx2 and 2 threads give the same bits as the defaults', () => {
    const base = gemmHash({});
    const envs: Record<string, string>[] = [{ FMN_GEMM_BLOCKS: '64,28,64' }, { FMN_GEMM_BLOCKS: '200,70,96' }, { FMN_GEMM_BLOCKS: '1000,1400,4096' }, { T: '2' }, { FMN_SIMD: 'avx2' }, { FMN_SIMD: 'avx2', FMN_GEMM_BLOCKS: '96,36,48' }];
    for (const env of envs) {
      const r = gemmHash(env);
      expect(r.hash, `${JSON.stringify(env)}: ${r.line} vs ${base.line}`).toBe(base.hash);
    }
    // the override did change the blocks (the test would prove nothing otherwise)
    expect(gemmHash({ FMN_GEMM_BLOCKS: '64,28,64' }).line).toContain('"kc":64,"mc":28,"nc":64');
  }, 120_000);

  const bf16 = loadNativeAddon().bf16Info();
  const bf16Skip = bf16.path === 'none' ? 'this CPU has no bf16 path' : bf16.path === 'amx' ? 'AMX runs fixed blocks' : null;
  it.skipIf(bf16Skip !== null)(`bf16 (AVX512-BF16): FMN_GEMM_BLOCKS and 2 threads give the same bits as the defaults${bf16Skip ? ` (skipped: ${bf16Skip})` : ''}`, () => {
    const base = gemmHash({ BF16: '1' });
    expect(base.hash).not.toBe(gemmHash({}).hash);   // bf16 did run
    const envs: Record<string, string>[] = [{ FMN_GEMM_BLOCKS: '64,28,64' }, { FMN_GEMM_BLOCKS: '200,70,96' }, { FMN_GEMM_BLOCKS: '1001,1400,4096' }, { T: '2' }];
    for (const env of envs) {
      const r = gemmHash({ BF16: '1', ...env });
      expect(r.hash, `${JSON.stringify(env)}: ${r.line} vs ${base.line}`).toBe(base.hash);
    }
  }, 120_000);
});

describe('a fine-tune is the same bits at 1 and 2 threads', () => {
  if (native !== null) { it.skip(`skipped: no native addon (${native})`, () => {}); return; }
  const dir = mkdtempSync(join(tmpdir(), 'fmn-det-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('full fine-tuning with replay, 12 steps: model.safetensors byte-identical', () => {
    writeCorpus(join(dir, 'c'), { seed: 3, pretrain: { tokens: 12_000 }, replay: { tokens: 4000 }, sft: { rows: 64 }, probes: { taskPairs: 1, taskGenerate: 0, controlText: 1, controlPairs: 0, adoptionPairs: 0, adoptionGenerate: 0, generalizationPairs: 0, generalizationGenerate: 0, echo: 1 } });
    const tok = trainBpe(readFileSync(join(dir, 'c', 'pretrain.txt'), 'utf8').split('\n').slice(0, 300), { vocabSize: 320 });
    const m = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 128 });
    m.initWeights(new Rng(11));
    saveModel(m, join(dir, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
    const run = (threads: number) => {
      const out = join(dir, `t${threads}`);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fmn.js'), 'finetune', '--base', join(dir, 'base'), '--data', join(dir, 'c', 'sft.jsonl'), '--out', out,
        '--method', 'full', '--lr', '3e-3', '--steps', '12', '--batch', '8', '--replay', '0.5', '--replay-text', join(dir, 'c', 'replay.txt'), '--threads', String(threads), '--quiet', '--save-every', '0'],
      { encoding: 'utf8', env: { ...process.env, FMN_BACKEND: 'native' }, timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return createHash('sha256').update(readFileSync(join(out, 'model.safetensors'))).digest('hex');
    };
    expect(run(2)).toBe(run(1));
  }, 240_000);
});
