import type { ProbeResult } from '../eval/evaluate.ts';
import type { LabSummary } from './summary.ts';

/** One `tag=value` key of the task probe, with its accuracy before (base) and after each arm. */
export interface TagRow {
  key: string;
  tag: string;
  value: string;
  n: number | null;
  base: number | null;
  /** Arm name → accuracy after; null where the arm has no such key. */
  arms: Record<string, number | null>;
}

const TAG_ORDER = ['verb', 'form'];

function byTag(probes: Record<string, ProbeResult> | undefined): Record<string, { n: number; acc?: number }> {
  return probes?.task?.by_tag ?? {};
}

/**
 * The per-tag task accuracy table: every key any model has, verbs first, then forms, then
 * the rest, each alphabetical. Missing keys or accuracies are null, never an error.
 */
export function tagRows(s: LabSummary): TagRow[] {
  const base = byTag(s.base.probes);
  const arms = s.arms.map((a) => [a.name, byTag(a.probes)] as const);
  const keys = new Set<string>(Object.keys(base));
  for (const [, t] of arms) for (const k of Object.keys(t)) keys.add(k);
  const split = (k: string): [string, string] => {
    const i = k.indexOf('=');
    return i < 0 ? ['', k] : [k.slice(0, i), k.slice(i + 1)];
  };
  const rank = (tag: string) => { const i = TAG_ORDER.indexOf(tag); return i < 0 ? TAG_ORDER.length : i; };
  const accOf = (e: { acc?: number } | undefined) => (typeof e?.acc === 'number' ? e.acc : null);
  return [...keys]
    .map((key) => {
      const [tag, value] = split(key);
      const n = base[key]?.n ?? arms.find(([, t]) => t[key])?.[1][key]?.n ?? null;
      return { key, tag, value, n, base: accOf(base[key]), arms: Object.fromEntries(arms.map(([name, t]) => [name, accOf(t[key])])) };
    })
    .sort((a, b) => rank(a.tag) - rank(b.tag) || a.tag.localeCompare(b.tag) || a.value.localeCompare(b.value));
}
