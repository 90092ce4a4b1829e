import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import type { Backend } from '../backend/backend.ts';
import { Rng } from '../util/rng.ts';
import { loadNativeBackend } from '../backend/native/index.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { poolOf } from '../tensor/tensor.ts';
import { PackedLoader } from './batch.ts';
import { Trainer, type TrainerOptions } from './trainer.ts';

const V = 40;
const stream = (() => {
  // a learnable stream: a repeating pattern with noise
  const r = new Rng(9);
  return Int32Array.from({ length: 3000 }, (_, i) => (r.next() < 0.8 ? (i * 7) % V : r.int(V)));
})();

const opts: TrainerOptions = {
  steps: 12, maxLr: 3e-3, minLr: 3e-4, warmup: 3, clip: 1, gradAccum: 2,
  adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }, logEvery: 1, evalEvery: 0, checkpointEvery: 0,
};

function setup(be: Backend, outDir: string | null) {
  const model = new GPT(be, { ...micro(V), nCtx: 16 });
  model.initWeights(new Rng(1));
  const loader = new PackedLoader(stream, 4, 16, 2);
  const trainer = new Trainer(model.namedParameters(), loader, opts, {
    loss: (b) => ({ loss: crossEntropy(model.forward(b.ids, b.B, b.T), b.targets), tokens: b.ids.length }),
  }, outDir);
  return { model, trainer };
}

function losses(dir: string): number[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
}

describe('Trainer', () => {
  const be = createJsBackend();
  it('reuses its buffers: no new activation or gradient buffer after the first steps (flat memory)', async () => {
    const { trainer } = setup(be, null);
    const pool = poolOf(be);
    await trainer.run({ stopAt: 3 });
    const after3 = pool.created;
    await trainer.run({ stopAt: 12 });
    expect(pool.created).toBe(after3);
  });

  it('same seed ⇒ the same loss curve, bit for bit; and it learns', async () => {
    const d1 = mkdtempSync(join(tmpdir(), 'fmn-tr-')), d2 = mkdtempSync(join(tmpdir(), 'fmn-tr-'));
    try {
      await setup(be, d1).trainer.run();
      await setup(be, d2).trainer.run();
      const a = losses(d1), b = losses(d2);
      expect(a).toHaveLength(12);
      expect(b).toEqual(a);
      expect(a[11]).toBeLessThan(a[0]);
    } finally { rmSync(d1, { recursive: true }); rmSync(d2, { recursive: true }); }
  });

  it('native backend, 2 threads: same seed ⇒ the same loss curve, bit for bit', async () => {
    let nb: Backend;
    try { nb = loadNativeBackend(); } catch { return; }   // covered by the js test when the addon is absent
    nb.setThreads(2);
    const d1 = mkdtempSync(join(tmpdir(), 'fmn-tr-')), d2 = mkdtempSync(join(tmpdir(), 'fmn-tr-'));
    try {
      await setup(nb, d1).trainer.run();
      await setup(nb, d2).trainer.run();
      expect(losses(d2)).toEqual(losses(d1));
    } finally { rmSync(d1, { recursive: true }); rmSync(d2, { recursive: true }); }
  });

  it('stopped at step k and resumed ends bit-identical to an uninterrupted run', async () => {
    const full = mkdtempSync(join(tmpdir(), 'fmn-tr-')), part = mkdtempSync(join(tmpdir(), 'fmn-tr-'));
    try {
      const a = setup(be, full);
      await a.trainer.run();
      const b = setup(be, part);
      await b.trainer.run({ stopAt: 5 });
      b.trainer.saveState();
      // a fresh process: new model (different init), state restored from disk
      const c = setup(be, part);
      c.model.parameters().forEach((p) => p.data.fill(0.5));
      c.trainer.loadState(part);
      expect(c.trainer.step).toBe(5);
      await c.trainer.run({ resumed: true });
      const pa = a.model.parameters(), pc = c.model.parameters();
      pa.forEach((p, i) => expect(Buffer.compare(Buffer.from(p.data.buffer), Buffer.from(pc[i].data.buffer))).toBe(0));
      expect(losses(part)).toEqual(losses(full));
    } finally { rmSync(full, { recursive: true }); rmSync(part, { recursive: true }); }
  });
});
