/**
 * Peer benchmark: training / inference throughput (tokens/s) of forgetmenot's native backend
 * against PyTorch on the CPU, on the same GPT-2-style model, batch and step.
 *
 *   npm run bench:peer                          table (configs tiny,small,sft; modes full,lora,infer; threads 1,2)
 *   npm run bench:peer -- --json                {"rows": [{config, mode, threads, ours_tok_s, peer_tok_s, ratio, ...}]}
 *   npm run bench:peer -- --configs gpt2s --modes full,lora --threads 1 --steps 5
 *   npm run bench:peer -- --no-peer             ours only (no PyTorch)
 *   npm run bench:peer -- --configs gpt2s --modes full,lora --precision fp32,bf16
 *                                               ours in each precision (one row each), the peer once (fp32)
 *
 * Other flags: --warmup N (untimed steps before timing, default 3, like the peer; the sft row
 * warms up on one pass over its timed batches, so every batch shape has been seen once),
 * --rounds N (ours and the peer alternately N times per row; each figure the median, default 1),
 * --pairs N [--burst K] (paired mode, bench/paired.ts: the peer a live process, the two sides
 * taking turns in bursts of one untimed and K timed steps on the same batches, N pairs; the ratio
 * is the median of the pairs' ratios with its sign-test interval; K defaults per config to a
 * burst of ~0.1–0.5 s where a step allows: tiny 2, small 1, gpt2s 1, sft 4; infer rows stay unpaired),
 * --openblas-core auto|env|NAME, --peer-malloc keep|default, --peer-isa auto|default (the peer's
 * own settings, see peer-env.ts: by default OpenBLAS picks its kernels for the CPU, freed memory is
 * kept, PyTorch runs its AVX-512 kernels where the CPU has them),
 * --python PATH (default $FMN_PEER_PYTHON or /usr/bin/python3),
 * --peer-script PATH (default $FMN_PEER_SCRIPT, else shared/peers/torch_gpt.py in or next to the repo).
 *
 * `sft` is the lab's fine-tuning step (bench/sft.ts; full and lora only): the nano model, 16 SFT
 * rows of ~40 tokens padded per batch, completion-only loss, clipping — the peer is
 * scripts/torch_sft_peer.py on the very same batches; tok/s counts padded tokens over the timed steps.
 *
 * Each row runs ours, then the peer (one process at a time), back to back, so both see the same
 * machine load. Figures are medians over the timed steps. Our threads 2 is compared with the
 * peer's `2p` (two threads, passive OpenMP waiting: PyTorch's best two-thread setting here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdamW, GPT, Rng, T, adapterParameters, applyLora, frozenMatrices, noGrad, releasing, selectBackend,
  type Backend, type GPTConfig, type Tensor,
} from '../src/index.ts';
import { PRECISIONS, type Precision } from '../src/backend/backend.ts';
import { configParams } from '../src/model/config.ts';
import { nano } from '../src/model/presets.ts';
import { childEnv, chooseOpenblas, peerIsaEnv, peerMallocEnv } from './peer-env.ts';
import { runPaired, pairMedian, PeerServer, type PairedResult } from './paired.ts';
import { oursSft, runOursSft, runPeerSft, SFT_BATCH, SFT_VOCAB, sftBatches, sftTokens, writeSftBatches, type SftBatches } from './sft.ts';

type Mode = 'full' | 'lora' | 'infer';

/** The peer's configurations (torch_gpt.py CONFIGS): vocab, width, layers, heads, seq, batch, timed steps. */
const CONFIGS: Record<string, { V: number; d: number; L: number; H: number; T: number; B: number; steps: number }> = {
  tiny: { V: 512, d: 128, L: 4, H: 4, T: 64, B: 32, steps: 20 },
  small: { V: 4096, d: 256, L: 6, H: 8, T: 128, B: 16, steps: 20 },
  gpt2s: { V: 8192, d: 768, L: 12, H: 12, T: 256, B: 4, steps: 8 },
  // ours only (the peer has no such config; its row reports peer_error): the lab's pretraining shape
  nano: { V: 1024, d: 128, L: 4, H: 4, T: 256, B: 8, steps: 20 },
  // the lab's fine-tuning step (bench/sft.ts): nano, 16 SFT rows of ~40 tokens padded per batch,
  // completion-only loss, clipping; the peer is scripts/torch_sft_peer.py on the same batches
  sft: { V: SFT_VOCAB, d: 128, L: 4, H: 4, T: 40, B: SFT_BATCH, steps: 30 },
};
const MODES: Mode[] = ['full', 'lora', 'infer'];
/** Paired mode's timed steps per burst (--burst): short bursts pair closer in time (tiny, 1T: bursts of 1, 2 and 8 steps gave ratios 1.43, 1.43, 1.38 with intervals 0.08, 0.10, 0.34 wide). */
const PAIR_BURST: Record<string, number> = { tiny: 2, small: 1, gpt2s: 1, nano: 1, sft: 4 };
const LR = 1e-4;

interface Side { tok_s: number; step_s_median: number; step_s_min: number; step_s_max: number; flops_per_token: number; gflops: number; params: number; trainable: number }
interface Row {
  config: string; mode: Mode; threads: number;
  /** Our matmul precision (--precision); the peer always runs fp32. */
  precision: Precision; matmul: string;
  /** ours_tok_s / our fp32 row's, measured in the same run (paired rows: ratio / the fp32 row's ratio); null for fp32 rows or without one. */
  vs_fp32: number | null;
  ours_tok_s: number; peer_tok_s: number | null; ratio: number | null;
  ours_step_s: number; ours_flops_per_token: number; ours_gflops: number;
  ours_params: number; ours_trainable: number;
  peer_step_s: number | null; peer_gflops: number | null; peer_trainable: number | null;
  peer_threads: string | null; peer_error?: string;
  /** The OpenBLAS kernels the peer's torch ran on (its own report). */
  peer_blas_core: string | null;
  /** Every round's tokens/s (the row's figures are their medians); absent in paired rows. */
  rounds?: { ours_tok_s: number[]; peer_tok_s: number[] };
  /**
   * Paired rows (--pairs): the row's ratio is the median of the pairs' ratios (ours tok/s / the
   * peer's on the same timed steps, run seconds apart), ratio_lo..ratio_hi its sign-test interval
   * (coverage ≥ 95%, null under 6 pairs); ours_tok_s and peer_tok_s are the medians of the pairs'.
   */
  paired?: Omit<PairedResult, 'ratio'>;
}

/* ---------- arguments ---------- */

function usage(msg: string): never {
  process.stderr.write(`bench:peer: ${msg}\n`);
  process.stderr.write('usage: npm run bench:peer -- [--configs tiny,small,gpt2s] [--modes full,lora,infer] [--threads 1,2] [--steps N] [--warmup N] [--rounds N | --pairs N [--burst K]] [--precision fp32,bf16] [--json] [--no-peer] [--python PATH] [--peer-script PATH] [--openblas-core auto|env|NAME] [--peer-malloc keep|default] [--peer-isa auto|default]\n');
  process.exit(2);
}

const argv = process.argv.slice(2);
const flag = (name: string): boolean => {
  const i = argv.indexOf(name);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
};
const opt = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = argv[i];
  if (a.includes('=')) { argv.splice(i, 1); return a.slice(name.length + 1); }
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`${name} needs a value`);
  argv.splice(i, 2);
  return v;
};
const list = (v: string | undefined, def: string[]): string[] => (v === undefined ? def : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
const posInt = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usage(`${name} must be a positive integer, got "${v}"`);
  return n;
};

const json = flag('--json');
const noPeer = flag('--no-peer');
const configs = list(opt('--configs'), ['tiny', 'small', 'sft']);
const modes = list(opt('--modes'), MODES) as Mode[];
const threadsList = list(opt('--threads'), ['1', '2']).map((t) => posInt('--threads', t)!);
const precisions = list(opt('--precision'), ['fp32']) as Precision[];
const stepsOverride = posInt('--steps', opt('--steps'));
const warmupArg = opt('--warmup');
const warmupGiven = warmupArg === '0' ? 0 : posInt('--warmup', warmupArg);
const warmup = warmupGiven ?? 3;
/** The sft row's warm-up: one pass over its timed batches unless --warmup is given (see sftWarmup). */
const sftWarmup = (steps: number): number => warmupGiven ?? steps;
const roundsArg = opt('--rounds');
const rounds = posInt('--rounds', roundsArg) ?? 1;
const pairs = posInt('--pairs', opt('--pairs'));
const burstArg = posInt('--burst', opt('--burst'));
if (pairs !== undefined && roundsArg !== undefined) usage('--pairs and --rounds do not combine (a paired row alternates step bursts, not whole runs)');
if (burstArg !== undefined && pairs === undefined) usage('--burst needs --pairs');
const blasRequest = opt('--openblas-core') ?? 'auto';
const mallocRequest = opt('--peer-malloc') ?? 'keep';
const isaRequest = opt('--peer-isa') ?? 'auto';
if (isaRequest !== 'auto' && isaRequest !== 'default') usage(`--peer-isa must be auto or default, got "${isaRequest}"`);
if (mallocRequest !== 'keep' && mallocRequest !== 'default') usage(`--peer-malloc must be keep or default, got "${mallocRequest}"`);
const python = opt('--python') ?? process.env.FMN_PEER_PYTHON ?? '/usr/bin/python3';
const peerScriptArg = opt('--peer-script') ?? process.env.FMN_PEER_SCRIPT;
if (argv.length > 0) usage(`unknown argument "${argv[0]}"`);
for (const c of configs) if (!(c in CONFIGS)) usage(`unknown config "${c}" (one of ${Object.keys(CONFIGS).join(', ')})`);
for (const m of modes) if (!MODES.includes(m)) usage(`unknown mode "${m}" (one of ${MODES.join(', ')})`);
for (const p of precisions) if (!PRECISIONS.includes(p)) usage(`unknown precision "${p}" (one of ${PRECISIONS.join(', ')})`);
if (configs.length === 0 || modes.length === 0 || threadsList.length === 0) usage('nothing to run');

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const peerScript = peerScriptArg ?? [
  resolve(repoRoot, 'shared/peers/torch_gpt.py'),
  resolve(repoRoot, '../shared/peers/torch_gpt.py'),
].find((p) => existsSync(p)) ?? null;

const log = (line: string): void => { process.stderr.write(`${line}\n`); };

/* ---------- ours ---------- */

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];   // upper median, as the peer (times[len // 2])
}

function randomIds(rng: Rng, n: number, V: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(V);
  return a;
}

/** Our model, trainable parameters and step for a config (the step trains, or scores for infer). */
function oursModel(backend: Backend, name: string, mode: Mode): { step: () => void; release: () => void; flopsTok: number; nParams: number; nTrain: number; tok: number } {
  const c = CONFIGS[name];
  const cfg: GPTConfig = {
    modelType: 'gpt2', vocabSize: c.V, nCtx: c.T, nEmbd: c.d, nLayer: c.L, nHead: c.H, nKvHead: c.H,
    intermediateSize: 4 * c.d, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true,
  };
  const model = new GPT(backend, cfg);
  model.initWeights(new Rng(0));
  const nParams = model.numParams();

  let trainParams: [string, Tensor][] = [];
  let release = () => {};
  if (mode === 'lora') {
    const adapters = applyLora(model, { rank: 8, alpha: 16, dropout: 0, targets: ['c_attn', 'attn.c_proj'], rslora: false, init: 'kaiming' }, new Rng(1));
    trainParams = adapterParameters(adapters);
    release = backend.freezeOperands(frozenMatrices(model));   // as fmn finetune does: a bf16 path packs the base once
  } else if (mode === 'full') {
    trainParams = model.namedParameters();
  }
  const nTrain = mode === 'infer' ? 0 : trainParams.reduce((s, [, p]) => s + p.size, 0);

  // model FLOPs per token, the peer's convention (torch_gpt.py): matmul params 12·L·d² + d·V,
  // attention score/value matmuls 4·L·d·T forward.
  const nMm = 12 * c.L * c.d * c.d + c.d * c.V;
  const attnFwd = 4 * c.L * c.d * c.T;
  const flopsTok = mode === 'full' ? 6 * nParams + 3 * attnFwd
    : mode === 'lora' ? 4 * nMm + 6 * nTrain + 3 * attnFwd
      : 2 * nMm + attnFwd;

  const rng = new Rng(2);
  const ids = randomIds(rng, c.B * c.T, c.V);
  const targets = randomIds(rng, c.B * c.T, c.V);

  let step: () => void;
  if (mode === 'infer') {
    // as the evaluation scores (eval/score.ts): no graph, the pass's buffers back to the pool after it
    step = () => { noGrad(() => releasing(backend, () => T.crossEntropy(model.forward(ids, c.B, c.T), targets).item())); };
  } else {
    const opt = new AdamW(trainParams);
    step = () => {
      opt.zeroGrad();
      const loss = T.crossEntropy(model.forward(ids, c.B, c.T), targets);
      loss.backward();
      opt.update(LR);
      loss.item();
      loss.releaseGraph();
    };
  }

  return { step, release, flopsTok, nParams, nTrain, tok: c.B * c.T };
}

/** Seconds of each of n steps. */
function timeSteps(step: () => void, n: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1e3);
  }
  return times;
}

function runOurs(backend: Backend, name: string, mode: Mode, steps: number): Side {
  const { step, release, flopsTok, nParams, nTrain, tok } = oursModel(backend, name, mode);
  timeSteps(step, warmup);
  const times = timeSteps(step, steps);
  release();
  const med = median(times);
  return {
    tok_s: tok / med, step_s_median: med, step_s_min: Math.min(...times), step_s_max: Math.max(...times),
    flops_per_token: flopsTok, gflops: (flopsTok * tok) / med / 1e9, params: nParams, trainable: nTrain,
  };
}

/* ---------- the peer ---------- */

interface PeerResult { ok: true; tok_s: number; step_s: number; gflops: number; trainable: number; blas_core: string | null }
interface PeerFailure { ok: false; error: string }

function runPeer(name: string, mode: Mode, threads: string, steps: number | undefined): PeerResult | PeerFailure {
  if (peerScript === null) return { ok: false, error: 'peer script shared/peers/torch_gpt.py not found (give --peer-script PATH)' };
  const args = [peerScript, '--config', name, '--mode', mode, '--threads', threads, '--warmup', String(warmup)];
  if (steps !== undefined) args.push('--steps', String(steps));
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 30 * 60 * 1000, maxBuffer: 16 << 20, env: childEnv(peerEnv) });
  if (r.error) return { ok: false, error: `${python}: ${r.error.message}` };
  const lastLine = (s: string): string => s.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
  if (r.status !== 0) {
    return { ok: false, error: `peer exited with ${r.status ?? r.signal}: ${lastLine(r.stderr) || lastLine(r.stdout) || '(no output)'}` };
  }
  try {
    const j = JSON.parse(lastLine(r.stdout)) as Record<string, unknown>;
    if (typeof j.tokens_per_s !== 'number') throw new Error('no tokens_per_s');
    return { ok: true, tok_s: j.tokens_per_s, step_s: Number(j.step_s_median), gflops: Number(j.gflops), trainable: Number(j.trainable), blas_core: typeof j.blas_core === 'string' ? j.blas_core : null };
  } catch (e) {
    return { ok: false, error: `unreadable peer output (${(e as Error).message}): ${lastLine(r.stdout).slice(0, 200)}` };
  }
}

/* ---------- run ---------- */

const backend = selectBackend({ kind: 'native' });
const rows: Row[] = [];
// the peer's OpenBLAS kernels and allocator (peer-env.ts), decided once and reported
const simd = backend.name.replace(/^native-/, '');
const blas = noPeer ? null : chooseOpenblas(simd, blasRequest);
const malloc = noPeer ? null : peerMallocEnv(mallocRequest);
const isa = noPeer ? null : peerIsaEnv(simd, isaRequest);
const peerEnv: Record<string, string | undefined> = { ...(blas?.env ?? {}), ...(malloc?.env ?? {}), ...(isa?.env ?? {}) };
const peerNotes = [blas?.note, blas?.core ? `OpenBLAS runs its ${blas.core} kernels` : null, malloc?.note, isa?.note].filter((x): x is string => typeof x === 'string');
for (const n of peerNotes) log(`peer: ${n}`);
const sftPeerScript = resolve(repoRoot, 'scripts/torch_sft_peer.py');
let sftData: SftBatches | null = null;
/** An SFT step's side as a Side: FLOPs per token by the peer's convention at the batches' mean padded length. */
function sftSide(s: { tok_s: number; step_s_median: number; trainable: number }, mode: Mode, data: SftBatches): Side {
  const c = CONFIGS.sft, Tm = data.batches.reduce((a, b) => a + b.T, 0) / data.batches.length;
  const nParams = configParams(nano(data.vocab));
  const nMm = 12 * c.L * c.d * c.d + c.d * data.vocab, attnFwd = 4 * c.L * c.d * Tm;
  const flops = mode === 'full' ? 6 * nParams + 3 * attnFwd : 4 * nMm + 6 * s.trainable + 3 * attnFwd;
  return { tok_s: s.tok_s, step_s_median: s.step_s_median, step_s_min: s.step_s_median, step_s_max: s.step_s_median, flops_per_token: flops, gflops: flops * s.tok_s / 1e9, params: nParams, trainable: s.trainable };
}
/** The median of per-round figures (the upper one for an even count, as `median`). */
const mid = (xs: number[]): number => median(xs);
/** One side's figures over the rounds: each field the median of its values (a round is one whole measurement). */
function medianSide(sides: Side[]): Side {
  const m = (f: (s: Side) => number) => mid(sides.map(f));
  return { ...sides[0]!, tok_s: m((s) => s.tok_s), step_s_median: m((s) => s.step_s_median), step_s_min: Math.min(...sides.map((s) => s.step_s_min)),
    step_s_max: Math.max(...sides.map((s) => s.step_s_max)), gflops: m((s) => s.gflops) };
}
const servePeerScript = resolve(repoRoot, 'scripts/torch_peer_serve.py');
let pairedInferNoted = false;
/**
 * A row in paired mode (bench/paired.ts): the peer a live process stepping on command, ours in this
 * one, alternating bursts of steps on the same batches; one row per precision against the same peer.
 */
async function pairedRows(name: string, mode: 'full' | 'lora', threads: number, peerThreads: string): Promise<Row[]> {
  const burst = burstArg ?? PAIR_BURST[name] ?? 1;
  const isSft = name === 'sft';
  const w = isSft ? sftWarmup(CONFIGS.sft.steps) : warmup;
  const dir = isSft ? mkdtempSync(join(tmpdir(), 'fmn-sft-peer-')) : null;
  let server: PeerServer | null = null;
  try {
    if (!isSft && peerScript === null) throw new Error('peer script shared/peers/torch_gpt.py not found (give --peer-script PATH)');
    const args = isSft
      ? [sftPeerScript, '--batches', writeSftBatches(dir!, sftData!), '--mode', mode, '--threads', peerThreads, '--warmup', String(w), '--serve']
      : [servePeerScript, '--peer-script', peerScript!, '--config', name, '--mode', mode, '--threads', peerThreads, '--warmup', String(w)];
    log(`${name} ${mode} ${threads}T: peer (threads ${peerThreads}) starting, ${w} warm-up steps …`);
    server = new PeerServer(python, args, peerEnv);
    const ready = await server.ready();
    const peerStep = isSft
      ? (first: number, n: number) => server!.run(`run ${first} ${n}`)
      : (_first: number, n: number) => server!.run(`run ${n}`);
    const out: Row[] = [];
    for (const precision of precisions) {
      backend.setThreads(threads);
      const mm = backend.setMatmulPrecision(precision);
      log(`${name} ${mode} ${threads}T: ours ${mm.label} against the peer, ${pairs} pairs of ${burst} timed steps a side …`);
      let oursStep: (first: number, n: number) => Promise<number[]>;
      let side: (tokS: number) => Side, tokens: (first: number, n: number) => number, release: () => void;
      if (isSft) {
        const o = oursSft(backend, mode, sftData!, w + pairs! * (1 + burst));
        release = o.release;
        await o.steps(0, w);
        oursStep = (first, n) => o.steps(first, n);
        tokens = (first, n) => sftTokens(sftData!, first, n);
        side = (tokS) => sftSide({ tok_s: tokS, step_s_median: sftTokens(sftData!, 0, sftData!.batches.length) / sftData!.batches.length / tokS, trainable: o.trainable }, mode, sftData!);
      } else {
        const o = oursModel(backend, name, mode);
        release = o.release;
        timeSteps(o.step, w);
        oursStep = async (_first, n) => timeSteps(o.step, n);
        tokens = (_first, n) => n * o.tok;
        side = (tokS) => ({ tok_s: tokS, step_s_median: o.tok / tokS, step_s_min: NaN, step_s_max: NaN, flops_per_token: o.flopsTok, gflops: o.flopsTok * tokS / 1e9, params: o.nParams, trainable: o.nTrain });
      }
      const r = await runPaired(oursStep, peerStep, pairs!, burst, w, tokens, log);
      release();
      backend.setMatmulPrecision('fp32');
      const o = side(pairMedian(r.ours_tok_s));
      const peerTokS = pairMedian(r.peer_tok_s);
      const peerFlops = isSft ? sftSide({ tok_s: peerTokS, step_s_median: o.step_s_median, trainable: Number(ready.trainable) }, mode, sftData!).flops_per_token : Number(ready.flops_per_token);
      const { ratio, ...paired } = r;
      out.push({
        config: name, mode, threads, precision, matmul: mm.kernel, vs_fp32: null,
        ours_tok_s: o.tok_s, peer_tok_s: peerTokS, ratio,
        ours_step_s: o.step_s_median, ours_flops_per_token: o.flops_per_token, ours_gflops: o.gflops,
        ours_params: o.params, ours_trainable: o.trainable,
        peer_step_s: o.step_s_median * o.tok_s / peerTokS, peer_gflops: peerFlops * peerTokS / 1e9, peer_trainable: Number(ready.trainable),
        peer_threads: peerThreads, peer_blas_core: typeof ready.blas_core === 'string' ? ready.blas_core : null,
        paired,
      });
      log(`  ours ${precision} ${o.tok_s.toFixed(0)} tok/s, peer ${peerTokS.toFixed(0)} tok/s (medians of the pairs), ratio ${ratio.toFixed(2)}` +
        (r.ratio_lo !== null ? ` [${r.ratio_lo.toFixed(2)}, ${r.ratio_hi!.toFixed(2)}]` : ''));
    }
    // against the same peer process, the quotient of the two rows' ratios: each set of pairs
    // normalized by the peer in its own minutes (the rows run one after the other)
    const fp32 = out.find((x) => x.precision === 'fp32');
    for (const x of out) if (x.precision !== 'fp32' && fp32) x.vs_fp32 = x.ratio! / fp32.ratio!;
    return out;
  } finally {
    server?.close();
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of configs) {
  for (const mode of modes) {
    if (name === 'sft' && mode === 'infer') continue;   // a fine-tuning step only
    for (const threads of threadsList) {
      const steps = stepsOverride ?? CONFIGS[name].steps;
      if (name === 'sft') sftData ??= sftBatches(steps);
      const oursRounds = new Map<Precision, { sides: Side[]; matmul: string }>();
      const peerRounds: PeerResult[] = [];
      let peerFailure: PeerFailure | null = null;
      const peerThreads = threads === 2 ? '2p' : String(threads);
      if (pairs !== undefined && !noPeer) {
        if (mode === 'infer') {
          if (!pairedInferNoted) log('paired mode: inference rows are measured unpaired (the served peer trains only)');
          pairedInferNoted = true;
        } else {
          try {
            rows.push(...await pairedRows(name, mode, threads, peerThreads));
            continue;
          } catch (e) {
            log(`${name} ${mode} ${threads}T: paired mode failed (${(e as Error).message}); measuring unpaired`);
          }
        }
      }
      // rounds alternate ours and the peer, so a burst of load on the machine touches one round of one side
      for (let round = 0; round < rounds; round++) {
        const tag = rounds > 1 ? ` (round ${round + 1}/${rounds})` : '';
        backend.setThreads(threads);
        for (const precision of precisions) {
          const mm = backend.setMatmulPrecision(precision);
          log(`${name} ${mode} ${threads}T: ours, ${mm.label}${tag} …`);
          const side = name === 'sft' ? sftSide(await runOursSft(backend, mode as 'lora' | 'full', sftData!, sftWarmup(steps), steps), mode, sftData!) : runOurs(backend, name, mode, steps);
          const r = oursRounds.get(precision) ?? { sides: [], matmul: mm.kernel };
          r.sides.push(side);
          oursRounds.set(precision, r);
          backend.setMatmulPrecision('fp32');
        }
        if (!noPeer && peerFailure === null) {
          log(`${name} ${mode} ${threads}T: peer (threads ${peerThreads})${tag} …`);
          let peer: PeerResult | PeerFailure;
          if (name === 'sft') {
            const r = runPeerSft(python, sftPeerScript, mode as 'lora' | 'full', peerThreads, sftData!, sftWarmup(steps), steps, peerEnv);
            const s = r.ok ? sftSide(r.side, mode, sftData!) : null;
            peer = r.ok ? { ok: true, tok_s: s!.tok_s, step_s: s!.step_s_median, gflops: s!.gflops, trainable: s!.trainable, blas_core: r.side.blas_core ?? null } : r;
          } else peer = runPeer(name, mode, peerThreads, stepsOverride);
          if (peer.ok) peerRounds.push(peer);
          else { peerFailure = peer; log(`  peer failed: ${peer.error}`); }
        }
      }
      const p: PeerResult | null = peerRounds.length > 0 ? {
        ok: true, tok_s: mid(peerRounds.map((r) => r.tok_s)), step_s: mid(peerRounds.map((r) => r.step_s)), gflops: mid(peerRounds.map((r) => r.gflops)),
        trainable: peerRounds[0]!.trainable, blas_core: peerRounds[0]!.blas_core,
      } : null;
      const fp32 = oursRounds.has('fp32') ? medianSide(oursRounds.get('fp32')!.sides) : null;
      for (const [precision, { sides, matmul }] of oursRounds) {
        const o = medianSide(sides);
        const row: Row = {
          config: name, mode, threads, precision, matmul, vs_fp32: precision !== 'fp32' && fp32 ? o.tok_s / fp32.tok_s : null,
          ours_tok_s: o.tok_s, peer_tok_s: p ? p.tok_s : null, ratio: p ? o.tok_s / p.tok_s : null,
          ours_step_s: o.step_s_median, ours_flops_per_token: o.flops_per_token, ours_gflops: o.gflops,
          ours_params: o.params, ours_trainable: o.trainable,
          peer_step_s: p ? p.step_s : null, peer_gflops: p ? p.gflops : null, peer_trainable: p && mode !== 'infer' ? p.trainable : null,
          peer_threads: noPeer ? null : peerThreads, peer_blas_core: p ? p.blas_core : null,
          rounds: { ours_tok_s: sides.map((x) => x.tok_s), peer_tok_s: peerRounds.map((r) => r.tok_s) },
        };
        if (peerFailure !== null) row.peer_error = peerFailure.error;
        rows.push(row);
        log(`  ours ${precision} ${o.tok_s.toFixed(0)} tok/s${row.vs_fp32 !== null ? ` (×${row.vs_fp32.toFixed(2)} our fp32)` : ''}` +
          `${p ? `, peer ${p.tok_s.toFixed(0)} tok/s, ratio ${(o.tok_s / p.tok_s).toFixed(2)}` : ''}${rounds > 1 ? ` (medians of ${rounds} rounds)` : ''}`);
      }
    }
  }
}
backend.setThreads(1);

if (json) {
  console.log(JSON.stringify({
    rows, backend: backend.name, warmup, sft_warmup: warmupGiven ?? 'one pass over the timed batches', steps: stepsOverride ?? null, rounds: pairs === undefined ? rounds : null,
    pairs: pairs ?? null, burst: pairs === undefined ? null : burstArg ?? PAIR_BURST,
    peer_script: noPeer ? null : peerScript,
    peer_env: noPeer ? null : Object.fromEntries(Object.entries(peerEnv).map(([k, v]) => [k, v ?? null])),
    openblas: blas === null ? null : { path: blas.path, core: blas.core, core_default: blas.defaultCore, note: blas.note },
    peer_notes: peerNotes,
  }));
} else {
  const fmt = (x: number | null, digits = 0): string => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const anyPaired = rows.some((r) => r.paired !== undefined);
  const head = ['config', 'mode', 'thr', 'prec', 'ours tok/s', 'peer tok/s', 'ratio', ...(anyPaired ? ['95% interval'] : []), '×fp32', 'ours GFLOP/s', 'peer GFLOP/s'];
  const w = [8, 6, 4, 5, 12, 12, 7, ...(anyPaired ? [14] : []), 6, 13, 13];
  const line = (cells: string[]): string => cells.map((s, i) => (i < 2 ? s.padEnd(w[i]) : s.padStart(w[i]))).join(' ');
  console.log(pairs !== undefined
    ? `backend ${backend.name}; paired: ${pairs} pairs of alternating bursts (one untimed step, then ${burstArg ?? 'a config\'s'} timed steps a side, same batches) after ${warmup} warm-up steps (sft: ${warmupGiven ?? 'one pass over its batches'}); ratio = the median of the pairs' ours / peer, with its sign-test interval (PyTorch; our 2 threads vs its 2p)`
    : `backend ${backend.name}; medians over the timed steps after ${warmup} warm-up steps (sft: ${warmupGiven ?? 'one pass over its timed batches'})${rounds > 1 ? `, then the median of ${rounds} rounds` : ''}; ratio = ours / peer (PyTorch; our 2 threads vs its 2p)`);
  for (const n of peerNotes) console.log(`peer: ${n}`);
  console.log(line(head));
  for (const r of rows) {
    console.log(line([r.config, r.mode, String(r.threads), r.precision === 'bf16' && r.matmul === 'fp32' ? 'bf16*' : r.precision,
      fmt(r.ours_tok_s), fmt(r.peer_tok_s), fmt(r.ratio, 2),
      ...(anyPaired ? [r.paired?.ratio_lo != null ? `[${fmt(r.paired.ratio_lo, 2)}, ${fmt(r.paired.ratio_hi, 2)}]` : '-'] : []),
      fmt(r.vs_fp32, 2), fmt(r.ours_gflops, 1), fmt(r.peer_gflops, 1)]));
  }
  const errs = [...new Set(rows.map((r) => r.peer_error).filter((e): e is string => e !== undefined))];
  for (const e of errs) console.log(`peer: ${e}`);
  if (precisions.includes('bf16')) console.log(`bf16: ${backend.setMatmulPrecision('bf16').label}; the peer runs fp32 (bf16* = asked, ran fp32)`);
  backend.setMatmulPrecision('fp32');
}
