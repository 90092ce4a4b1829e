import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** vega-lite → vega, with vega-lite's warnings collected instead of printed. */
export function compileSpec(spec: TopLevelSpec): { vega: ReturnType<typeof compile>['spec']; warnings: string[] } {
  const warnings: string[] = [];
  let level = 0;
  const logger = {
    level(l?: number) { if (l === undefined) return level; level = l; return logger; },
    error(...args: readonly unknown[]) { throw new Error(args.map(String).join(' ')); },
    warn(...args: readonly unknown[]) { warnings.push(args.map(String).join(' ')); return logger; },
    info() { return logger; },
    debug() { return logger; },
  };
  return { vega: compile(spec, { logger: logger as never }).spec, warnings };
}

/**
 * vega-lite spec → SVG text, headless: vega's scenegraph with no renderer attached and its
 * SVG string writer; text widths are estimated (no canvas), which is fine for labels.
 */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compileSpec(spec).vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Makes an SVG's ids unique to `prefix`, so several SVGs can sit inline in one HTML page: vega
 * numbers clip paths and gradients from 1 in every SVG it writes (clip1, gradient_0…).
 */
export function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

/** SVG → PNG at `scale` × the SVG's size, with the system's fonts (sans-serif). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
