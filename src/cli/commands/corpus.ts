import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkCorpus } from '../../corpus/check.ts';
import { claimOutputDir } from '../../train/run-dir.ts';
import { CORPUS_SCHEMA } from '../../corpus/corpus-config.ts';
import { writeCorpus, type CorpusOptions } from '../../corpus/corpus.ts';
import { toTyped } from '../../config/schema.ts';
import type { Command } from '../command.ts';
import { log, parseCommand, printJson } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const r = parseCommand(CORPUS_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    if (v.check !== undefined) {
      const res = checkCorpus(v.check as string);
      log(`corpus: ${v.check}: ${res.files} files match the manifest; ${res.sftRows} SFT rows; probes ${JSON.stringify(res.probeItems)}`);
      printJson(v, res);
      return 0;
    }
    const out = v.out as string;
    // a corpus is regenerated whole: an earlier one is written over, anything else is refused
    const release = claimOutputDir(out, { kind: 'a corpus', owns: (d) => existsSync(join(d, 'manifest.json')) }, log);
    let manifest: ReturnType<typeof writeCorpus>;
    try { manifest = writeCorpus(out, toTyped<CorpusOptions>(CORPUS_SCHEMA, v)); } finally { release(); }
    const p = manifest.counts.pretrain;
    const n = (split: string) => Object.entries(manifest.counts.probes[split]).map(([g, c]) => `${g} ${Object.values(c).reduce((a, b) => a + b, 0)}`).join(', ');
    log(`corpus: ${out}: pretrain ${p.lines} lines (~${p.approxTokens} tokens, echo ${p.echoLines}), `
      + (manifest.counts.replay ? `replay ${manifest.counts.replay.lines} lines, ` : '')
      + `sft ${manifest.counts.sft.rows} rows; probes per split (dev, test): ${n('test')}`);
    if (v.json) process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
    return 0;
  },
};
