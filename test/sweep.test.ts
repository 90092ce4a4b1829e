/**
 * fmn sweep as a user runs it: a 12-cell grid on a tiny base, locally with --workers 2, killed
 * with SIGKILL and resumed without recomputing finished cells; the frontier report; and the same
 * sweep through Redis with 3 workers, one SIGKILLed mid-cell: every cell finishes once and
 * sweep.jsonl equals the local run's numbers; the lab's own search through the same queue gives
 * the local lab's summary. Redis is Debian's redis-server on a loopback port
 * (the Redis part skips, saying so, where redis-server is not installed).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js/index.ts';
import { writeCorpus } from '../src/corpus/corpus.ts';
import { ConfigError } from '../src/errors.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { readSweepPlan } from '../src/sweep/config.ts';
import { toHfJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = join(import.meta.dirname, '..');
const FMN = join(ROOT, 'bin', 'fmn.js');
const store = mkdtempSync(join(tmpdir(), 'fmn-sweep-'));
const env = { ...process.env, FMN_THREADS: '2' };
const fmn = (...a: string[]) => spawnSync(process.execPath, [FMN, ...a], { encoding: 'utf8', timeout: 300_000, cwd: store, env });
afterAll(() => rmSync(store, { recursive: true, force: true }));

/** 12 cells: method × lr × (seed 1234, 1235), each a few steps on a micro model. */
const SWEEP = `
base: base
data: c/sft.jsonl
probes:
  task: [c/probes/test/task.jsonl]
  control: [c/probes/test/control.jsonl]
  dev_task: [c/probes/dev/task.jsonl]
  dev_control: [c/probes/dev/control.jsonl]
fixed: {steps: 16, batch: 8, save_every: 2, warmup: 2}
grid:
  method: [lora, full]
  lr: [0.001, 0.003, 0.01]
seeds: 2
`;

beforeAll(() => {
  writeCorpus(join(store, 'c'), { seed: 0, pretrain: { tokens: 15_000 }, replay: { tokens: 3000 }, sft: { rows: 80 }, probes: { taskPairs: 2, taskGenerate: 1, controlText: 2, controlPairs: 1, adoptionPairs: 1, adoptionGenerate: 0, generalizationPairs: 1, generalizationGenerate: 0, echo: 4 } });
  const text = readFileSync(join(store, 'c', 'pretrain.txt'), 'utf8').split('\n').slice(0, 400);
  const tok = trainBpe(text, { vocabSize: 400 });
  const m = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 192 });
  m.initWeights(new Rng(5));
  saveModel(m, join(store, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
  writeFileSync(join(store, 'sweep.yaml'), SWEEP);
}, 120_000);

const rowsOf = (dir: string) => readFileSync(join(dir, 'sweep.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const METRICS = ['task_acc', 'task_acc_se', 'task_gain', 'task_gain_ci', 'drift', 'drift_ci', 'control_ppl', 'gen_em', 'verdict', 'delta_theta', 'dev', 'name'];
const metrics = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(METRICS.map((k) => [k, r[k]])));

describe('sweep config', () => {
  it('a grid is the product of its lists, over seeds; names say what varies', () => {
    const plan = readSweepPlan(join(store, 'sweep.yaml'), new Map());
    expect(plan.cells).toHaveLength(12);
    expect(plan.axes).toEqual(['method', 'lr', 'seed']);
    expect(plan.cells[0]!.name).toBe('c00-method=lora-lr0.001-seed1234');
    expect(plan.cells[11]!.values).toMatchObject({ method: 'full', lr: 0.01, seed: 1235, steps: 16, base: 'base' });
  });

  const head = 'base: base\ndata: c/sft.jsonl\n';
  it.each([
    [head + 'grid:\n  lrr: [0.1]\n', 4, 'grid.lrr', /did you mean "lr"/],
    [head + 'grid:\n  lr:\n    - 0.001\n    - -1\n', 6, 'grid.lr', /must be a number > 0/],
    [head + 'cells:\n  - {method: lora, seeds: 3}\n', 4, 'cells[0].seeds', /seeds: N at the top/],
    [head + 'steps: 5\ngrid:\n  steps: [1, 2]\n', 5, 'grid.steps', /both fixed \(line 3\) and in the grid/],
    [head + 'grid:\n  lr: []\n', 4, 'grid.lr', /non-empty list/],
  ])('%j → a ConfigError at line %d, key %s', (text, line, field, msg) => {
    const f = join(store, `bad-${field}.yaml`);
    writeFileSync(f, text);
    let err: unknown;
    try { readSweepPlan(f, new Map()); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: f, line, field });
    expect((err as Error).message).toMatch(msg);
  });
});

describe('fmn sweep, locally', () => {
  const out = join(store, 'local');

  it('runs with --workers 2; killed with SIGKILL, it resumes without recomputing finished cells', async () => {
    const child = spawn(process.execPath, [FMN, 'sweep', '--config', 'sweep.yaml', '--out', out, '--workers', '2'], { cwd: store, env, stdio: 'ignore' });
    const results = () => (existsSync(join(out, 'cells')) ? readdirSync(join(out, 'cells')).filter((c) => existsSync(join(out, 'cells', c, 'result.json'))) : []);
    await until(() => results().length >= 3, 240_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = new Map(results().map((c) => [c, statSync(join(out, 'cells', c, 'result.json')).mtimeMs]));
    expect(before.size).toBeGreaterThanOrEqual(3);
    expect(before.size).toBeLessThan(12);
    const r = fmn('sweep', '--config', 'sweep.yaml', '--out', out, '--workers', '2');
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${before.size} finished before, ${12 - before.size} to run`));
    for (const [c, t] of before) expect(statSync(join(out, 'cells', c, 'result.json')).mtimeMs).toBe(t);   // not recomputed
    const rows = rowsOf(out);
    expect(rows.map((x) => x.cell)).toEqual([...Array(12).keys()]);
    expect(rows.every((x) => typeof x.drift === 'number' && Array.isArray(x.drift_ci) && typeof x.delta_theta === 'number')).toBe(true);
    // a third run has nothing to do
    expect(fmn('sweep', '--config', 'sweep.yaml', '--out', out).stderr).toMatch(/12 finished before, 0 to run/);
    const st = fmn('sweep', '--out', out, '--status', '--json');
    expect(JSON.parse(st.stdout)).toMatchObject({ cells: 12, finished: 12 });
  }, 600_000);

  it('fmn report DIR draws the frontier of a sweep', () => {
    const r = fmn('report', out);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('The learning–forgetting frontier');
    expect(html).toMatch(/aria-roledescription="point"/);
    for (const p of ['sweep-frontier', 'effect-lr-task', 'effect-lr-drift']) expect(existsSync(join(out, 'plots', `${p}.png`)), p).toBe(true);
    const chromium = '/usr/bin/chromium';
    if (!existsSync(chromium)) { console.warn('sweep report screenshot skipped: /usr/bin/chromium not found'); return; }
    const shot = join(store, 'sweep.png');
    const c = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'fmn-chr-'))}`, '--window-size=1280,1200', `--screenshot=${shot}`, `file://${join(out, 'report.html')}`], { timeout: 90_000 });
    expect(c.status).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  }, 120_000);
});

const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!REDIS) console.warn('sweep over Redis skipped: redis-server is not installed (apt-get install -y redis-server)');

describe.skipIf(!REDIS)('fmn sweep over Redis (BullMQ)', () => {
  let redis: ChildProcess, port = 0;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    port = await freePort();
    redis = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 10_000);
  }, 30_000);
  afterAll(() => { for (const w of workers) w.kill('SIGKILL'); redis?.kill('SIGKILL'); });

  it('3 workers, one SIGKILLed mid-cell: every cell finishes exactly once, with the local run\'s numbers', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const logs: string[] = ['', '', ''];
    for (let i = 0; i < 3; i++) {
      const w = spawn(process.execPath, [FMN, 'worker', '--queue', url, '--storage', store, '--threads', '1', '--lock-seconds', '3', '--stalled-seconds', '1'], { cwd: store, env, stdio: ['ignore', 'ignore', 'pipe'] });
      w.stderr!.on('data', (d: Buffer) => { logs[i] += d.toString(); });
      workers.push(w);
    }
    const sweep = spawn(process.execPath, [FMN, 'sweep', '--config', 'sweep.yaml', '--out', join(store, 'queued'), '--queue', url, '--storage', store], { cwd: store, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let sweepLog = '';
    sweep.stderr!.on('data', (d: Buffer) => { sweepLog += d.toString(); });
    // kill worker 0 once it is inside a cell (it has trained a step: a checkpoint or metrics exist)
    await until(() => /worker: c\d+/.test(logs[0]!) && existsSync(join(store, 'queued', 'cells')) && readdirSync(join(store, 'queued', 'cells')).some((c) => existsSync(join(store, 'queued', 'cells', c, 'run', 'metrics.jsonl'))), 120_000);
    workers[0]!.kill('SIGKILL');
    const code = await new Promise<number | null>((r) => sweep.once('exit', r));
    expect(code, sweepLog.slice(-3000)).toBe(0);
    expect(sweepLog.match(/ done$/gm)?.length).toBe(12);                         // 12 completions, none twice
    const counts = spawnSync(process.execPath, ['--input-type=module', '-e', `import { Queue } from 'bullmq'; const q = new Queue('fmn-sweep', { connection: { host: '127.0.0.1', port: ${port} } }); console.log(JSON.stringify(await q.getJobCounts('completed', 'failed', 'waiting', 'active'))); await q.close();`], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(counts.stdout)).toEqual({ completed: 12, failed: 0, waiting: 0, active: 0 });
    expect(logs.slice(1).join('')).toMatch(/taken over/);                        // the killed worker's cell continued elsewhere
    expect(metrics(rowsOf(join(store, 'queued')))).toEqual(metrics(rowsOf(join(store, 'local'))));
  }, 600_000);

  it('the lab\'s own search through the same queue (the two workers left): the same summary as the lab run locally', () => {
    const url = `redis://127.0.0.1:${port}`;
    const tiny = ['--fast', '--quiet', '--pretrain-steps', '40', '--finetune-steps', '6', '--finetune-eval-every', '3', '--no-geometry', '--corpus-tokens', '20000', '--corpus-sft-rows', '80'];
    const local = fmn('lab', ...tiny, '--out', join(store, 'lab-local'));
    expect(local.status, local.stderr.slice(-2000)).toBe(0);
    const queued = fmn('lab', ...tiny, '--out', join(store, 'lab-queued'), '--queue', url, '--storage', store);
    expect(queued.status, queued.stderr.slice(-2000)).toBe(0);
    expect(queued.stderr).toMatch(/through the queue redis:/);
    const numbers = (dir: string) => JSON.parse(readFileSync(join(store, dir, 'summary.json'), 'utf8'), (k, v) => (/seconds|created|tokens_per_s/.test(k) ? undefined : v));
    expect(numbers('lab-queued')).toEqual(numbers('lab-local'));
    expect(rowsOf(join(store, 'lab-queued', 'runs')).length).toBe(rowsOf(join(store, 'lab-local', 'runs')).length);
  }, 600_000);
});

async function until(f: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}
