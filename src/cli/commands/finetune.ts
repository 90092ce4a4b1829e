import { toTyped } from '../../config/schema.ts';
import { finetune, FINETUNE_SCHEMA, type FinetuneConfig } from '../../train/finetune.ts';
import { finetuneSeeds } from '../../train/finetune-seeds.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const r = parseCommand(FINETUNE_SCHEMA, argv);
    if (r === null) return 0;
    const cfg = toTyped<FinetuneConfig>(FINETUNE_SCHEMA, r.values);
    const ctx = contextOf(r.values);
    if (cfg.seeds > 1) {
      const s = finetuneSeeds(cfg, ctx);
      log(`finetune: ${s.seeds.length} seeds → ${cfg.out}/seed-*, summary ${cfg.out}/seeds.json`);
      printJson(r.values, s);
      return 0;
    }
    const r2 = finetune(cfg, ctx);
    log(`finetune: ${r2.steps} steps, final loss ${r2.finalLoss.toFixed(4)}, ${Math.round(r2.tokensPerSec)} tokens/s, ${r2.seconds.toFixed(1)} s → ${r2.runDir}`);
    printJson(r.values, r2);
    return 0;
  },
};
