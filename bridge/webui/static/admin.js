// The Admin page: each pool's use over the last 24 hours (GPUs allocated
// and held idle, queue wait p50 and p95, cancellations by reason), from
// GET /api/v1/admin/usage, drawn with uPlot. uPlot is not part of the
// repository: bridge/webui/vendor.sh (run by `make build`) fetches it
// into vendor/; a bridge built without it shows the numbers and says why
// the charts are missing.
import { api } from './api.js';
import { h, setText, duration, clock, poll } from './util.js';

const HOURS = 24;
const REFRESH_MS = 60000;
// The buckets the cancellations are counted in.
const CANCEL_BUCKET = 3600;
const CHART_HEIGHT = 200;

const COLORS = {
  allocated: '#0b5cad',
  idle: '#c2410c',
  p50: '#0b5cad',
  p95: '#7c3aed',
  user: '#0b5cad',
  admin: '#b3261e',
};

let loading = null;

// loadUPlot loads vendor/uPlot.iife.min.js (a classic script: the CSP
// allows scripts of the bridge's own origin) and its stylesheet once; it
// resolves to uPlot, or to null when this bridge was built without it.
function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve) => {
      if (!document.getElementById('uplot-css')) document.head.append(h('link', { rel: 'stylesheet', href: '/det/vendor/uPlot.min.css', id: 'uplot-css' }));
      const script = h('script', {
        src: '/det/vendor/uPlot.iife.min.js',
        onload: () => resolve(window.uPlot || null),
        onerror: () => { script.remove(); loading = null; resolve(null); },
      });
      document.head.append(script);
    });
  }
  return loading;
}

// withGaps returns the points with a null point in each gap of more than
// two steps (the bridge was down), so lines break there instead of
// joining across it.
function withGaps(points, step) {
  const out = [];
  let prev = null;
  for (const p of points) {
    const t = Date.parse(p.time) / 1000;
    if (prev !== null && t - prev > 2 * step) out.push({ t: prev + step, gap: true });
    out.push({ t, p });
    prev = t;
  }
  return out;
}

const val = (x, f) => (x.gap ? null : f(x.p));

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// cancelBuckets counts each reason's cancellations per CANCEL_BUCKET from
// the range's start; the last bucket is repeated at its end, so the
// stepped lines draw it.
function cancelBuckets(points, from, to) {
  const start = Math.floor(from / CANCEL_BUCKET) * CANCEL_BUCKET;
  const n = Math.max(1, Math.ceil((to - start) / CANCEL_BUCKET));
  const xs = [];
  const by = { idle: [], user: [], admin: [] };
  for (let i = 0; i < n; i++) {
    xs.push(start + i * CANCEL_BUCKET);
    for (const k in by) by[k].push(0);
  }
  for (const p of points) {
    const i = Math.min(n - 1, Math.max(0, Math.floor((Date.parse(p.time) / 1000 - start) / CANCEL_BUCKET)));
    for (const k in by) by[k][i] += p.cancellations[k];
  }
  xs.push(start + n * CANCEL_BUCKET);
  for (const k in by) by[k].push(by[k][n - 1]);
  return [xs, by.idle, by.user, by.admin];
}

const intAxis = { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], values: (u, splits) => splits.map((v) => String(v)) };
const zeroUp = (u, min, max) => [0, Math.max(1, max)];

// CHARTS are the plots of each pool: their title, data and series.
const CHARTS = [
  {
    title: 'GPUs in use',
    data: (pts) => [pts.map((x) => x.t), pts.map((x) => val(x, (p) => p.gpusAllocated)), pts.map((x) => val(x, (p) => p.gpusIdle))],
    series: (U) => [
      { label: 'Allocated', stroke: COLORS.allocated, fill: 'rgba(11, 92, 173, 0.12)', width: 2, paths: U.paths.stepped({ align: 1 }) },
      { label: 'Held idle', stroke: COLORS.idle, fill: 'rgba(194, 65, 12, 0.12)', width: 2, paths: U.paths.stepped({ align: 1 }) },
    ],
    axis: { label: 'GPUs', ...intAxis },
    range: zeroUp,
  },
  {
    title: 'Queue wait of the jobs that started',
    data: (pts) => [pts.map((x) => x.t), pts.map((x) => val(x, (p) => p.queueWaitP50)), pts.map((x) => val(x, (p) => p.queueWaitP95))],
    series: () => [
      { label: 'p50', stroke: COLORS.p50, width: 2, spanGaps: true, points: { show: true, size: 5 }, value: (u, v) => (v == null ? '—' : duration(v)) },
      { label: 'p95', stroke: COLORS.p95, width: 2, spanGaps: true, dash: [6, 3], points: { show: true, size: 5 }, value: (u, v) => (v == null ? '—' : duration(v)) },
    ],
    axis: { label: 'wait', size: 60, values: (u, splits) => splits.map((v) => duration(v)) },
    range: (u, min, max) => [0, Math.max(60, max || 0)],
  },
  {
    title: 'Cancellations per hour',
    data: (pts, from, to) => cancelBuckets(pts.filter((x) => !x.gap).map((x) => x.p), from, to),
    series: (U) => [
      { label: 'Idle', stroke: COLORS.idle, width: 2, paths: U.paths.stepped({ align: 1 }) },
      { label: 'By the user', stroke: COLORS.user, width: 2, paths: U.paths.stepped({ align: 1 }) },
      { label: 'By an admin', stroke: COLORS.admin, width: 2, dash: [6, 3], paths: U.paths.stepped({ align: 1 }) },
    ],
    axis: { label: 'jobs', ...intAxis },
    range: zeroUp,
  },
];

let sectionIds = 0;

// poolView is one pool's section: a summary, and its plots or an empty
// state.
function poolView(name) {
  const id = `usage-pool-${++sectionIds}`;
  const summary = h('p', { class: 'meta usage-summary' });
  const empty = h('p', { class: 'empty', hidden: true },
    `No usage recorded for ${name} in the last ${HOURS} hours yet. The bridge records a point a minute while it runs; the first appear within a minute.`);
  const grid = h('div', { class: 'usage-charts' });
  const section = h('section', { class: 'usage-pool', 'data-pool': name, 'aria-labelledby': id },
    h('h2', { id }, name), summary, empty, grid);
  let plots = [];
  // span is the time axis of every plot: the range asked for, however
  // few its points.
  const span = [0, 1];

  function destroy() {
    for (const p of plots) p.u.destroy();
    plots = [];
    grid.replaceChildren();
  }

  function draw(U, pts, from, to) {
    if (!plots.length) {
      // All the figures first, so that each plot takes its column's width.
      const boxes = CHARTS.map((c) => {
        const box = h('div', { class: 'plot' });
        grid.append(h('figure', { class: 'usage-chart' }, h('figcaption', {}, c.title), box));
        return box;
      });
      CHARTS.forEach((c, i) => {
        const opts = {
          width: Math.max(240, boxes[i].clientWidth || 400),
          height: CHART_HEIGHT,
          series: [{ value: (u, v) => (v == null ? '—' : clock(v * 1000)) }, ...c.series(U)],
          axes: [{}, c.axis],
          scales: { x: { time: true, range: () => [span[0], span[1]] }, y: { range: c.range } },
          cursor: { drag: { x: false, y: false } },
        };
        plots.push({ c, box: boxes[i], u: new U(opts, c.data(pts, from, to), boxes[i]) });
      });
      return;
    }
    for (const p of plots) p.u.setData(p.c.data(pts, from, to));
  }

  return {
    section,
    destroy,
    resize() {
      for (const p of plots) p.u.setSize({ width: Math.max(240, p.box.clientWidth), height: CHART_HEIGHT });
    },
    update(points, step, from, to, U) {
      section.dataset.points = String(points.length);
      empty.hidden = points.length > 0;
      if (!points.length) {
        setText(summary, `${plural(0, 'point')}.`);
        destroy();
        return;
      }
      const last = points[points.length - 1];
      const c = { idle: 0, user: 0, admin: 0 };
      for (const p of points) for (const k in c) c[k] += p.cancellations[k];
      setText(summary, `${plural(points.length, 'point')}. At ${clock(last.time)}: ${last.gpusAllocated} GPUs allocated, ${last.gpusIdle} held idle. ` +
        `Cancelled in ${HOURS} hours: ${c.idle} idle, ${c.user} by their user, ${c.admin} by an admin.`);
      span[0] = from;
      span[1] = to;
      if (U) draw(U, withGaps(points, step), from, to);
    },
  };
}

export function adminPage(main, app) {
  const error = h('p', { class: 'error', role: 'alert', id: 'admin-error' });
  const notice = h('p', { class: 'notice', id: 'admin-no-charts', role: 'status', hidden: true },
    'The charts are missing: this bridge was built without its chart library (uPlot), which ',
    h('code', {}, 'make build'), ' fetches with ', h('code', {}, 'bridge/webui/vendor.sh'), '. The numbers are below.');
  const denied = h('div', { class: 'empty', id: 'admin-denied', hidden: true });
  const pools = h('div', { id: 'usage', 'aria-busy': 'true' });
  const updated = h('p', { class: 'meta', id: 'admin-updated' }, 'Loading…');
  main.append(h('h1', {}, 'Admin'), h('p', { class: 'hint' }, `Each resource pool's use over the last ${HOURS} hours, a point a minute.`),
    error, notice, denied, updated, pools);

  const views = new Map();
  let U;
  const onResize = () => { for (const v of views.values()) v.resize(); };
  window.addEventListener('resize', onResize);

  const stop = poll(async () => {
    const data = await api(`/admin/usage?hours=${HOURS}`);
    app.online();
    error.textContent = '';
    if (U === undefined) {
      U = await loadUPlot();
      notice.hidden = !!U;
    }
    const from = Date.parse(data.from) / 1000;
    const to = Date.parse(data.to) / 1000;
    const names = new Set(data.pools.map((p) => p.pool));
    for (const [n, v] of views) if (!names.has(n)) { v.destroy(); v.section.remove(); views.delete(n); }
    let total = 0;
    for (const p of data.pools) {
      let v = views.get(p.pool);
      if (!v) { v = poolView(p.pool); views.set(p.pool, v); }
      pools.append(v.section);
      v.update(p.points, data.stepSeconds, from, to, U);
      total += p.points.length;
    }
    pools.dataset.points = String(total);
    pools.removeAttribute('aria-busy');
    setText(updated, data.pools.length
      ? `${plural(total, 'point')} from ${clock(data.from)} to ${clock(data.to)}; refreshes every minute.`
      : 'No resource pools are configured.');
  }, REFRESH_MS, (e) => {
    app.offline(e);
    if (e.status === 403) {
      stop();
      updated.hidden = true;
      pools.hidden = true;
      denied.hidden = false;
      denied.replaceChildren(h('p', {}, h('strong', {}, 'Admins only. '), 'This page shows the resource pools’ usage to the bridge’s admins; you are not one.'),
        h('p', { class: 'meta' }, `The bridge answered: ${e.message}`));
    } else if (e.status !== 0) {
      error.textContent = `Cannot load the usage history: ${e.message}`;
    }
  });
  return () => {
    stop();
    window.removeEventListener('resize', onResize);
    for (const v of views.values()) v.destroy();
  };
}
