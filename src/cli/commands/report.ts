import { outputFields } from '../../config/common.ts';
import type { Schema } from '../../config/schema.ts';
import { readSummary } from '../../report/load.ts';
import { writeReport } from '../../report/write.ts';
import type { Command } from '../command.ts';
import { log, parseCommand, printJson } from '../run.ts';

export const REPORT_SCHEMA: Schema = {
  command: 'report',
  usage: ['report DIR…'],
  description: `Rebuilds the report of each lab output directory from DIR/summary.json and the runs' metrics.jsonl:
DIR/report.html (one self-contained file), DIR/report.md and DIR/plots/*.svg + *.png.`,
  positionals: { name: 'DIR…', help: 'lab output directories', min: 1 },
  fields: outputFields().filter((f) => f.key === 'json'),
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(REPORT_SCHEMA, argv);
    if (r === null) return 0;
    const summaries = r.positionals.map((dir) => ({ dir, summary: readSummary(dir) }));  // check every input first
    const reports = [];
    for (const { dir, summary } of summaries) {
      const files = await writeReport(dir, summary);
      log(`report: ${files.html}, ${files.md}, ${files.plots.length} plot files`);
      reports.push({ dir, ...files });
    }
    printJson(r.values, { reports });
    return 0;
  },
};
