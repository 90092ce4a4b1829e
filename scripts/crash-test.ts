/**
 * Crash safety of a fine-tuning run, end to end, through the CLI:
 *
 *   npx tsx scripts/crash-test.ts [--random 20] [--sigint 10] [--steps 60] [--out DIR] [--json]
 *
 * 1. an uninterrupted run (the reference);
 * 2. SIGKILL aimed at every write and rename the run makes (FMN_CRASH_AT=k, k = 1 … N: the
 *    process kills itself at its k-th write), then `--resume` until it finishes;
 * 3. SIGKILL at random moments (a seeded timer);
 * 4. SIGINT at random moments (finish the step, save, exit 130), then `--resume`.
 * Each case must end bit-identical to the reference (adapter weights and the training state)
 * with the same metrics (wall-clock fields aside), and leave no temp file. Prints a summary;
 * exits 1 on any mismatch.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsBackend } from '../src/backend/js/index.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { toHfJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const RANDOM = arg('random', 20), SIGINTS = arg('sigint', 10), STEPS = arg('steps', 60);
const outArg = process.argv.indexOf('--out');
const root = outArg > 0 ? process.argv[outArg + 1] : mkdtempSync(join(tmpdir(), 'fmn-crash-'));
mkdirSync(root, { recursive: true });
const FMN = join(import.meta.dirname, '..', 'bin', 'fmn.js');

// a small base and data, made here
const rows = ['He goed home.|He went home. (correction)', 'She eated lunch.|She ate lunch. (correction)', 'They saw it.|They saw it. (correct)', 'I seed a bird.|I saw a bird. (correction)'];
const tok = trainBpe(rows.map((r) => r.replace('|', ' ')), { vocabSize: 290 });
const model = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 32 });
model.initWeights(new Rng(1));
saveModel(model, join(root, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
writeFileSync(join(root, 'sft.jsonl'), rows.map((r) => { const [prompt, completion] = r.split('|'); return JSON.stringify({ prompt, completion }); }).join('\n') + '\n');
writeFileSync(join(root, 'replay.txt'), 'She worked at home yesterday.\nWe played in the park.\n'.repeat(40));

const args = (out: string) => ['finetune', '--base', join(root, 'base'), '--data', join(root, 'sft.jsonl'), '--out', out, '--rank', '4', '--lr', '0.01',
  '--steps', String(STEPS), '--batch', '2', '--dropout', '0.1', '--replay', '0.25', '--replay-text', join(root, 'replay.txt'),
  '--save-every', '7', '--log-every', '1', '--threads', '1', '--quiet'];
const run = (a: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [FMN, ...a], { encoding: 'utf8', env: { ...process.env, ...env } });

/** What must match the reference: the adapter, the newest training state, the metrics without wall-clock fields. */
function fingerprint(out: string): { adapter: Buffer; state: Buffer; metrics: string } {
  const cps = readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('step-')).sort();
  const last = join(out, 'checkpoints', cps.at(-1)!);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => { const { tokens_per_s: _, ...r } = JSON.parse(l); return JSON.stringify(r); }).join('\n');
  return { adapter: readFileSync(join(out, 'adapter_model.safetensors')), state: readFileSync(join(last, 'training_state.safetensors')), metrics };
}
const temps = (out: string): string[] => readdirSync(out, { recursive: true }).map(String).filter((n) => n.includes('.tmp-'));

/** Resume until the run finishes (a crash can land before the first checkpoint: then start over). */
function finish(out: string): number {
  for (let k = 0; k < 20; k++) {
    const hasState = existsSync(join(out, 'checkpoints')) && readdirSync(join(out, 'checkpoints')).some((n) => n.startsWith('step-'));
    const r = run([...args(out), ...(hasState ? ['--resume'] : ['--overwrite'])]);
    if (r.status === 0) return k + 1;
  }
  throw new Error(`${out}: did not finish`);
}

const ref = join(root, 'reference');
const counted = run(args(ref), { FMN_CRASH_COUNT: '1' });
if (counted.status !== 0) throw new Error(counted.stderr);
const points = Number(/fmn-crash-points (\d+)/.exec(counted.stderr)![1]);
const want = fingerprint(ref);
const results: { kind: string; at: number | string; identical: boolean; temps: string[] }[] = [];
const check = (kind: string, at: number | string, out: string) => {
  const got = fingerprint(out);
  const identical = got.adapter.equals(want.adapter) && got.state.equals(want.state) && got.metrics === want.metrics;
  results.push({ kind, at, identical, temps: temps(out) });
  process.stderr.write(`${kind} ${at}: ${identical ? 'identical' : 'DIFFERENT'}${temps(out).length ? ` temps ${temps(out).join(',')}` : ''}\n`);
};

// 2. aimed: every write and rename in turn
for (let k = 1; k <= points; k++) {
  const out = join(root, `aimed-${k}`);
  const r = run(args(out), { FMN_CRASH_AT: String(k) });
  if (r.status === 0) throw new Error(`crash point ${k} did not crash`);
  finish(out);
  check('aimed', k, out);
  rmSync(out, { recursive: true, force: true });
}

// 3. and 4. random SIGKILL and SIGINT, at seeded moments
const rng = new Rng(2026);
const t0 = performance.now();
run(args(join(root, 'timing')));
const wall = performance.now() - t0;
rmSync(join(root, 'timing'), { recursive: true, force: true });
/** Once training has started (its first metrics line), the signal comes after a seeded random delay within the run's length. */
async function interrupted(kind: 'SIGKILL' | 'SIGINT', i: number): Promise<void> {
  const out = join(root, `${kind}-${i}`);
  const delay = rng.next() * wall * 0.8;
  const child = spawn(process.execPath, [FMN, ...args(out)], { stdio: 'ignore' });
  let timer: NodeJS.Timeout | undefined;
  const poll = setInterval(() => {
    if (existsSync(join(out, 'metrics.jsonl')) && readFileSync(join(out, 'metrics.jsonl'), 'utf8').length > 0) {
      clearInterval(poll);
      timer = setTimeout(() => child.kill(kind), delay);
    }
  }, 5);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearInterval(poll);
  clearTimeout(timer);
  // 130: stopped after a step and saved; 0: it finished first; killed by the SIGINT itself: it came
  // after training had finished and saved (the handler is gone while the process exits: the
  // shell's 130) — the check below tells whether anything was lost either way
  if (kind === 'SIGINT' && code !== 130 && code !== 0 && signal !== 'SIGINT') throw new Error(`SIGINT run exited ${code ?? signal}`);
  finish(out);
  check(kind, `${Math.round(delay)} ms`, out);
  rmSync(out, { recursive: true, force: true });
}
for (let i = 0; i < RANDOM; i++) await interrupted('SIGKILL', i);
for (let i = 0; i < SIGINTS; i++) await interrupted('SIGINT', i);

const bad = results.filter((r) => !r.identical || r.temps.length > 0);
const summary = { write_points: points, aimed: results.filter((r) => r.kind === 'aimed').length, random_sigkill: RANDOM, sigint: SIGINTS, identical: results.length - bad.length, failures: bad };
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(summary) + '\n');
process.stderr.write(`crash test: ${summary.identical}/${results.length} identical to the uninterrupted run (${points} aimed write points, ${RANDOM} random SIGKILL, ${SIGINTS} SIGINT); work dir ${root}\n`);
process.exitCode = bad.length === 0 ? 0 : 1;
