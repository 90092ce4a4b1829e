/**
 * What fine-tuning your own model costs on this machine (docs/own-model.md quotes it): peak
 * memory and speed of `fmn eval`, `fmn finetune` (LoRA) and `fmn finetune --method full` on a
 * Llama of ~125M parameters (random weights, stored BF16 as HF checkpoints usually are, with the
 * Llama-2-style fixture tokenizer), each command run as a user runs it, in its own process under
 * /usr/bin/time.
 *
 *   npx tsx scripts/own-model-cost.ts [--vocab 32000] [--hidden 768] [--layers 12] [--heads 12]
 *                                     [--kv-heads 4] [--intermediate 2048] [--steps 12] [--batch 8]
 *                                     [--threads N] [--keep DIR]
 *
 * Prints JSON: the model's parameter count and, per command, peak RSS (bytes and bytes per
 * parameter), wall seconds and, for fine-tuning, tokens/s of the training steps (the command's
 * own figure) — what the guide extrapolates by parameter count.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '../src/backend/js/index.ts';
import { generateSft } from '../src/corpus/sft.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import type { GPTConfig } from '../src/model/config.ts';
import { GPT } from '../src/model/gpt.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

/** Runs `fmn ARGS` under /usr/bin/time; its peak RSS, wall time and --json output. */
function timed(args: string[]): { maxRssBytes: number; wallSeconds: number; out: Record<string, unknown> } {
  const threads = process.argv.includes('--threads') ? ['--threads', String(arg('threads', 2))] : [];
  const r = spawnSync('/usr/bin/time', ['-f', 'FMN_TIME %M %e', process.execPath, join(ROOT, 'bin', 'fmn.js'), ...args, ...threads, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /FMN_TIME (\d+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`fmn ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const lines = r.stdout.trim().split('\n');
  return { maxRssBytes: Number(m[1]) * 1024, wallSeconds: Number(m[2]), out: JSON.parse(lines[lines.length - 1]!) };
}

function main(): void {
  const config: GPTConfig = {
    modelType: 'llama', vocabSize: arg('vocab', 32000), nCtx: 2048, nEmbd: arg('hidden', 768), nLayer: arg('layers', 12),
    nHead: arg('heads', 12), nKvHead: arg('kv-heads', 4), intermediateSize: arg('intermediate', 2048),
    normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
  };
  const keep = process.argv.indexOf('--keep');
  const root = keep >= 0 ? process.argv[keep + 1]! : mkdtempSync(join(tmpdir(), 'fmn-cost-'));
  const modelDir = join(root, 'model');
  let model: GPT | null = new GPT(createJsBackend(), config);
  model.initWeights(new Rng(1));
  const params = model.numParams();
  saveModel(model, modelDir, { dtype: 'bf16' });
  model = null;
  const fix = join(ROOT, 'test', 'fixtures', 'tokenizers', 'llama2');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fix, f), join(modelDir, f));

  mkdirSync(join(root, 'data'), { recursive: true });
  const rows = generateSft({ seed: 1, rows: 256 });
  const sft = join(root, 'data', 'sft.jsonl'), probes = join(root, 'data', 'control.jsonl');
  writeFileSync(sft, rows.map((r) => JSON.stringify({ prompt: r.prompt, completion: r.completion })).join('\n') + '\n');
  writeFileSync(probes, rows.slice(0, 64).map((r) => JSON.stringify({ kind: 'text', text: r.completion })).join('\n') + '\n');

  const steps = String(arg('steps', 12)), batch = String(arg('batch', 8));
  const per = (x: { maxRssBytes: number }) => Number((x.maxRssBytes / params).toFixed(2));
  const ev = timed(['eval', '--model', modelDir, '--control', probes]);
  const lora = timed(['finetune', '--base', modelDir, '--data', sft, '--out', join(root, 'lora'), '--steps', steps, '--batch', batch, '--quiet']);
  const full = timed(['finetune', '--base', modelDir, '--method', 'full', '--data', sft, '--out', join(root, 'full'), '--steps', steps, '--batch', batch, '--lr', '1e-5', '--quiet']);
  const ft = (x: ReturnType<typeof timed>) => ({
    maxRssBytes: x.maxRssBytes, rssBytesPerParam: per(x), wallSeconds: x.wallSeconds,
    trainSeconds: Number((x.out.seconds as number).toFixed(2)), tokensPerSec: Math.round(x.out.tokensPerSec as number),
    trainable: x.out.trainable,
  });
  if (keep < 0) rmSync(root, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({
    config: { vocab: config.vocabSize, hidden: config.nEmbd, layers: config.nLayer, heads: config.nHead, kvHeads: config.nKvHead, intermediate: config.intermediateSize },
    params, storedAs: 'BF16', steps: Number(steps), batch: Number(batch), sftRowTokensApprox: 40,
    eval: { items: 64, maxRssBytes: ev.maxRssBytes, rssBytesPerParam: per(ev), wallSeconds: ev.wallSeconds },
    lora: ft(lora), full: ft(full),
  }, null, 2) + '\n');
}

main();
