import { createJsBackend } from '../../backend/js/index.ts';
import { outputFields } from '../../config/common.ts';
import type { Schema } from '../../config/schema.ts';
import { LORA_DEFAULTS } from '../../lora/config.ts';
import { loraParamCounts } from '../../lora/params.ts';
import { loadModel } from '../../model/checkpoint.ts';
import type { Command } from '../command.ts';
import { parseCommand, printJson } from '../run.ts';

export const PARAMS_SCHEMA: Schema = {
  command: 'params',
  usage: ['params --model MODEL [--rank R] [--targets LIST]'],
  description: `Parameter counts: every tensor of the model, and under LoRA the trainable parameters per
targeted layer, r·(in + out), and their share of the layer, r·(in + out)/(in·out).`,
  fields: [
    { key: 'model', type: 'string', required: true, metavar: 'MODEL', help: 'model directory' },
    { key: 'rank', type: 'int', min: 1, default: LORA_DEFAULTS.rank, help: 'LoRA rank r' },
    { key: 'targets', type: 'list', default: LORA_DEFAULTS.targets, metavar: 'LIST', help: 'module names, all-linear, or default (attention projections)' },
    ...outputFields().filter((f) => f.key === 'json'),
  ],
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(PARAMS_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const model = loadModel(v.model as string, createJsBackend());
    const rank = v.rank as number, targets = v.targets as string[];
    const c = loraParamCounts(model, { rank, targets });
    const tensors = model.namedParameters().map(([name, p]) => ({ name, shape: p.shape, params: p.size }));
    if (v.json) {
      printJson(v, { total: c.modelTotal, tensors, lora: { rank, targets, trainable: c.loraTotal, share: c.loraTotal / c.modelTotal, layers: c.rows } });
      return 0;
    }
    const out: string[] = [`model: ${c.modelTotal.toLocaleString('en-US')} parameters in ${tensors.length} tensors`, '',
      `LoRA r ${rank} on ${targets.join(', ')}:`, 'layer'.padEnd(40) + 'in'.padStart(7) + 'out'.padStart(7) + 'full'.padStart(10) + 'lora'.padStart(9) + 'share'.padStart(9)];
    for (const row of c.rows) out.push(row.layer.padEnd(40) + String(row.in).padStart(7) + String(row.out).padStart(7) + String(row.full).padStart(10) + String(row.lora).padStart(9) + `${(100 * row.share).toFixed(2)}%`.padStart(9));
    out.push(`trainable: ${c.loraTotal.toLocaleString('en-US')} (${(100 * c.loraTotal / c.modelTotal).toFixed(2)}% of the model)`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};
