import { cellText, type Block, type Section } from './document.ts';
import type { PlotMeta } from './html.ts';
import { PLOTS } from './plots.ts';
import { buildSections } from './sections.ts';
import type { LabSummary } from './summary.ts';

/** Table cells may not hold pipes or line breaks. */
const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function block(b: Block, metas: readonly PlotMeta[]): string {
  switch (b.kind) {
    case 'p': return b.text;
    case 'list': return b.items.map((i) => `- ${i.badge ? `**${i.badge}** ` : ''}${i.text}`).join('\n');
    case 'table': {
      const head = `| ${b.head.map(cell).join(' | ')} |`;
      const rule = `|${b.head.map((_, i) => (b.numeric?.[i] ? '---:' : '---')).join('|')}|`;
      const rows = b.rows.map((r) => `| ${r.map((c) => {
        const t = cell(cellText(c));
        return typeof c !== 'string' && (c.tone === 'pass' || c.tone === 'fail') ? `**${t}**` : t;
      }).join(' | ')} |`);
      return [head, rule, ...rows].join('\n');
    }
    case 'plot': {
      const p = metas.find((q) => q.name === b.name);
      return `![${p?.title ?? b.name}](plots/${b.name}.png)\n\n*${p?.caption ?? ''}*`;
    }
  }
}

const section = (s: Section, metas: readonly PlotMeta[]): string => [`## ${s.title}`, ...s.blocks.map((b) => block(b, metas))].join('\n\n');

/** A Markdown report page: the same sections as the HTML, plots linked as plots/*.png. Pure. */
export function markdownPage(title: string, subtitle: string, sections: readonly Section[], metas: readonly PlotMeta[]): string {
  return [`# ${title}\n\n${subtitle}`, ...sections.map((s) => section(s, metas))].join('\n\n') + '\n';
}

/** The lab's report.md. */
export function renderMarkdown(summary: LabSummary): string {
  return markdownPage('forgetmenot lab report', `${summary.created} · backend ${summary.backend} · drift bound ${+(summary.drift_bound * 100).toFixed(2)}%`, buildSections(summary), PLOTS);
}
