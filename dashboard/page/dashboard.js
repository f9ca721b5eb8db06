// The live page: polls this server's /api/snapshot and /api/series every second and /api/reports every few
// seconds, and redraws. What it drew is readable from the page: each chart's container carries data-points,
// data-nonzero and data-latest, and window.kesDashboard holds the last answers (the browser tests read both).
(() => {
  const POLL_MS = 1000;
  const REPORTS_MS = 5000;
  const state = {
    updates: 0,
    reportUpdates: 0,
    lastSnapshot: null,
    lastSeries: null,
    lastReports: null,
    charts: {},
    errors: [],
  };
  window.kesDashboard = state;

  const instances = new Map();
  function chartFor(element) {
    let chart = instances.get(element);
    if (!chart) {
      chart = echarts.init(element);
      instances.set(element, chart);
    }
    return chart;
  }
  window.addEventListener('resize', () => {
    for (const chart of instances.values()) chart.resize();
  });

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  const format = (n) => (typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '–');

  function drawSnapshot(snapshot) {
    for (const element of document.querySelectorAll('[data-part]')) {
      const part = snapshot.health[element.dataset.part];
      element.dataset.status = part.status;
      element.title = `${part.status}: ${part.detail}`;
    }
    const totals = snapshot.totals ?? {};
    const values = { ...totals, written: totals.appendsBy?.written ?? 0 };
    for (const element of document.querySelectorAll('[data-total]'))
      element.textContent = format(values[element.dataset.total]);
    const down = snapshot.sources.filter((s) => !s.up);
    document.getElementById('status').textContent =
      `${snapshot.sources.length} services, ${down.length ? `${down.length} not answering` : 'all answering'} · update ${snapshot.updates} · ${new Date(snapshot.t).toLocaleTimeString()}`;
  }

  function drawSeries(series) {
    const charts = window.kesCharts.pipelineCharts(series.frames);
    for (const [name, chart] of Object.entries(charts)) {
      const element = document.querySelector(`[data-chart="${name}"]`);
      if (!element) continue;
      chartFor(element).setOption(chart.option, true);
      element.dataset.points = String(chart.points);
      element.dataset.nonzero = String(chart.nonZero);
      element.dataset.latest = chart.latest === null ? '' : String(chart.latest);
      state.charts[name] = { points: chart.points, nonZero: chart.nonZero, latest: chart.latest };
    }
  }

  function drawReports(reports) {
    const section = document.getElementById('reports');
    for (const report of reports) {
      let figure = section.querySelector(`figure[data-report="${CSS.escape(report.name)}"]`);
      if (!figure) {
        figure = document.createElement('figure');
        figure.dataset.report = report.name;
        const caption = document.createElement('figcaption');
        caption.append(`${report.name} `);
        const small = document.createElement('small');
        small.textContent = report.description;
        caption.append(small);
        const element = document.createElement('div');
        element.className = 'chart';
        element.dataset.chart = `report:${report.name}`;
        figure.append(caption, element);
        section.append(figure);
      }
      const element = figure.querySelector('.chart');
      const drawn = window.kesCharts.reportChart(report);
      element.dataset.points = String(drawn.points);
      element.dataset.rows = String(report.rows.length);
      if (report.error || !drawn.option || drawn.points === 0) {
        instances.get(element)?.dispose();
        instances.delete(element);
        element.className = 'chart empty';
        element.textContent = report.error ? `not available: ${report.error}` : 'no rows yet';
        continue;
      }
      if (element.classList.contains('empty')) {
        element.className = 'chart';
        element.textContent = '';
      }
      chartFor(element).setOption(drawn.option, true);
      state.charts[`report:${report.name}`] = { points: drawn.points, nonZero: drawn.points, latest: null };
    }
    document.getElementById('reports-status').textContent = reports.length
      ? `(${reports.length}, read ${new Date(Math.max(...reports.map((r) => r.at))).toLocaleTimeString()})`
      : '(waiting for the projector)';
  }

  function failed(error) {
    state.errors.push(String(error));
    document.getElementById('status').textContent = `dashboard server not answering: ${error.message ?? error}`;
  }

  async function poll() {
    try {
      const [snapshot, series] = await Promise.all([getJson('/api/snapshot'), getJson('/api/series')]);
      state.lastSnapshot = snapshot;
      state.lastSeries = series;
      drawSnapshot(snapshot);
      drawSeries(series);
      state.updates++;
      document.body.dataset.updates = String(state.updates);
    } catch (error) {
      failed(error);
    }
    setTimeout(poll, POLL_MS);
  }

  async function pollReports() {
    try {
      const { reports } = await getJson('/api/reports');
      state.lastReports = reports;
      drawReports(reports);
      state.reportUpdates++;
    } catch (error) {
      failed(error);
    }
    setTimeout(pollReports, REPORTS_MS);
  }

  poll();
  pollReports();
})();
