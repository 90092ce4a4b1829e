import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { LORA_DEFAULTS } from '../../lora/config.ts';
import { loraParamCounts } from '../../lora/params.ts';
import { loadModel } from '../../model/checkpoint.ts';
import { numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn params --model MODEL [--rank R] [--targets LIST]

Parameter counts: every tensor of the model, and under LoRA the trainable parameters per
targeted layer, r·(in + out), and their share of the layer, r·(in + out)/(in·out).

options:
  --rank R            (default ${LORA_DEFAULTS.rank})
  --targets LIST      module names, "all-linear" or "default" (attention projections)
  --json              machine-readable on stdout
  -h, --help          this help`;

export const command: Command = {
  summary: 'parameter counts and the LoRA trainable share',
  async run(argv) {
    const { values: v } = parseFlags('params', argv, {
      model: { type: 'string' }, rank: { type: 'string' }, targets: { type: 'string' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (!v.model) throw new ConfigError('missing required option --model MODEL', { field: '--model' });
    const model = loadModel(v.model, selectBackend({ kind: 'js' }));
    const rank = numberFlag('rank', v.rank, LORA_DEFAULTS.rank, { int: true, min: 1 });
    const targets = v.targets ? v.targets.split(',') : LORA_DEFAULTS.targets;
    const c = loraParamCounts(model, { rank, targets });
    const tensors = model.namedParameters().map(([name, p]) => ({ name, shape: p.shape, params: p.size }));
    if (v.json) {
      process.stdout.write(JSON.stringify({ total: c.modelTotal, tensors, lora: { rank, targets, trainable: c.loraTotal, share: c.loraTotal / c.modelTotal, layers: c.rows } }) + '\n');
      return 0;
    }
    const out: string[] = [`model: ${c.modelTotal.toLocaleString('en-US')} parameters in ${tensors.length} tensors`, '',
      `LoRA r ${rank} on ${targets.join(', ')}:`, 'layer'.padEnd(40) + 'in'.padStart(7) + 'out'.padStart(7) + 'full'.padStart(10) + 'lora'.padStart(9) + 'share'.padStart(9)];
    for (const r of c.rows) out.push(r.layer.padEnd(40) + String(r.in).padStart(7) + String(r.out).padStart(7) + String(r.full).padStart(10) + String(r.lora).padStart(9) + `${(100 * r.share).toFixed(2)}%`.padStart(9));
    out.push(`trainable: ${c.loraTotal.toLocaleString('en-US')} (${(100 * c.loraTotal / c.modelTotal).toFixed(2)}% of the model)`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};
