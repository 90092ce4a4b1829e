/**
 * Progress for long runs: a redrawn bar on a terminal, plain periodic lines otherwise
 * (logs, CI). Writes to stderr so that --json output on stdout stays clean.
 */
export class Progress {
  readonly #tty: boolean;
  readonly #start = Date.now();
  #lastLine = 0;
  constructor(readonly label: string, readonly total: number, readonly out: NodeJS.WriteStream = process.stderr,
    readonly everySeconds = 10) {
    this.#tty = out.isTTY === true;
  }

  update(done: number, fields: Record<string, string | number>): void {
    const elapsed = (Date.now() - this.#start) / 1000;
    const eta = done > 0 ? (elapsed * (this.total - done)) / done : NaN;
    const info = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join('  ');
    if (this.#tty) {
      const w = 24, filled = Math.round((w * done) / this.total);
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${this.total}  ${info}  eta ${dur(eta)}\x1b[K`);
      if (done >= this.total) this.out.write('\n');
    } else if (done >= this.total || elapsed - this.#lastLine >= this.everySeconds || done === 1) {
      this.#lastLine = elapsed;
      this.out.write(`${this.label} ${done}/${this.total}  ${info}  elapsed ${dur(elapsed)}  eta ${dur(eta)}\n`);
    }
  }
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
