/** The report's own CSS: inline, no web fonts, readable on a laptop screen and in print. */
export const CSS = `
:root { --fg: #1d1d1f; --muted: #6b6b6b; --line: #e2e2e2; --pass: #1b7f3b; --fail: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fafafa; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 12px 0 8px; font-size: 14px; }
nav a { margin-right: 14px; color: #2456a4; text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 20px 16px; margin: 16px 0; }
h2 { font-size: 19px; margin: 12px 0 10px; }
p.pass, p.fail { font-size: 17px; font-weight: 600; }
.pass { color: var(--pass); } .fail { color: var(--fail); } .muted { color: var(--muted); }
ul { padding-left: 20px; } li { margin: 4px 0; }
.badge { display: inline-block; min-width: 44px; text-align: center; padding: 0 6px; margin-right: 6px; border-radius: 4px; color: #fff; font-size: 12px; font-weight: 700; }
.badge.pass { background: var(--pass); color: #fff; } .badge.fail { background: var(--fail); color: #fff; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; text-align: left; }
th { background: #f3f3f3; font-weight: 600; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass, td.fail { font-weight: 700; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 8px 0; }
figure.wide { grid-column: 1 / -1; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
`;
