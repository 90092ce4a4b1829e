import { ConfigError } from '../errors.ts';
import { outputFields } from '../config/common.ts';
import type { Field, Schema } from '../config/schema.ts';
import { REPLAY_DEFAULTS } from './corpus.ts';
import { PROBE_DEFAULTS } from './probe-gen.ts';
import { PRETRAIN_DEFAULTS } from './pretrain.ts';
import { SFT_DEFAULTS } from './sft.ts';

const P = PRETRAIN_DEFAULTS, S = SFT_DEFAULTS, Q = PROBE_DEFAULTS;
const share = (key: string, path: string, def: number, help: string, section: string): Field => ({ key, path, type: 'number', min: 0, max: 1, default: def, help, section });
const count = (key: string, path: string, def: number, help: string, min = 0): Field => ({ key, path, type: 'int', min, max: 1_000_000, default: def, help, section: 'probes' });

/** The verb corpus's settings, typed at the paths of CorpusOptions (the lab reuses them under `corpus.`). */
export const CORPUS_FIELDS: Field[] = [
  { key: 'seed', type: 'int', min: 0, default: 0, section: 'corpus', help: 'one seed for every file (each gets a sub-seed)' },
  { key: 'tokens', path: 'pretrain.tokens', type: 'int', min: 100, max: 100_000_000, default: P.tokens, section: 'pretraining text', help: 'pretraining size in approximate tokens (1 per GPT-2 pre-split word + 1 per special token)' },
  share('irregular_correct', 'pretrain.irregularCorrectRate', P.irregularCorrectRate, 'share of irregular past/participle slots written correctly', 'pretraining text'),
  share('overregular', 'pretrain.overregularRate', P.overregularRate, 'share written over-regularized ("goed")', 'pretraining text'),
  share('echo_share', 'pretrain.echoShare', P.echoShare, 'share of echo lines in the echo region', 'pretraining text'),
  share('echo_from', 'pretrain.echoFrom', P.echoFrom, 'where the echo region starts, a fraction of the lines (0 = uniform)', 'pretraining text'),
  share('grammar_share', 'pretrain.grammarShare', P.grammarShare, 'extra lines of grammar notes for the regular verbs', 'pretraining text'),
  { key: 'replay_tokens', path: 'replay.tokens', type: 'int', min: 0, max: 100_000_000, default: REPLAY_DEFAULTS.tokens, section: 'pretraining text', help: 'size of replay.txt, the clean sample of the pretraining distribution (irregular forms always right); 0 = none' },
  { key: 'sft_rows', path: 'sft.rows', type: 'int', min: 1, max: 10_000_000, default: S.rows, section: 'SFT data', help: 'SFT rows' },
  share('sft_correct_share', 'sft.correctShare', S.correctShare, 'share of the irregular-verb SFT rows left correct → unchanged', 'SFT data'),
  share('sft_regular_share', 'sft.regularShare', S.regularShare, 'share of rows that are correct regular-verb past sentences → unchanged', 'SFT data'),
  count('task_pairs', 'probes.taskPairs', Q.taskPairs, 'task pairs per irregular verb and form, per split', 1),
  count('task_generate', 'probes.taskGenerate', Q.taskGenerate, 'task generate items per irregular verb and form, per split'),
  count('control_text', 'probes.controlText', Q.controlText, 'control text items per regular verb, per split', 1),
  count('control_pairs', 'probes.controlPairs', Q.controlPairs, 'control pairs per regular verb, per split'),
  count('adoption_pairs', 'probes.adoptionPairs', Q.adoptionPairs, 'adoption pairs per regular verb, per split'),
  count('adoption_generate', 'probes.adoptionGenerate', Q.adoptionGenerate, 'adoption generate items per regular verb, per split'),
  count('generalization_pairs', 'probes.generalizationPairs', Q.generalizationPairs, 'generalization pairs per irregular verb and arrangement, per split'),
  count('generalization_generate', 'probes.generalizationGenerate', Q.generalizationGenerate, 'generalization generate items per irregular verb, per split'),
  count('echo', 'probes.echo', Q.echo, 'echo items per split'),
];

export const CORPUS_SCHEMA: Schema = {
  command: 'corpus',
  usage: ['corpus --out DIR [options]', 'corpus --check DIR      validate a corpus directory against its manifest'],
  description: `Writes the verb corpus: DIR/pretrain.txt, DIR/replay.txt (the clean tier, for --replay-text), DIR/sft.jsonl,
DIR/probes/{dev,test}/{task,control,adoption,generalization,echo}.jsonl (two disjoint halves of the
held-out combinations: dev for selection, test for reporting; items carry "role" and "split") and
DIR/manifest.json (seed, options, counts, sha256 of each file). Same options ⇒ same bytes.`,
  fields: [
    { key: 'out', type: 'string', path: null, metavar: 'DIR', section: 'corpus', help: 'output directory' },
    { key: 'check', type: 'string', path: null, metavar: 'DIR', section: 'corpus', help: 'validate DIR against its manifest instead of writing' },
    ...CORPUS_FIELDS,
    ...outputFields().filter((f) => f.key === 'json'),
  ],
  check(v) {
    if ((v.out === undefined) === (v.check === undefined)) throw new ConfigError('give --out DIR (write) or --check DIR (validate)', { field: '--out' });
  },
};
