import { cellText, type Block, type Cell, type Section } from './document.ts';
import { PLOTS } from './plots.ts';
import { buildSections } from './sections.ts';
import { CSS } from './style.ts';
import type { LabSummary } from './summary.ts';

/** A rendered plot: its file stem in plots/ and its SVG text (ids already scoped). */
export interface RenderedPlot { name: string; svg: string }

const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function td(c: Cell, numeric: boolean, tag: 'td' | 'th' = 'td'): string {
  const cls = [numeric ? 'num' : '', typeof c === 'string' ? '' : c.tone ?? ''].filter(Boolean).join(' ');
  return `<${tag}${cls ? ` class="${cls}"` : ''}>${esc(cellText(c))}</${tag}>`;
}

/** A plot's caption and layout, as PLOTS lists them for the lab (and sweep-report.ts for a sweep). */
export interface PlotMeta { name: string; title: string; caption: string; wide?: boolean }

function figure(name: string, plots: readonly RenderedPlot[], metas: readonly PlotMeta[]): string {
  const meta = metas.find((p) => p.name === name);
  const svg = plots.find((p) => p.name === name)?.svg;
  const body = svg ?? `<p class="muted">plot ${esc(name)} not rendered</p>`;
  return `<figure id="plot-${esc(name)}"${meta?.wide ? ' class="wide"' : ''}>${body}`
    + `<figcaption>${esc(meta?.caption ?? '')}</figcaption></figure>`;
}

function block(b: Exclude<Block, { kind: 'plot' }>): string {
  switch (b.kind) {
    case 'p': return `<p${b.tone ? ` class="${b.tone}"` : ''}>${esc(b.text)}</p>`;
    case 'list': return `<ul>${b.items.map((i) => `<li>${i.badge ? `<span class="badge ${i.badge.toLowerCase()}">${i.badge}</span>` : ''}${esc(i.text)}</li>`).join('')}</ul>`;
    case 'table': {
      const num = (i: number) => b.numeric?.[i] ?? false;
      return `<div class="table-wrap"><table><thead><tr>${b.head.map((h, i) => td(h, num(i), 'th')).join('')}</tr></thead>`
        + `<tbody>${b.rows.map((r) => `<tr>${r.map((c, i) => td(c, num(i))).join('')}</tr>`).join('\n')}</tbody></table></div>`;
    }
  }
}

function section(s: Section, plots: readonly RenderedPlot[], metas: readonly PlotMeta[]): string {
  const out: string[] = [];
  let grid: string[] = [];
  const flush = () => { if (grid.length) out.push(`<div class="plots">${grid.join('\n')}</div>`); grid = []; };
  for (const b of s.blocks) {
    if (b.kind === 'plot') { grid.push(figure(b.name, plots, metas)); continue; }
    flush();
    out.push(block(b));
  }
  flush();
  return `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>\n${out.join('\n')}</section>`;
}

/**
 * An HTML report page: one self-contained file (inline CSS and SVG; no scripts, fonts or links
 * to fetch), so it opens offline and can be mailed as one file. Pure.
 */
export function htmlPage(title: string, subtitle: string, sections: readonly Section[], plots: readonly RenderedPlot[], metas: readonly PlotMeta[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
<header><h1>${esc(title)}</h1><p>${esc(subtitle)}</p></header>
<nav>${sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join('')}</nav>
${sections.map((s) => section(s, plots, metas)).join('\n')}
</main></body></html>
`;
}

/** The lab's report.html. */
export function renderHtml(summary: LabSummary, plots: readonly RenderedPlot[]): string {
  return htmlPage('forgetmenot lab report', `${summary.created} · backend ${summary.backend} · drift bound ${+(summary.drift_bound * 100).toFixed(2)}%`, buildSections(summary), plots, PLOTS);
}
