import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml, type RenderedPlot } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { plotSpecs } from './plots.ts';
import { scopeIds, specToSvg, svgToPng } from './render.ts';
import { loadSeries } from './series.ts';
import type { LabSummary } from './summary.ts';

export interface ReportFiles { html: string; md: string; json: string; plots: string[] }

/** Renders every plot to SVG (ids scoped per plot, ready to inline). */
export async function renderPlots(labDir: string, summary: LabSummary): Promise<RenderedPlot[]> {
  const series = loadSeries(labDir, summary);
  const out: RenderedPlot[] = [];
  for (const { name, spec } of plotSpecs(summary, series)) out.push({ name, svg: scopeIds(await specToSvg(spec), name) });
  return out;
}

/**
 * Writes the lab's report into labDir: report.html (self-contained), report.md, summary.json
 * (the summary as is) and plots/<name>.svg + .png. Returns the paths written. Async because
 * vega's dataflow is.
 */
export async function writeReport(labDir: string, summary: LabSummary): Promise<ReportFiles> {
  const plots = await renderPlots(labDir, summary);
  const dir = join(labDir, 'plots');
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const p of plots) {
    const svg = join(dir, `${p.name}.svg`), png = join(dir, `${p.name}.png`);
    writeFileSync(svg, p.svg);
    writeFileSync(png, svgToPng(p.svg));
    written.push(svg, png);
  }
  const files = { html: join(labDir, 'report.html'), md: join(labDir, 'report.md'), json: join(labDir, 'summary.json'), plots: written };
  writeFileSync(files.json, JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(files.md, renderMarkdown(summary));
  writeFileSync(files.html, renderHtml(summary, plots));
  return files;
}
