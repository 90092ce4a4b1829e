/**
 * Peak memory of loading a large bf16 checkpoint (issue #15: ≤ 1.3 × the float32 model size).
 *
 *   npx tsx scripts/load-rss.ts [--vocab 32000] [--hidden 768] [--layers 12] [--heads 12] [--kv-heads 4]
 *                               [--intermediate 2048] [--shard-mb 48] [--keep DIR]
 *
 * Builds a Llama of ~125M parameters with random weights, saves it with our own saver as BF16
 * (≈ 250 MB) — once as model.safetensors, once in shards of --shard-mb — then loads each in a
 * fresh child process and reports, as JSON, the child's peak RSS (process.resourceUsage().maxRSS)
 * against the float32 size of the model, the RSS before the load (node + the modules), and a
 * check that the loaded weights are the bf16-rounded originals (sha256 of two tensors, one
 * stored transposed). Exits 1 when a ratio passes 1.3 or a check fails.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '../src/backend/js/index.ts';
import { loadModel, saveModel } from '../src/model/checkpoint.ts';
import type { GPTConfig } from '../src/model/config.ts';
import { GPT } from '../src/model/gpt.ts';
import { toBf16 } from '../src/model/safetensors.ts';
import { Rng } from '../src/util/rng.ts';

const CHECKED = ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight'];
const LIMIT = 1.3;

function sha(a: Float32Array): string {
  return createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

/** The child: load, measure, hash. */
function child(dir: string): void {
  const before = process.resourceUsage().maxRSS * 1024;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = loadModel(dir, createJsBackend());
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  const params = new Map(model.namedParameters());
  const hashes = Object.fromEntries(CHECKED.map((n) => [n, sha(params.get(n)!.data as Float32Array)]));
  process.stdout.write(JSON.stringify({ params: model.numParams(), peakRss: peak, maxRssBeforeLoad: before, rssBeforeLoad: rssBefore, seconds, hashes }) + '\n');
}

function main(): void {
  const config: GPTConfig = {
    modelType: 'llama', vocabSize: arg('vocab', 32000), nCtx: 2048, nEmbd: arg('hidden', 768), nLayer: arg('layers', 12),
    nHead: arg('heads', 12), nKvHead: arg('kv-heads', 4), intermediateSize: arg('intermediate', 2048),
    normEps: 1e-5, ropeTheta: 500000, tieWordEmbeddings: false,
  };
  const keep = process.argv.indexOf('--keep');
  const root = keep >= 0 ? process.argv[keep + 1] : mkdtempSync(join(tmpdir(), 'fmn-load-rss-'));
  const t0 = performance.now();
  let model: GPT | null = new GPT(createJsBackend(), config);
  model.initWeights(new Rng(1));
  const params = model.numParams();
  // what the loaded weights must be: the originals rounded to bf16 (our layout, (in, out))
  const own = new Map(model.namedParameters());
  const expected = Object.fromEntries(CHECKED.map((n) => {
    const src = own.get(n)!.data as Float32Array, r = new Float32Array(src.length), rb = new Uint32Array(r.buffer), sb = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0; i < src.length; i++) rb[i] = toBf16(sb[i]) << 16;
    return [n, sha(r)];
  }));
  const single = join(root, 'single'), sharded = join(root, 'sharded');
  saveModel(model, single, { dtype: 'bf16' });
  saveModel(model, sharded, { dtype: 'bf16', maxShardBytes: arg('shard-mb', 48) * 2 ** 20 });
  model = null;
  const buildSeconds = (performance.now() - t0) / 1000;
  const fp32Bytes = 4 * params;
  const runs: Record<string, unknown> = {};
  let ok = true;
  for (const [name, dir] of [['single', single], ['sharded', sharded]] as const) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    const fileBytes = files.reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    const c = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ratio = c.peakRss / fp32Bytes;
    const weightsMatch = CHECKED.every((n) => c.hashes[n] === expected[n]);
    ok &&= ratio <= LIMIT && weightsMatch && c.params === params;
    runs[name] = {
      files: files.length, fileBytes, peakRssBytes: c.peakRss, rssBeforeLoadBytes: c.rssBeforeLoad,
      ratio: Number(ratio.toFixed(4)), ratioAboveNodeBaseline: Number(((c.peakRss - c.rssBeforeLoad) / fp32Bytes).toFixed(4)),
      loadSeconds: Number(c.seconds.toFixed(2)), weightsMatch,
    };
  }
  if (keep < 0) rmSync(root, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({
    config: { modelType: config.modelType, vocab: config.vocabSize, hidden: config.nEmbd, layers: config.nLayer, heads: config.nHead, kvHeads: config.nKvHead, intermediate: config.intermediateSize, tied: config.tieWordEmbeddings },
    params, fp32Bytes, storedAs: 'BF16', limit: LIMIT, buildSeconds: Number(buildSeconds.toFixed(1)), ...runs, pass: ok,
  }, null, 2) + '\n');
  if (!ok) process.exitCode = 1;
}

const i = process.argv.indexOf('--child');
if (i >= 0) child(process.argv[i + 1]);
else main();
