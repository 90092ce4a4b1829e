import { toTyped } from '../../config/schema.ts';
import { pretrain, PRETRAIN_SCHEMA, type PretrainConfig } from '../../train/pretrain.ts';
import type { Command } from '../command.ts';
import { contextOf, INTERRUPTED, log, parseCommand, printJson, withSignals } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const r = parseCommand(PRETRAIN_SCHEMA, argv);
    if (r === null) return 0;
    const ctx = contextOf(r.values);
    const res = await withSignals(ctx.stop, 'pretraining', () => pretrain(toTyped<PretrainConfig>(PRETRAIN_SCHEMA, r.values), ctx));
    if (res.interrupted) {
      log(`pretrain: interrupted, state saved. Continue with:\n  fmn pretrain ${argv.filter((a) => a !== '--resume' && a !== '--overwrite').join(' ')} --resume`);
      return INTERRUPTED;
    }
    log(`pretrain: ${res.params.toLocaleString('en-US')} parameters, final loss ${res.finalLoss.toFixed(4)}, held-out loss ${res.heldOutLoss.toFixed(4)}, ` +
      `${Math.round(res.tokensPerSec)} tokens/s, ${res.seconds.toFixed(1)} s → ${res.modelDir}`);
    printJson(r.values, res);
    return 0;
  },
};
