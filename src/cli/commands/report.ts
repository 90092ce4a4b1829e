import { readSummary } from '../../report/load.ts';
import { writeReport } from '../../report/write.ts';
import { ConfigError } from '../../errors.ts';
import { log, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn report DIR...

Rebuilds the report of each lab output directory from DIR/summary.json and the runs' metrics.jsonl:
DIR/report.html (one self-contained file), DIR/report.md and DIR/plots/*.svg + *.png.

options:
  --json                    print the files written, as JSON on stdout
  -h, --help                this help`;

export const command: Command = {
  summary: 'rebuild lab reports from saved runs',
  async run(argv) {
    const { values, positionals } = parseFlags('report', argv, { json: { type: 'boolean' } }, true);
    if (values.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (positionals.length === 0) throw new ConfigError('give at least one lab output directory (fmn report DIR...)');
    const summaries = positionals.map((dir) => ({ dir, summary: readSummary(dir) }));  // check every input first
    const reports = [];
    for (const { dir, summary } of summaries) {
      const files = await writeReport(dir, summary);
      log(`report: ${files.html} (${summary.arms.filter((a) => a.pass).length}/${summary.arms.length} arms pass), ${files.md}, ${files.plots.length} plot files`);
      reports.push({ dir, ...files });
    }
    if (values.json) process.stdout.write(JSON.stringify({ reports }, null, 2) + '\n');
    return 0;
  },
};
