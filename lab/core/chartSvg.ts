import type * as Echarts from 'echarts';
import type { LabChart } from './experiment.js';

const WIDTH = 760;
const HEIGHT = 400;

/** The ECharts option for a lab chart: one look for every report, no animation (the SVG is a single frame). */
export function chartOption(chart: LabChart): Echarts.EChartsCoreOption {
  const categories = chart.x.categories
    ? [...new Set(chart.series.flatMap((s) => s.points.map(([x]) => String(x))))]
    : undefined;
  return {
    animation: false,
    title: { text: chart.title, left: 'center', textStyle: { fontSize: 14 } },
    // ECharts measures legend labels with its own font metrics in Node, narrower than a browser's: the gap keeps them apart.
    legend: { bottom: 0, type: 'scroll', itemGap: 24 },
    grid: { left: 70, right: 30, top: 50, bottom: 70 },
    tooltip: { trigger: 'axis' },
    xAxis: categories
      ? { type: 'category', name: chart.x.label, nameLocation: 'middle', nameGap: 28, data: categories }
      : {
          type: chart.x.log ? 'log' : 'value',
          name: chart.x.label,
          nameLocation: 'middle',
          nameGap: 28,
          scale: !chart.x.log,
        },
    yAxis: {
      type: chart.y.log ? 'log' : 'value',
      name: chart.y.label,
      nameLocation: 'middle',
      nameGap: 55,
    },
    series: chart.series.map((s) => ({
      name: s.name,
      type: chart.kind,
      data: categories ? categories.map((c) => s.points.find(([x]) => String(x) === c)?.[1] ?? null) : s.points,
      connectNulls: false,
      symbolSize: 6,
    })),
  };
}

/**
 * The chart as an SVG document, rendered in Node by ECharts' server-side renderer: no browser involved. ECharts is
 * loaded on the first chart, not with the CLI: every `kes` process (guards included) loads the lab's commands.
 */
export async function renderChartSvg(chart: LabChart): Promise<string> {
  const echarts = await import('echarts');
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    instance.setOption(chartOption(chart));
    return withTitle(instance.renderToSVGString(), chart.title);
  } finally {
    instance.dispose();
  }
}

/**
 * ECharts draws the title as text but gives the SVG no <title>: a screen reader, or an <img> of the file, would have
 * nothing to name it by.
 */
export function withTitle(svg: string, title: string): string {
  const text = title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return svg.replace(/^<svg\b([^>]*)>/, `<svg$1 role="img"><title>${text}</title>`);
}
