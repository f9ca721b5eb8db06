import type { Cell, LabResult } from './experiment.js';

export interface ReportPage {
  title: string;
  experiment: string;
  result: LabResult;
  /** Chart name to its SVG document, inlined so the report is one file that opens anywhere. */
  svgs: Map<string, string>;
  about: Record<string, string | number>;
  durationSeconds: number;
}

const html = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const cell = (v: Cell): string => (v === null ? '' : typeof v === 'number' ? v.toLocaleString('en-US') : html(v));

function keyValues(values: Record<string, string | number | boolean>): string {
  const rows = Object.entries(values).map(([k, v]) => `<tr><th>${html(k)}</th><td>${html(String(v))}</td></tr>`);
  return `<table class="kv">${rows.join('')}</table>`;
}

/** report.html: the reading first, then the charts, the tables (with their CSVs), the settings and the machine. */
export function reportHtml(page: ReportPage): string {
  const { result } = page;
  const charts = result.charts
    .map((c) => `<figure class="chart" data-chart="${html(c.name)}">${page.svgs.get(c.name) ?? ''}</figure>`)
    .join('\n');
  const tables = result.tables
    .map(
      (t) =>
        `<h3>${html(t.title)} <a href="${html(t.name)}.csv">CSV</a></h3>` +
        `<table class="data"><thead><tr>${t.columns.map((c) => `<th>${html(c)}</th>`).join('')}</tr></thead>` +
        `<tbody>${t.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
    )
    .join('\n');
  const notes = (result.notes ?? []).map((n) => `<li>${html(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(page.title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
p.reading{font-size:1.05em;line-height:1.5;background:#f4f7fb;padding:1em;border-left:4px solid #5470c6}
figure.chart{display:inline-block;margin:.5em;border:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em}
table.data td{text-align:right}table.kv th{text-align:left;background:#fafafa}
</style></head><body>
<h1>${html(page.title)}</h1>
<p class="reading">${html(result.reading)}</p>
${notes ? `<ul class="notes">${notes}</ul>` : ''}
<section class="charts">${charts}</section>
<h2>Figures</h2>
${tables}
<p><a href="results.json">results.json</a> holds every figure above with the settings and the machine.</p>
<h2>Settings</h2>${keyValues({ ...result.settings, 'duration (s)': page.durationSeconds })}
<h2>Machine, versions and code</h2>${keyValues(page.about)}
</body></html>
`;
}

/**
 * index.html of a run of several experiments: each report's link, how it ended, its reading and its charts small
 * (the SVG files beside each report), so the whole run can be taken in at a glance.
 */
export function indexHtml(
  title: string,
  rows: { name: string; title: string; ok: boolean; reading: string; charts: string[] }[],
): string {
  const items = rows
    .map((r) => {
      const charts = r.charts
        .map(
          (c) =>
            `<a href="${html(r.name)}/report.html"><img src="${html(r.name)}/${html(c)}.svg" alt="${html(c)}"></a>`,
        )
        .join('');
      return (
        `<li><a href="${html(r.name)}/report.html">${html(r.title)}</a> ${r.ok ? '' : '<strong>(failed)</strong>'}` +
        `<br>${html(r.reading)}${charts ? `<div class="charts">${charts}</div>` : ''}</li>`
      );
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto}li{margin:1em 0}
.charts img{width:340px;margin:.3em;border:1px solid #ddd}</style></head>
<body><h1>${html(title)}</h1><ul>${items}</ul></body></html>
`;
}
