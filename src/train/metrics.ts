import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { crashPoint, writeFileAtomic } from '../util/fs.ts';

/** metrics.jsonl: one JSON object per logged step or evaluation. */
export class MetricsLog {
  constructor(readonly file: string | null) {}

  /** Start fresh, or (on resume) keep only records up to `step`. */
  reset(keepUpToStep = -1): void {
    if (this.file === null) return;
    if (keepUpToStep < 0 || !existsSync(this.file)) { writeFileAtomic(this.file, ''); return; }
    const kept = readFileSync(this.file, 'utf8').split('\n').filter((l) => {
      if (l.trim() === '') return false;
      try { return (JSON.parse(l) as { step?: number }).step! <= keepUpToStep; } catch { return false; }
    });
    writeFileAtomic(this.file, kept.map((l) => l + '\n').join(''));   // a line torn by a kill is dropped here
  }

  write(record: Record<string, unknown>): void {
    if (this.file === null) return;
    crashPoint();
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

/** Reads a metrics.jsonl back (for reports). */
export function readMetrics(file: string): Record<string, number | string>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}
