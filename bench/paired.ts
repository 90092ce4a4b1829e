/**
 * bench:peer's paired mode (`--pairs N`): ours and the peer take turns in short bursts, the
 * peer a live process that steps when told (scripts/torch_peer_serve.py, scripts/torch_sft_peer.py
 * --serve). A shared host's slow phases last minutes and move a one-thread ratio measured in
 * separate stretches by up to a third; within a pair both sides run seconds apart on the same
 * batches, so the pair's ratio sees one phase. The row's ratio is the median of the pairs'
 * ratios with its sign-test interval (medianInterval): a matched contrast with its uncertainty.
 *
 * A burst is one untimed step (the caches refilled after the other side ran) and then `burst`
 * timed ones; the first side alternates between pairs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { medianInterval, quantileSorted } from '../src/util/stats.ts';
import { childEnv } from './peer-env.ts';

/** A peer process that answers one JSON line per command. */
export class PeerServer {
  #proc: ChildProcessWithoutNullStreams;
  #lines: Interface;
  #waiting: ((line: string | null) => void)[] = [];
  #queued: string[] = [];
  #stderr = '';
  #closed = false;

  constructor(readonly python: string, args: string[], env: Record<string, string | undefined>) {
    this.#proc = spawn(python, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stderr.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-4000); });
    this.#proc.on('error', (e) => { this.#stderr += `\n${python}: ${e.message}`; this.#end(); });
    this.#lines = createInterface({ input: this.#proc.stdout });
    this.#lines.on('line', (l) => { const w = this.#waiting.shift(); if (w) w(l); else this.#queued.push(l); });
    this.#lines.on('close', () => this.#end());
  }

  #end(): void {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w(null);
  }

  /** The next JSON line, or an Error naming what the process said last. */
  async #read(): Promise<Record<string, unknown>> {
    const line = this.#queued.shift() ?? (this.#closed ? null : await new Promise<string | null>((r) => this.#waiting.push(r)));
    if (line === null) {
      const last = this.#stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '(no output)';
      throw new Error(`peer ended: ${last}`);
    }
    try { return JSON.parse(line) as Record<string, unknown>; } catch { throw new Error(`unreadable peer line: ${line.slice(0, 200)}`); }
  }

  /** The ready line (the peer's set-up and warm-up done). */
  async ready(): Promise<Record<string, unknown>> {
    const j = await this.#read();
    if (j.ready !== true) throw new Error(`peer not ready: ${JSON.stringify(j).slice(0, 200)}`);
    return j;
  }

  /** Sends one command; the seconds of each step it took. */
  async run(command: string): Promise<number[]> {
    this.#proc.stdin.write(`${command}\n`);
    const j = await this.#read();
    if (!Array.isArray(j.times) || !j.times.every((t) => typeof t === 'number')) throw new Error(`no step times in ${JSON.stringify(j).slice(0, 200)}`);
    return j.times as number[];
  }

  close(): void {
    if (!this.#closed) this.#proc.stdin.end('quit\n');
    this.#proc.kill();
  }
}

/** One side of a pair: takes `n` steps starting at batch `first` and returns each step's seconds. */
export type Stepper = (first: number, n: number) => Promise<number[]>;

export interface PairedResult {
  pairs: number;
  burst: number;
  /** Median over the pairs of peer time / our time on the same timed steps (= ours tok/s / peer's). */
  ratio: number;
  /** Its sign-test interval (coverage ≥ 95%; null for fewer than 6 pairs). */
  ratio_lo: number | null;
  ratio_hi: number | null;
  ratio_coverage: number | null;
  /** Each pair's ratio, in order. */
  ratios: number[];
  /** Each pair's tokens/s over its timed steps, per side (the row's figures are their medians). */
  ours_tok_s: number[];
  peer_tok_s: number[];
}

/** The sample median (the middle pair's mean for an even count). */
const median = (xs: readonly number[]): number => quantileSorted([...xs].sort((a, b) => a - b), 0.5);

/**
 * `pairs` pairs of bursts from batch `start` on: each side one untimed step and `burst` timed ones
 * on the same batches, ours first in even pairs and the peer first in odd ones. `tokens(first, n)`
 * counts the tokens of n steps from batch `first`.
 */
export async function runPaired(ours: Stepper, peer: Stepper, pairs: number, burst: number, start: number,
  tokens: (first: number, n: number) => number, log: (line: string) => void = () => {}): Promise<PairedResult> {
  if (!(Number.isInteger(pairs) && pairs >= 1 && Number.isInteger(burst) && burst >= 1)) throw new RangeError(`runPaired: pairs and burst must be positive integers, got ${pairs}, ${burst}`);
  const ratios: number[] = [], oursTok: number[] = [], peerTok: number[] = [];
  let at = start;
  for (let p = 0; p < pairs; p++) {
    const sides: [string, Stepper][] = p % 2 === 0 ? [['ours', ours], ['peer', peer]] : [['peer', peer], ['ours', ours]];
    const took: Record<string, number> = {};
    for (const [name, step] of sides) {
      const times = await step(at, 1 + burst);
      if (times.length !== 1 + burst) throw new Error(`${name} took ${times.length} steps, asked ${1 + burst}`);
      took[name] = times.slice(1).reduce((a, b) => a + b, 0);
    }
    const tok = tokens(at + 1, burst);
    at += 1 + burst;
    ratios.push(took.peer! / took.ours!);
    oursTok.push(tok / took.ours!);
    peerTok.push(tok / took.peer!);
    log(`  pair ${p + 1}/${pairs}: ours ${oursTok.at(-1)!.toFixed(0)} tok/s, peer ${peerTok.at(-1)!.toFixed(0)}, ratio ${ratios.at(-1)!.toFixed(3)}`);
  }
  const ci = medianInterval(ratios);
  return {
    pairs, burst, ratio: median(ratios),
    ratio_lo: ci?.lo ?? null, ratio_hi: ci?.hi ?? null, ratio_coverage: ci?.coverage ?? null,
    ratios, ours_tok_s: oursTok, peer_tok_s: peerTok,
  };
}

export { median as pairMedian };
