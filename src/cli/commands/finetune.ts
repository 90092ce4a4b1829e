import { toTyped } from '../../config/schema.ts';
import { finetune, FINETUNE_SCHEMA, type FinetuneConfig } from '../../train/finetune.ts';
import { finetuneSeeds } from '../../train/finetune-seeds.ts';
import type { Command } from '../command.ts';
import { contextOf, INTERRUPTED, log, parseCommand, printJson, withSignals } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const r = parseCommand(FINETUNE_SCHEMA, argv);
    if (r === null) return 0;
    const cfg = toTyped<FinetuneConfig>(FINETUNE_SCHEMA, r.values);
    const ctx = contextOf(r.values);
    const resume = `fmn finetune ${argv.filter((a) => a !== '--resume' && a !== '--overwrite').join(' ')} --resume`;
    if (cfg.seeds > 1) {
      const s = await withSignals(ctx.stop, 'fine-tuning', () => finetuneSeeds(cfg, ctx));
      if (s.interrupted) { log(`finetune: interrupted; the finished seeds are kept. Continue the interrupted one: fmn finetune --config ${s.runs.at(-1)!.runDir}/config.resolved.json --resume`); return INTERRUPTED; }
      log(`finetune: ${s.seeds.length} seeds → ${cfg.out}/seed-*, summary ${cfg.out}/seeds.json`);
      printJson(r.values, s);
      return 0;
    }
    const r2 = await withSignals(ctx.stop, 'fine-tuning', () => finetune(cfg, ctx));
    if (r2.interrupted) { log(`finetune: interrupted at step ${r2.steps}, state saved. Continue with:\n  ${resume}`); return INTERRUPTED; }
    log(`finetune: ${r2.steps} steps, final loss ${r2.finalLoss.toFixed(4)}, ${Math.round(r2.tokensPerSec)} tokens/s, ${r2.seconds.toFixed(1)} s → ${r2.runDir}`);
    printJson(r.values, r2);
    return 0;
  },
};
