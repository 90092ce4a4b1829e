/**
 * Progress of long loops, handed down through the run context so the caller decides where it
 * goes: a redrawn bar on a terminal, plain periodic lines when piped (logs, CI), or nothing
 * (the library's default, tests, the lab's inner runs).
 */
export interface ProgressBar {
  update(done: number, fields: Record<string, string | number>): void;
}

/** Makes one bar per loop: `progress('finetune lora', 300)`. */
export type ProgressFactory = (label: string, total: number) => ProgressBar;

export const SILENT_PROGRESS: ProgressFactory = () => ({ update: () => {} });

export type ProgressMode = 'bar' | 'lines' | 'silent';

/** A sink writing to `out`: `bar` redraws one line, `lines` prints one every `everySeconds` (and the first and last). */
export function progressTo(out: { write(s: string): unknown; isTTY?: boolean }, mode?: ProgressMode, everySeconds = 10): ProgressFactory {
  const m = mode ?? (out.isTTY === true ? 'bar' : 'lines');
  if (m === 'silent') return SILENT_PROGRESS;
  return (label, total) => {
    const start = Date.now();
    let lastLine = -Infinity;
    return {
      update(done, fields) {
        const elapsed = (Date.now() - start) / 1000;
        const eta = done > 0 ? (elapsed * (total - done)) / done : NaN;
        const info = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join('  ');
        if (m === 'bar') {
          const w = 24, filled = Math.round((w * done) / total);
          out.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${total}  ${info}  eta ${dur(eta)}\x1b[K`);
          if (done >= total) out.write('\n');
        } else if (done >= total || elapsed - lastLine >= everySeconds || done === 1) {
          lastLine = elapsed;
          out.write(`${label} ${done}/${total}  ${info}  elapsed ${dur(elapsed)}  eta ${dur(eta)}\n`);
        }
      },
    };
  };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

function dur(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
