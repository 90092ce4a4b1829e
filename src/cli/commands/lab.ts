import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { runLab } from '../../train/lab.ts';
import { LAB_FAST, LAB_FULL } from '../../train/lab-config.ts';
import { log, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn lab [--out DIR] [--fast] [--json]

The whole experiment on the built-in default, no downloads: the English–Spanish verb corpus,
a BPE tokenizer, a small GPT pretrained from scratch, then fine-tuning arms — the recipe's
LoRA defaults, full fine-tuning, an aggressive full fine-tune, LoRA with replay of the corpus's
clean tier (replay.txt), LoRA with the anchor regularizer, the best arm of a small gated search
(lr × steps × replay × λ), and an ablation that replays the noisy pretraining text instead —
each evaluated for what it learned (task probe), forgot (control perplexity drift, bound 5%)
and over-applied (adoption probe). Writes DIR/report.html, DIR/report.md and DIR/summary.json.

options:
  --out DIR       output directory (default lab-out)
  --fast          the CI-sized variant (a smaller corpus and model; about 80 s on 2 cores)
  --preset P      model preset for pretraining (default: nano; micro with --fast)
  --gate          exit 1 when no LoRA arm reaches the target (task ≥ 0.9, drift ≤ 5%)
  --json          print summary.json on stdout
  -h, --help      this help`;

export const command: Command = {
  summary: 'run the whole learning-vs-forgetting experiment and write its report',
  async run(argv) {
    const { values: v } = parseFlags('lab', argv, {
      out: { type: 'string' }, fast: { type: 'boolean' }, preset: { type: 'string' }, gate: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const base = v.fast ? LAB_FAST : LAB_FULL;
    const cfg = v.preset ? { ...base, pretrain: { ...base.pretrain, preset: v.preset } } : base;
    if (v.preset !== undefined && !['nano', 'micro', 'small', 'nano-llama'].includes(v.preset)) {
      throw new ConfigError(`unknown preset "${v.preset}"`, { field: '--preset' });
    }
    const out = v.out ?? 'lab-out';
    const s = await runLab(out, cfg, { backend: selectBackend(), log, fast: v.fast ?? false });
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const w = Math.max(...s.arms.map((a) => a.name.length)) + 2;
    const replay = (a: (typeof s.arms)[number]) => (a.replay > 0 && a.replay_text === 'pretrain.txt' ? `${a.replay}*` : String(a.replay));
    const lines = [
      '',
      `base: task acc ${s.base.task_acc.toFixed(3)}  control PPL ${s.base.control_ppl.toFixed(4)}  control acc ${s.base.control_acc.toFixed(3)}  echo EM ${s.base.echo_em.toFixed(3)}`,
      'arm'.padEnd(w) + 'method'.padEnd(7) + 'lr'.padStart(8) + 'replay'.padStart(8) + 'λ'.padStart(7) + 'task'.padStart(7) + 'genEM'.padStart(7) + 'drift'.padStart(9) + 'adopt'.padStart(7) + '  verdict',
      ...s.arms.map((a) => a.name.padEnd(w) + a.method.padEnd(7) + a.lr.toExponential(0).padStart(8) + replay(a).padStart(8) + String(a.lambda).padStart(7) +
        a.task_acc.toFixed(3).padStart(7) + a.gen_em.toFixed(3).padStart(7) + pct(a.drift).padStart(9) + a.adoption.toFixed(3).padStart(7) + `  ${a.pass ? 'PASS' : 'FAIL'}`),
      ...(s.arms.some((a) => a.replay_text === 'pretrain.txt') ? ['* replays pretrain.txt; other replay arms replay the curated replay.txt'] : []),
      '',
      `target: ${s.target.met ? 'MET' : 'NOT MET'} — ${s.target.note}`,
      `report: ${out}/report.html  (${s.wall_seconds.toFixed(0)} s on ${s.backend}, ${s.threads} threads)`,
    ];
    log(lines.join('\n'));
    if (v.json) process.stdout.write(JSON.stringify(s) + '\n');
    return v.gate && !s.target.met ? 1 : 0;
  },
};
