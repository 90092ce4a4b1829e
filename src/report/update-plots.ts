import type { TopLevelSpec } from 'vega-lite';
import type { DiffResult } from '../analyze/analyze.ts';

/**
 * `fmn analyze diff --plots DIR`: one plot per parameter group, the cumulative energy of each of
 * its matrices' updates against the number of directions kept (Σᵢ≤r σᵢ² / Σσ² over r). A curve
 * that reaches the 90% rule at small r is a low-rank update; r90 is where it crosses.
 */
export function groupSpectrumSpecs(d: DiffResult): { group: string; spec: TopLevelSpec }[] {
  const groups = [...new Set(d.matrices.map((m) => m.group))];
  return groups.map((group) => {
    const ms = d.matrices.filter((m) => m.group === group);
    const rows = ms.flatMap((m) => {
      const total = m.sigma.reduce((a, s) => a + s * s, 0);
      let acc = 0;
      return m.sigma.map((s, i) => { acc += s * s; return { matrix: m.block ?? m.name, name: m.name, r: i + 1, energy: total > 0 ? acc / total : 0 }; });
    });
    const maxR = Math.max(1, ...ms.map((m) => m.sigma.length));
    const x = { field: 'r', type: 'quantitative' as const, title: 'directions kept (r)', scale: { type: 'log' as const, domain: [1, maxR], nice: false } };
    const g = d.groups.find((x) => x.group === group);
    const size = g ? `‖Δ‖ ${g.delta_fro.toPrecision(4)}, ${(100 * g.share_of_delta_sq).toFixed(1)}% of ‖Δθ‖²` : '';
    return {
      group,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: { text: `Where the ${group} update lives`, subtitle: `${ms.length} matri${ms.length === 1 ? 'x' : 'ces'} · ${size} · median r90 ${median(ms.map((m) => m.r90))} of ${maxR}` },
        width: 480, height: 250,
        config: { font: 'sans-serif', background: 'white', padding: 8, legend: { orient: 'bottom' as const, direction: 'horizontal' as const, columns: 4, labelLimit: 260 } },
        layer: [
          { data: { values: [{ energy: 0.9 }] }, mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4] }, encoding: { y: { field: 'energy', type: 'quantitative' } } },
          {
            data: { values: rows },
            mark: { type: 'line', strokeWidth: 2, interpolate: 'step-after' },
            encoding: {
              x, y: { field: 'energy', type: 'quantitative', title: 'share of ‖ΔW‖² in the top r directions', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
              color: { field: 'matrix', type: 'nominal', title: ms.every((m) => m.block !== null) ? 'block' : 'matrix' },
              detail: { field: 'name', type: 'nominal' },
            },
          },
        ],
      } as TopLevelSpec,
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
