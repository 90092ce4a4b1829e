import { outputFields } from '../../config/common.ts';
import { errorAt, type Schema } from '../../config/schema.ts';
import { LORA_DEFAULTS } from '../../lora/config.ts';
import { loraParamCounts } from '../../lora/params.ts';
import { readModelConfig } from '../../model/checkpoint.ts';
import { validateConfig } from '../../model/config.ts';
import { readLlama2cConfig } from '../../model/llama2c.ts';
import { isFile } from '../../util/fs.ts';
import { PRESETS, preset } from '../../model/presets.ts';
import type { Command } from '../command.ts';
import { parseCommand, printJson } from '../run.ts';

export const PARAMS_SCHEMA: Schema = {
  command: 'params',
  usage: ['params --model MODEL [--rank R] [--targets LIST]', 'params --preset gpt2 [--vocab 50257] [--rank R] [--targets LIST]'],
  description: `Parameter counts, read off the config (nothing is built): the model's total, and under LoRA the
trainable parameters per targeted layer, r·(in + out), and their share of the layer,
r·(in + out)/(in·out) — 2.08% for a 768 × 768 projection at r 8.`,
  fields: [
    { key: 'model', type: 'string', metavar: 'MODEL', help: 'a model directory (its config.json) or a llama2.c .bin (its header)' },
    { key: 'preset', type: 'enum', choices: Object.keys(PRESETS), help: 'or a preset\'s shape' },
    { key: 'vocab', type: 'int', min: 1, max: 1 << 22, default: 50257, help: 'the vocabulary of --preset' },
    { key: 'rank', type: 'int', min: 1, default: LORA_DEFAULTS.rank, help: 'LoRA rank r' },
    { key: 'targets', type: 'list', default: LORA_DEFAULTS.targets, metavar: 'LIST', help: 'module names, all-linear, or default (attention projections)' },
    ...outputFields().filter((f) => f.key === 'json'),
  ],
  check(v, at) {
    if ((v.model === undefined) === (v.preset === undefined)) throw errorAt(at('model'), 'give --model MODEL or --preset NAME, one of them');
  },
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(PARAMS_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const model = v.model as string | undefined;
    const config = model === undefined ? preset(v.preset as string, v.vocab as number)
      : isFile(model) ? readLlama2cConfig(model) : validateConfig(readModelConfig(model));
    const rank = v.rank as number, targets = v.targets as string[];
    const c = loraParamCounts(config, { rank, targets });
    if (v.json) {
      printJson(v, { total: c.modelTotal, lora: { rank, targets, trainable: c.loraTotal, share: c.loraTotal / c.modelTotal, layers: c.rows } });
      return 0;
    }
    const out: string[] = [`model: ${c.modelTotal.toLocaleString('en-US')} parameters (${config.modelType}, ${config.nLayer} layers, width ${config.nEmbd}, vocabulary ${config.vocabSize})`, '',
      `LoRA r ${rank} on ${targets.join(', ')}:`, 'layer'.padEnd(40) + 'in'.padStart(7) + 'out'.padStart(7) + 'full'.padStart(10) + 'lora'.padStart(9) + 'share'.padStart(9)];
    for (const row of c.rows) out.push(row.layer.padEnd(40) + String(row.in).padStart(7) + String(row.out).padStart(7) + String(row.full).padStart(10) + String(row.lora).padStart(9) + `${(100 * row.share).toFixed(2)}%`.padStart(9));
    out.push(`trainable: ${c.loraTotal.toLocaleString('en-US')} (${(100 * c.loraTotal / c.modelTotal).toFixed(2)}% of the model)`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};
