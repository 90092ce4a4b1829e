/**
 * The report in a real browser: headless Chromium opens report.html from a file:// URL with the
 * network off, dumps the DOM and takes a screenshot. Skips when /usr/bin/chromium is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureSummary, writeFixtureMetrics } from './fixture.testutil.ts';
import { PLOTS } from './plots.ts';
import { colorfulPixels, decodePng } from './png.testutil.ts';
import { writeReport } from './write.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser test skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

function chromium(url: string, ...mode: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'fmn-chromium-'));
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=1280,8000', ...mode, url,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.error?.message ?? ''}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-report-browser-'));
  let url: string;
  beforeAll(async () => {
    const s = fixtureSummary();
    writeFixtureMetrics(dir, s);
    url = pathToFileURL((await writeReport(dir, s)).html).href;
  });

  it('every plot svg in the rendered DOM has drawn marks', () => {
    const dom = chromium(url, '--dump-dom');
    expect(dom).toContain('forgetmenot lab report');
    expect(dom).toContain('<section id="geometry"><h2>Where the update lives and what it cost</h2>');
    expect(dom).toMatch(/<figure id="plot-update-curve"[^>]*><svg/);
    const svgs = [...dom.matchAll(/<figure id="plot-([^"]+)"[^>]*>(<svg[\s\S]*?<\/svg>)/g)];
    expect(svgs.map((m) => m[1]).sort()).toEqual(PLOTS.map((p) => p.name).sort());
    for (const [, name, svg] of svgs) {
      const marks = svg!.match(/role="graphics-symbol" aria-roledescription="(point|bar|line mark|rule mark|text mark)"/g) ?? [];
      expect(marks.length, `${name}: data marks`).toBeGreaterThan(2);
    }
  });

  it('the screenshot is a real PNG with colored plot marks', () => {
    const shot = join(dir, 'screenshot.png');
    chromium(url, `--screenshot=${shot}`);
    expect(existsSync(shot)).toBe(true);
    const img = decodePng(readFileSync(shot));
    expect([img.width, img.height]).toEqual([1280, 8000]);
    // the plots start below the verdict and arm tables: the lines, points and bars are colored
    expect(colorfulPixels(img, [700, 8000])).toBeGreaterThan(20_000);
  });
});
