/**
 * bench:peer's `sft` row: a fine-tuning step as the lab takes it — the lab's nano model (GPT-2
 * layout, d 128, 4 layers, vocabulary 1,024), 16 prompt/completion rows of the verb corpus per
 * batch (~40 tokens each, grouped by length and padded to the batch's longest row), the loss on
 * the completion tokens only (the head run on those positions alone, as `fmn finetune` does),
 * gradient clipping and AdamW — LoRA (r 8, α 16 on the lab's default targets `c_attn`, `c_proj`:
 * the packed q/k/v, attention and MLP output projections) or every weight. Ours runs through the
 * Trainer that `fmn finetune` uses; the peer (scripts/torch_sft_peer.py) trains on the very same
 * batches, written to a JSON file. Tokens/s = padded tokens over the timed steps / their time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.ts';
import { childEnv } from './peer-env.ts';
import { generateSft } from '../src/corpus/sft.ts';
import { encodeSft, sftText } from '../src/data/sft-format.ts';
import { LORA_DEFAULTS } from '../src/lora/config.ts';
import { adapterParameters, applyLora, frozenMatrices } from '../src/lora/inject.ts';
import { GPT, lmLoss } from '../src/model/gpt.ts';
import { nano } from '../src/model/presets.ts';
import { DEFAULT_SPECIALS, PAD } from '../src/tokenizer/special.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import type { Batch, BatchSource } from '../src/train/batch.ts';
import { SftLoader } from '../src/train/sft-loader.ts';
import { Trainer } from '../src/train/trainer.ts';
import { Rng } from '../src/util/rng.ts';

export const SFT_VOCAB = 1024;
export const SFT_BATCH = 16;

export interface SftBatches { vocab: number; batches: Batch[] }

/** The lab's SFT batches: `n` of them, in the order the fine-tuner would serve them. */
export function sftBatches(n: number): SftBatches {
  const rows = generateSft({ seed: 11, rows: 600 });
  const tok = trainBpe(rows.map((r) => sftText(r.prompt, r.completion)), { vocabSize: SFT_VOCAB, specials: DEFAULT_SPECIALS });
  const seqs = rows.map((r, line) => {
    const e = encodeSft(tok, r.prompt, r.completion);
    return { ids: Int32Array.from(e.ids), mask: Uint8Array.from(e.lossMask), line };
  });
  const loader = new SftLoader(seqs, SFT_BATCH, tok.specialId(PAD), 3);
  return { vocab: tok.vocabSize, batches: Array.from({ length: n }, () => { const b = loader.next(); return { ...b, ids: b.ids.slice(), targets: b.targets.slice() }; }) };
}

class Replay implements BatchSource {
  #i = 0;
  constructor(readonly batches: Batch[]) {}
  next(): Batch { return this.batches[this.#i++ % this.batches.length]!; }
  state(): unknown { return this.#i; }
  restore(s: unknown): void { this.#i = s as number; }
}

export interface SftSide { tok_s: number; step_s_median: number; trainable: number; blas_core?: string | null }

/** Our SFT training on `data` through the Trainer: `steps(first, n)` takes n steps from batch `first` (the next ones). */
export interface OursSft { trainable: number; steps(first: number, n: number): Promise<number[]>; release(): void }

/** Our fine-tuning step on `data`, set up for `total` steps (the schedule's length; the rate is constant). */
export function oursSft(backend: Backend, mode: 'lora' | 'full', data: SftBatches, total: number): OursSft {
  const model = new GPT(backend, nano(data.vocab));
  model.initWeights(new Rng(0));
  const params = mode === 'lora' ? adapterParameters(applyLora(model, { ...LORA_DEFAULTS }, new Rng(1))) : model.namedParameters();
  // as fmn finetune does: a LoRA run's base is declared fixed (a bf16 path packs it once)
  const release = mode === 'lora' ? backend.freezeOperands(frozenMatrices(model)) : () => {};
  const trainer = new Trainer(params, new Replay(data.batches), {
    steps: total, maxLr: 1e-4, minLr: 1e-4, warmup: 0, clip: 1, gradAccum: 1,
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, logEvery: 0, evalEvery: 0, checkpointEvery: 0,
  }, { loss: (b) => ({ loss: lmLoss(model, b.ids, b.B, b.T, b.targets), tokens: b.ids.length }) }, null);
  let at = 0;
  return {
    trainable: params.reduce((a, [, p]) => a + p.size, 0),
    release,
    async steps(first, n) {
      if (first !== at) throw new Error(`oursSft: asked for batch ${first}, the next is ${at}`);
      const times: number[] = [];
      for (let s = first; s < first + n; s++) {
        const t0 = performance.now();
        await trainer.run({ stopAt: s + 1 });
        times.push((performance.now() - t0) / 1e3);
      }
      at = first + n;
      return times;
    },
  };
}

/** Padded tokens of n batches from `first` on (the batches served in order, modulo their count). */
export function sftTokens(data: SftBatches, first: number, n: number): number {
  let t = 0;
  for (let i = first; i < first + n; i++) { const b = data.batches[i % data.batches.length]!; t += b.B * b.T; }
  return t;
}

/** Our step on `data` (warmup batches first, then `steps` timed ones), through the Trainer. */
export async function runOursSft(backend: Backend, mode: 'lora' | 'full', data: SftBatches, warmup: number, steps: number): Promise<SftSide> {
  const ours = oursSft(backend, mode, data, warmup + steps);
  await ours.steps(0, warmup);
  const times = await ours.steps(warmup, steps);
  ours.release();
  const sorted = [...times].sort((a, b) => a - b);
  return { tok_s: sftTokens(data, warmup, steps) / times.reduce((a, b) => a + b, 0), step_s_median: sorted[sorted.length >> 1]!, trainable: ours.trainable };
}

/** The batch file the peer reads (scripts/torch_sft_peer.py's --batches), written into `dir`. */
export function writeSftBatches(dir: string, data: SftBatches): string {
  const c = nano(data.vocab);
  const file = join(dir, 'batches.json');
  writeFileSync(file, JSON.stringify({
    model: { vocab: data.vocab, d: c.nEmbd, layers: c.nLayer, heads: c.nHead, ctx: c.nCtx, mlp: c.intermediateSize },
    batches: data.batches.map((b) => ({ B: b.B, T: b.T, ids: Array.from(b.ids), targets: Array.from(b.targets) })),
  }));
  return file;
}

/** The peer on the same batches; null with the reason when it cannot run. */
export function runPeerSft(python: string, script: string, mode: 'lora' | 'full', threads: string, data: SftBatches, warmup: number, steps: number,
  env: Record<string, string | undefined> = {}):
  { ok: true; side: SftSide } | { ok: false; error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-sft-peer-'));
  try {
    const file = writeSftBatches(dir, data);
    const r = spawnSync(python, [script, '--batches', file, '--mode', mode, '--threads', threads, '--warmup', String(warmup), '--steps', String(steps)],
      { encoding: 'utf8', timeout: 30 * 60 * 1000, maxBuffer: 16 << 20, env: childEnv(env) });
    if (r.error) return { ok: false, error: `${python}: ${r.error.message}` };
    const last = (s: string) => s.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    if (r.status !== 0) return { ok: false, error: `peer exited with ${r.status ?? r.signal}: ${last(r.stderr) || '(no output)'}` };
    const j = JSON.parse(last(r.stdout)) as { tokens_per_s: number; step_s_median: number; trainable: number; blas_core?: string };
    return { ok: true, side: { tok_s: j.tokens_per_s, step_s_median: j.step_s_median, trainable: j.trainable, blas_core: j.blas_core ?? null } };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
