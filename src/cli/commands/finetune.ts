import { toTyped } from '../../config/schema.ts';
import { finetune, FINETUNE_SCHEMA, type FinetuneConfig } from '../../train/finetune.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const r = parseCommand(FINETUNE_SCHEMA, argv);
    if (r === null) return 0;
    const r2 = finetune(toTyped<FinetuneConfig>(FINETUNE_SCHEMA, r.values), contextOf(r.values));
    log(`finetune: ${r2.steps} steps, final loss ${r2.finalLoss.toFixed(4)}, ${Math.round(r2.tokensPerSec)} tokens/s, ${r2.seconds.toFixed(1)} s → ${r2.runDir}`);
    printJson(r.values, r2);
    return 0;
  },
};
