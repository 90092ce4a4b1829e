import { describe, expect, it } from 'vitest';
import type { GeometryArm } from '../report/summary.ts';
import { geometryParagraph, shrinkAtDrift } from './geometry.ts';

/** A score on the line task = 0.3 + slope·drift (what a uniform shrink of one update traces). */
const score = (drift: number, task: number) => ({ task_acc: task, task_se: 0.02, control_ppl: 4 * (1 + drift), drift, drift_ci: [drift - 0.02, drift + 0.02] as [number, number] });

function arm(method: 'full' | 'lora', cutTask: number): GeometryArm {
  const line = (d: number) => Math.min(1, 0.3 + 1.2 * d);
  return {
    arm: `${method}-x`, method, split: 'test', delta_theta: 10,
    groups: [{ group: 'embeddings/head', params: 10, delta_fro: method === 'full' ? 3 : 0, rel_delta: 0.1, share_of_delta_sq: 0.7 }, { group: 'mlp up', params: 10, delta_fro: 1, rel_delta: 0.1, share_of_delta_sq: 0.3 }],
    blocks: [], matrices: [],
    median_erank: method === 'full' ? 70 : 7, median_r90: method === 'full' ? 28 : 5, median_width: 128, intruders: 0, intruders_null: 0,
    ablate: [{ group: 'tuned', mode: 'none', ...score(0.6, 0.9) }, { group: 'base', mode: 'all', ...score(0, 0.3) },
      { group: 'embeddings/head', mode: 'revert', ...score(0.1, 0.6) }, { group: 'mlp up', mode: 'revert', ...score(0.5, 0.85) }],
    interpolate: [0, 0.25, 0.5, 0.75, 1].map((a) => ({ alpha: a, ...score(0.6 * a * a, line(0.6 * a * a)) })),
    truncate: [{ rank: 8, mode: 'truncate', delta_fro: 8, ...score(0.3, cutTask) }, { rank: 8, mode: 'shrink', delta_fro: 8, ...score(0.45, line(0.45)) }],
    seconds: 1,
  };
}

describe('the geometry paragraph', () => {
  it('reads the uniform shrink at the cut\'s drift, between the measured α points', () => {
    const a = arm('full', 0.5);
    // drift 0.3 lies between α 0.5 (0.15) and α 0.75 (0.3375) on the line: task 0.3 + 1.2·0.3
    expect(shrinkAtDrift(a, 0.3)!.task_acc).toBeCloseTo(0.3 + 1.2 * 0.3, 1);
    expect(shrinkAtDrift(a, 0.7)).toBeNull();
  });

  it('says which of rank and size traded learning for forgetting, at equal forgetting', () => {
    const lora = arm('lora', 0.6);
    const below = geometryParagraph({ arms: [arm('full', 0.5), lora], paragraph: '' });
    expect(below).toContain('the uniform shrink learned more');
    expect(below).toContain('LoRA never touches embeddings/head');
    expect(below).toContain('held in part');
    const above = geometryParagraph({ arms: [arm('full', 0.85), lora], paragraph: '' });
    expect(above).toContain('the low-rank cut learned more');
    expect(above).toContain('the theory\'s claim held:');
    const same = geometryParagraph({ arms: [arm('full', 0.3 + 1.2 * 0.3), lora], paragraph: '' });
    expect(same).toContain('no clear difference at equal forgetting');
  });
});
