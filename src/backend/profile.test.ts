import { describe, expect, it } from 'vitest';
import { createJsBackend } from './js/index.ts';
import { inPhase, profiled, profileRows } from './profile.ts';

describe('FMN_PROFILE', () => {
  it('is the backend itself when off', () => {
    const be = createJsBackend();
    expect(profiled(be, undefined)).toBe(be);
    expect(profiled(be, '0')).toBe(be);
  });

  it('times every kernel call under the caller\'s phase, matmul by orientation and shape class', () => {
    const be = profiled(createJsBackend(), '1');
    const a = new Float32Array(40 * 16).fill(1), b = new Float32Array(16 * 8).fill(2), c = new Float32Array(40 * 8);
    inPhase('test-phase', () => {
      be.matmul(c, a, b, 40, 8, 16, false, false, false);
      be.matmul(c, a, b, 40, 8, 16, false, false, true);
      be.geluForward(c, c, c.length);
    });
    expect(c[0]).toBeCloseTo(64, 4);   // the wrapped kernels ran: 16·1·2, accumulated twice, through GELU (≈ identity at 64)
    const row = profileRows().find((r) => r.phase === 'test-phase')!;
    const mm = row.kernels.find((k) => k.kernel === 'matmul nn M≤64 N≤8 K≤16')!;
    expect(mm.calls).toBe(2);
    expect(mm.gflops).toBeGreaterThan(0);
    expect(row.kernels.find((k) => k.kernel === 'geluForward')!.calls).toBe(1);
    expect(row.wall_ms).toBeGreaterThanOrEqual(row.kernel_ms);
  });

  it('passes a kernel\'s return value through (gradient clipping reads sumSquares\' sum)', () => {
    const be = profiled(createJsBackend(), '1');
    const g = Float32Array.from([3, 4]);
    expect(be.sumSquares(g, 2, 1)).toBe(26);
  });
});
