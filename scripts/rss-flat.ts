/**
 * Memory of a fine-tuning loop over many steps (issue #16: RSS flat after step 10 over 500
 * steps). A LoRA fine-tune of the lab's micro model on SFT rows of varying length (batches
 * padded to their longest row, so tensor shapes change from step to step), on the backend
 * FMN_BACKEND picks; after a full GC it samples the process RSS at step 10 and every 25 steps to
 * the end, and the buffer pool's count of buffers made.
 *
 *   node --expose-gc --import tsx scripts/rss-flat.ts [--steps 500] [--batch 16]
 *
 * Prints JSON: {steps, rss: [{step, rss}], growth_bytes (max after step 10 − at step 10),
 * tail_growth_bytes (max over the second half − at its start), pool_created_at_10,
 * pool_created_end, pool_parked_bytes}.
 */
import { selectBackend } from '../src/backend/select.ts';
import { generateSft } from '../src/corpus/sft.ts';
import { encodeSft, sftText } from '../src/data/sft-format.ts';
import { applyLora, adapterParameters } from '../src/lora/inject.ts';
import { LORA_DEFAULTS } from '../src/lora/config.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { crossEntropy } from '../src/tensor/ops/loss.ts';
import { poolOf } from '../src/tensor/tensor.ts';
import { PAD, DEFAULT_SPECIALS } from '../src/tokenizer/special.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { SftLoader } from '../src/train/sft-loader.ts';
import { Trainer } from '../src/train/trainer.ts';
import { Rng } from '../src/util/rng.ts';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? def : Number(process.argv[i + 1]); };
const steps = arg('steps', 500), batch = arg('batch', 16);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const backend = selectBackend();
const rows = generateSft({ seed: 3, rows: 400 });
const tok = trainBpe(rows.map((r) => sftText(r.prompt, r.completion)), { vocabSize: 512, specials: DEFAULT_SPECIALS });
const seqs = rows.map((r, line) => {
  const e = encodeSft(tok, r.prompt, r.completion);
  return { ids: Int32Array.from(e.ids), mask: Uint8Array.from(e.lossMask), line };
});
const model = new GPT(backend, micro(tok.vocabSize));
model.initWeights(new Rng(1));
const adapters = applyLora(model, { ...LORA_DEFAULTS, targets: ['all-linear'] }, new Rng(2));
const loader = new SftLoader(seqs, batch, tok.specialId(PAD), 5);
const trainer = new Trainer(adapterParameters(adapters), loader, {
  steps, maxLr: 1e-3, minLr: 1e-4, warmup: 10, clip: 1, gradAccum: 1,
  adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, logEvery: 0, evalEvery: 0, checkpointEvery: 0,
}, { loss: (b) => ({ loss: crossEntropy(model.forward(b.ids, b.B, b.T), b.targets), tokens: b.ids.length }) }, null);

const pool = poolOf(backend);
const samples: { step: number; rss: number }[] = [];
const sample = (step: number) => { gc(); gc(); samples.push({ step, rss: process.memoryUsage().rss }); };
await trainer.run({ stopAt: 10 });
sample(10);
const createdAt10 = pool.created;
for (let s = 25; s <= steps; s += 25) { await trainer.run({ stopAt: s }); sample(s); }
const at10 = samples[0]!.rss;
const half = samples.findIndex((x) => x.step >= steps / 2);
const tail = samples.slice(half);
process.stdout.write(JSON.stringify({
  backend: backend.name, steps, batch, rss: samples, growth_bytes: Math.max(...samples.map((x) => x.rss)) - at10,
  tail_growth_bytes: Math.max(...tail.map((x) => x.rss)) - tail[0]!.rss,
  pool_created_at_10: createdAt10, pool_created_end: pool.created, pool_parked_bytes: pool.parkedBytes,
}) + '\n');
