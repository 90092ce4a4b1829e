import { ConfigError } from '../../errors.ts';
import { checkCorpus } from '../../data/check.ts';
import { REPLAY_DEFAULTS, writeCorpus, type CorpusOptions } from '../../data/corpus.ts';
import { PRETRAIN_DEFAULTS } from '../../data/pretrain.ts';
import { SFT_DEFAULTS } from '../../data/sft.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn corpus --out DIR [options]
       fmn corpus --check DIR      validate a corpus directory against its manifest

Writes the verb corpus: DIR/pretrain.txt, DIR/replay.txt (the clean tier, for --replay-text), DIR/sft.jsonl, DIR/probes/{task,control,adoption,echo}.jsonl
and DIR/manifest.json (seed, options, counts, sha256 of each file). Same options ⇒ same bytes.

options:
  --out DIR                 output directory (required)
  --seed N                  seed (default 0)
  --tokens N                pretraining size in approximate tokens (default ${PRETRAIN_DEFAULTS.tokens});
                            1 per GPT-2 pre-split word + 1 per special token
  --irregular-correct R     share of irregular past/participle slots written correctly (default ${PRETRAIN_DEFAULTS.irregularCorrectRate})
  --overregular R           share written over-regularized, "goed" (default ${PRETRAIN_DEFAULTS.overregularRate})
  --echo-share R            share of echo lines in the echo region (default ${PRETRAIN_DEFAULTS.echoShare})
  --echo-from R             where the echo region starts, fraction of lines; 0 = uniform (default ${PRETRAIN_DEFAULTS.echoFrom})
  --grammar-share R         extra lines of grammar notes for the regular verbs (default ${PRETRAIN_DEFAULTS.grammarShare})
  --replay-tokens N         size of replay.txt, the clean sample of the pretraining distribution
                            (irregular forms always correct); 0 = none (default ${REPLAY_DEFAULTS.tokens})
  --sft-rows N              SFT rows (default ${SFT_DEFAULTS.rows})
  --sft-correct-share R     share of the irregular-verb SFT rows left correct → unchanged (default ${SFT_DEFAULTS.correctShare})
  --sft-regular-share R     share of SFT rows that are correct regular-verb past sentences → unchanged,
                            so the model learns when not to correct (default ${SFT_DEFAULTS.regularShare})
  --json                    print the manifest as JSON on stdout
  -h, --help                this help`;

export const command: Command = {
  summary: 'generate the verb corpus, SFT data and probes',
  async run(argv) {
    const { values } = parseFlags('corpus', argv, {
      out: { type: 'string' },
      seed: { type: 'string' },
      tokens: { type: 'string' },
      'irregular-correct': { type: 'string' },
      overregular: { type: 'string' },
      'echo-share': { type: 'string' },
      'echo-from': { type: 'string' },
      'grammar-share': { type: 'string' },
      'replay-tokens': { type: 'string' },
      'sft-rows': { type: 'string' },
      'sft-correct-share': { type: 'string' },
      'sft-regular-share': { type: 'string' },
      check: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (values.check !== undefined) {
      const res = checkCorpus(values.check);
      log(`corpus: ${values.check}: ${res.files} files match the manifest; ${res.sftRows} SFT rows; probes ${JSON.stringify(res.probeItems)}`);
      if (values.json) process.stdout.write(JSON.stringify(res) + '\n');
      return 0;
    }
    if (!values.out) throw new ConfigError('missing required option --out DIR', { field: '--out' });
    const rate = (name: string, v: string | undefined, def: number) => numberFlag(name, v, def, { min: 0, max: 1 });
    const opts: CorpusOptions = {
      seed: numberFlag('seed', values.seed, 0, { int: true, min: 0 }),
      pretrain: {
        tokens: numberFlag('tokens', values.tokens, PRETRAIN_DEFAULTS.tokens, { int: true, min: 100 }),
        irregularCorrectRate: rate('irregular-correct', values['irregular-correct'], PRETRAIN_DEFAULTS.irregularCorrectRate),
        overregularRate: rate('overregular', values.overregular, PRETRAIN_DEFAULTS.overregularRate),
        echoShare: rate('echo-share', values['echo-share'], PRETRAIN_DEFAULTS.echoShare),
        echoFrom: rate('echo-from', values['echo-from'], PRETRAIN_DEFAULTS.echoFrom),
        grammarShare: rate('grammar-share', values['grammar-share'], PRETRAIN_DEFAULTS.grammarShare),
      },
      replay: { tokens: numberFlag('replay-tokens', values['replay-tokens'], REPLAY_DEFAULTS.tokens, { int: true, min: 0 }) },
      sft: {
        rows: numberFlag('sft-rows', values['sft-rows'], SFT_DEFAULTS.rows, { int: true, min: 1 }),
        correctShare: rate('sft-correct-share', values['sft-correct-share'], SFT_DEFAULTS.correctShare),
        regularShare: rate('sft-regular-share', values['sft-regular-share'], SFT_DEFAULTS.regularShare),
      },
    };
    const manifest = writeCorpus(values.out, opts);
    const p = manifest.counts.pretrain;
    log(`corpus: ${values.out}: pretrain ${p.lines} lines (~${p.approxTokens} tokens, echo ${p.echoLines}), `
      + (manifest.counts.replay ? `replay ${manifest.counts.replay.lines} lines, ` : '')
      + `sft ${manifest.counts.sft.rows} rows, probes ${Object.entries(manifest.counts.probes).map(([k, c]) => `${k} ${Object.values(c).reduce((a, b) => a + b, 0)}`).join(', ')}`);
    if (values.json) process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
    return 0;
  },
};
