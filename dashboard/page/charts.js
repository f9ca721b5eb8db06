// ECharts options for the dashboard's figures: pure functions of the frames and reports the server sends.
// A classic script (no bundler): it defines window.kesCharts for dashboard.js.
(() => {
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  // ECharts draws a gap for '-' (a poll interval without observations, e.g. no appends: no latency).
  const point = (t, v) => [t, num(v) ?? '-'];

  function timeOption(lines, options = {}) {
    const axes = options.secondAxis
      ? [
          { type: 'value', scale: false },
          { type: 'value', name: options.secondAxis, splitLine: { show: false } },
        ]
      : [{ type: 'value' }];
    return {
      animation: false,
      grid: { left: 50, right: options.secondAxis ? 50 : 16, top: 30, bottom: 28 },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'time', splitNumber: 4, axisLabel: { hideOverlap: true, formatter: '{HH}:{mm}:{ss}' } },
      yAxis: axes.map((a) => ({
        ...a,
        name: a.name ?? options.unit ?? '',
        nameGap: 8,
        nameTextStyle: { align: 'left' },
      })),
      series: lines.map((line) => ({
        name: line.name,
        type: 'line',
        showSymbol: false,
        connectNulls: false,
        yAxisIndex: line.secondAxis ? 1 : 0,
        ...(line.stack ? { stack: line.stack, areaStyle: { opacity: 0.35 } } : {}),
        data: line.points,
      })),
    };
  }

  const pick = (frames, f) => frames.map((frame) => point(frame.t, f(frame)));

  /** Outcomes in a stable order: the usual first, any other after them. */
  function outcomesOf(frames) {
    const usual = ['written', 'duplicate', 'conflict', 'id_conflict', 'rejected', 'not_ready', 'unknown'];
    const seen = new Set(frames.flatMap((f) => Object.keys(f.appendsPerSec)));
    return [...usual.filter((o) => seen.has(o)), ...[...seen].filter((o) => !usual.includes(o)).sort()];
  }

  /** One entry per chart: its ECharts option and the values the page exposes (points drawn, the latest). */
  function pipelineCharts(frames) {
    const values = (f) => frames.map(f);
    const chart = (option, series) => {
      const drawn = series.filter((v) => num(v) !== null);
      return {
        option,
        points: drawn.length,
        nonZero: drawn.filter((v) => v !== 0).length,
        latest: drawn.length ? drawn[drawn.length - 1] : null,
      };
    };
    const outcomes = outcomesOf(frames);
    return {
      appends: chart(
        timeOption(
          outcomes.map((o) => ({ name: o, stack: 'appends', points: pick(frames, (f) => f.appendsPerSec[o] ?? 0) })),
          { unit: '/s' },
        ),
        values((f) => f.appendsTotalPerSec),
      ),
      latency: chart(
        timeOption(
          ['p50', 'p90', 'p99'].map((q) => ({ name: q, points: pick(frames, (f) => f.latencyMs[q]) })),
          { unit: 'ms' },
        ),
        values((f) => f.latencyMs.p50),
      ),
      conflicts: chart(
        timeOption([{ name: 'conflicts/s', points: pick(frames, (f) => f.conflictsPerSec) }], { unit: '/s' }),
        values((f) => f.conflictsPerSec),
      ),
      'group-commit': chart(
        timeOption(
          [
            { name: 'mean', points: pick(frames, (f) => f.groupCommit.mean) },
            { name: 'p99', points: pick(frames, (f) => f.groupCommit.p99) },
            { name: 'commits/s', secondAxis: true, points: pick(frames, (f) => f.groupCommit.perSec) },
          ],
          { unit: 'appends', secondAxis: '/s' },
        ),
        values((f) => f.groupCommit.mean),
      ),
      'projector-lag': chart(
        timeOption([{ name: 'lag', points: pick(frames, (f) => f.projectorLag) }], { unit: 'records' }),
        values((f) => f.projectorLag),
      ),
      freshness: chart(
        timeOption(
          ['p50', 'p99'].map((q) => ({ name: q, points: pick(frames, (f) => f.freshnessMs[q]) })),
          { unit: 'ms' },
        ),
        values((f) => f.freshnessMs.p50),
      ),
      throughput: chart(
        timeOption(
          [
            { name: 'events written/s', points: pick(frames, (f) => f.eventsPerSec) },
            { name: 'rows projected/s', points: pick(frames, (f) => f.rowsPerSec) },
          ],
          { unit: '/s' },
        ),
        values((f) => f.rowsPerSec),
      ),
      'dead-letters': chart(
        timeOption(
          [
            { name: 'total', points: pick(frames, (f) => f.deadLetters) },
            { name: 'per second', secondAxis: true, points: pick(frames, (f) => f.deadLettersPerSec) },
          ],
          { unit: 'records', secondAxis: '/s' },
        ),
        values((f) => f.deadLetters),
      ),
      stores: chart(
        timeOption(
          [
            { name: 'Redis (reserve)', points: pick(frames, (f) => f.redisRetriesPerSec) },
            { name: 'Kafka (produce, commit, restarts)', points: pick(frames, (f) => f.kafkaRetriesPerSec) },
          ],
          { unit: '/s' },
        ),
        values((f) => f.redisRetriesPerSec + f.kafkaRetriesPerSec),
      ),
    };
  }

  const TIME_KINDS = ['minute', 'hour', 'day', 'time'];
  const NUMBER_KINDS = ['count', 'amount', 'percent'];
  // Hours and days are few and coarse: bars per bucket read better than lines of one or two points.
  const BUCKET_LABEL = { hour: (iso) => `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`, day: (iso) => iso.slice(0, 10) };

  /** The first measure summed per (value of the first text column, time), for a report whose first column is a time. */
  function overTime(report, first, group, measure) {
    const groups = new Map();
    for (const row of report.rows) {
      const key = group ? String(row[group.name]) : measure.name;
      const t = Date.parse(row[first.name]);
      if (Number.isNaN(t)) continue;
      const byTime = groups.get(key) ?? new Map();
      byTime.set(t, (byTime.get(t) ?? 0) + (Number(row[measure.name]) || 0));
      groups.set(key, byTime);
    }
    return [...groups].slice(0, 12);
  }

  /**
   * A report as a chart. First column a time: its first measure over time, one line (minutes, times) or bar
   * series (hours, days) per value of its first text column. Otherwise bars, one per row, of up to three measures.
   */
  function reportChart(report) {
    const [first, ...rest] = report.columns;
    const numbers = report.columns.filter((c) => NUMBER_KINDS.includes(c.kind));
    if (!first || numbers.length === 0) return { option: undefined, points: 0 };
    const base = {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 60, right: 16, top: 30, bottom: 50 },
    };
    if (TIME_KINDS.includes(first.kind)) {
      const measure = numbers[0];
      const groups = overTime(
        report,
        first,
        rest.find((c) => c.kind === 'text'),
        measure,
      );
      const points = groups.reduce((n, [, byTime]) => n + byTime.size, 0);
      const yAxis = { type: 'value', name: measure.name };
      const bucketLabel = BUCKET_LABEL[first.kind];
      if (bucketLabel) {
        const times = [...new Set(groups.flatMap(([, byTime]) => [...byTime.keys()]))].sort((a, b) => a - b);
        const xAxis = { type: 'category', data: times.map((t) => bucketLabel(new Date(t).toISOString())) };
        const series = groups.map(([name, byTime]) => ({
          name,
          type: 'bar',
          data: times.map((t) => byTime.get(t) ?? 0),
        }));
        return { option: { ...base, xAxis, yAxis, series }, points };
      }
      const series = groups.map(([name, byTime]) => ({
        name,
        type: 'line',
        // A report over minutes has a single point in its first minute: show the points until there are many.
        showSymbol: byTime.size < 30,
        data: [...byTime].sort((a, b) => a[0] - b[0]),
      }));
      const times = groups.flatMap(([, byTime]) => [...byTime.keys()]);
      const [earliest, last] = [Math.min(...times), Math.max(...times)];
      // One minute alone would be drawn on an axis of days: keep a few minutes around it.
      const span = last - earliest < 300_000 ? { min: earliest - 300_000, max: last + 300_000 } : {};
      const xAxis = { type: 'time', ...span, splitNumber: 4, axisLabel: { hideOverlap: true, formatter: '{HH}:{mm}' } };
      return { option: { ...base, xAxis, yAxis, series }, points };
    }
    const rows = report.rows.slice(0, 40);
    const measures = numbers.filter((c) => c.name !== first.name).slice(0, 3);
    const label = barLabel(report.columns, rows);
    return {
      option: {
        ...base,
        xAxis: { type: 'category', data: rows.map(label), axisLabel: { rotate: 30, fontSize: 10 } },
        yAxis: { type: 'value' },
        series: measures.map((c) => ({ name: c.name, type: 'bar', data: rows.map((r) => Number(r[c.name]) || 0) })),
      },
      points: rows.length,
    };
  }

  /** A bar's label: the first column, with the next text column when the first alone repeats (state · currency). */
  function barLabel(columns, rows) {
    const [first] = columns;
    const second = columns.slice(1).find((c) => c.kind === 'text');
    const firsts = rows.map((r) => String(r[first.name]));
    const unique = new Set(firsts).size === firsts.length;
    return (row) => (unique || !second ? String(row[first.name]) : `${row[first.name]} · ${row[second.name]}`);
  }

  window.kesCharts = { pipelineCharts, reportChart };
})();
