import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { PRESETS } from '../../model/presets.ts';
import { pretrain, PRETRAIN_RECIPE_DEFAULTS as D } from '../../train/pretrain.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn pretrain --text FILE... --out MODEL [options]

Trains a GPT from scratch on plain text (each non-empty line is a document) and writes a
Hugging Face model directory: config.json, model.safetensors, tokenizer.json, plus
metrics.jsonl and config.resolved.json.

options:
  --text FILE,...     training text (comma-separated or repeated)
  --tokenizer DIR     use this tokenizer.json (or a directory holding one)
  --vocab N           otherwise train a byte-level BPE of this size (default ${D.vocab})
  --preset P          model size: ${Object.keys(PRESETS).join(', ')} (default ${D.preset})
  --steps N           (default ${D.steps})
  --batch N           sequences per step (default ${D.batch})
  --seq-len T         tokens per sequence (default: the preset's context)
  --lr X              peak learning rate (default ${D.lr})
  --warmup N          (default ${D.warmup})
  --seed N            (default ${D.seed})
  --eval-every N      held-out loss and checkpoint every N steps (default ${D.evalEvery})
  --tail F            anneal on the text's tail: the last F of the steps draw windows only
                      from the last F of the text (default 0 = off; the lab uses 0.5)
  --resume            continue from the training state saved in --out
  --json              print the result as JSON on stdout
  -h, --help          this help`;

export const command: Command = {
  summary: 'train a model from scratch on plain text',
  async run(argv) {
    const { values: v } = parseFlags('pretrain', argv, {
      text: { type: 'string', multiple: true }, tokenizer: { type: 'string' }, vocab: { type: 'string' },
      out: { type: 'string' }, preset: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
      'seq-len': { type: 'string' }, lr: { type: 'string' }, warmup: { type: 'string' }, seed: { type: 'string' },
      'eval-every': { type: 'string' }, tail: { type: 'string' }, resume: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const text = (v.text ?? []).flatMap((t) => t.split(',')).filter((t) => t !== '');
    const tail = numberFlag('tail', v.tail, 0, { min: 0, max: 0.99 });
    if (text.length === 0) throw new ConfigError('missing required option --text FILE', { field: '--text' });
    if (!v.out) throw new ConfigError('missing required option --out MODEL', { field: '--out' });
    const preset = v.preset ?? D.preset;
    if (!(preset in PRESETS)) throw new ConfigError(`unknown preset "${preset}" (one of ${Object.keys(PRESETS).join(', ')})`, { field: '--preset' });
    const r = pretrain({
      ...D, text, out: v.out, tokenizer: v.tokenizer, preset,
      vocab: numberFlag('vocab', v.vocab, D.vocab, { int: true, min: 259 }),
      steps: numberFlag('steps', v.steps, D.steps, { int: true, min: 1 }),
      batch: numberFlag('batch', v.batch, D.batch, { int: true, min: 1 }),
      seqLen: v['seq-len'] === undefined ? undefined : numberFlag('seq-len', v['seq-len'], 0, { int: true, min: 1 }),
      lr: numberFlag('lr', v.lr, D.lr, { min: 1e-12 }),
      warmup: numberFlag('warmup', v.warmup, D.warmup, { int: true, min: 0 }),
      seed: numberFlag('seed', v.seed, D.seed, { int: true }),
      evalEvery: numberFlag('eval-every', v['eval-every'], D.evalEvery, { int: true, min: 1 }),
      tailSteps: tail,
      tailText: tail,
      resume: v.resume ?? false,
    }, { backend: selectBackend(), log });
    log(`pretrain: ${r.params.toLocaleString('en-US')} parameters, final loss ${r.finalLoss.toFixed(4)}, held-out loss ${r.heldOutLoss.toFixed(4)}, ` +
      `${Math.round(r.tokensPerSec)} tokens/s, ${r.seconds.toFixed(1)} s → ${r.modelDir}`);
    if (v.json) process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  },
};
