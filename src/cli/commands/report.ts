import { outputFields } from '../../config/common.ts';
import type { Schema } from '../../config/schema.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSummary } from '../../report/load.ts';
import { reportSweep } from '../../sweep/report.ts';
import { writeReport } from '../../report/write.ts';
import type { Command } from '../command.ts';
import { log, parseCommand, printJson } from '../run.ts';

export const REPORT_SCHEMA: Schema = {
  command: 'report',
  usage: ['report DIR…'],
  description: `Rebuilds the report of each lab output directory from DIR/summary.json and the runs' metrics.jsonl,
or of each sweep directory (fmn sweep --out DIR) from its finished cells — the learning–forgetting
frontier: DIR/report.html (one self-contained file), DIR/report.md and DIR/plots/*.svg + *.png.`,
  positionals: { name: 'DIR…', help: 'lab output or sweep directories', min: 1 },
  fields: outputFields().filter((f) => f.key === 'json'),
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(REPORT_SCHEMA, argv);
    if (r === null) return 0;
    const isSweep = (dir: string) => existsSync(join(dir, 'sweep.json')) && !existsSync(join(dir, 'summary.json'));
    const summaries = r.positionals.filter((d) => !isSweep(d)).map((dir) => ({ dir, summary: readSummary(dir) }));  // check every input first
    const reports = [];
    for (const dir of r.positionals.filter(isSweep)) {
      const files = await reportSweep(dir);
      log(`report: ${files.html}, ${files.md}, ${files.plots.length} plot files (${files.cells} cells)`);
      reports.push({ dir, ...files });
    }
    for (const { dir, summary } of summaries) {
      const files = await writeReport(dir, summary);
      log(`report: ${files.html}, ${files.md}, ${files.plots.length} plot files`);
      reports.push({ dir, ...files });
    }
    printJson(r.values, { reports });
    return 0;
  },
};
