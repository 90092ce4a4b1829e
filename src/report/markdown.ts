import { cellText, type Block, type Section } from './document.ts';
import { PLOTS } from './plots.ts';
import { buildSections } from './sections.ts';
import type { LabSummary } from './summary.ts';

/** Table cells may not hold pipes or line breaks. */
const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function block(b: Block): string {
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
      const p = PLOTS.find((q) => q.name === b.name);
      return `![${p?.title ?? b.name}](plots/${b.name}.png)\n\n*${p?.caption ?? ''}*`;
    }
  }
}

const section = (s: Section): string => [`## ${s.title}`, ...s.blocks.map(block)].join('\n\n');

/** report.md: the same sections as the HTML, plots linked as plots/*.png. Pure. */
export function renderMarkdown(summary: LabSummary): string {
  const intro = `# forgetmenot lab report\n\n${summary.created} · backend ${summary.backend} · drift bound ${+(summary.drift_bound * 100).toFixed(2)}%`;
  return [intro, ...buildSections(summary).map(section)].join('\n\n') + '\n';
}
