// The Resource Pools page: each pool's capacity and use, from the same
// GET /api/v1/resource-pools that `det resource-pool list` shows.
import { api } from './api.js';
import { h, setText, poll } from './util.js';

export function poolsPage(main, app) {
  const error = h('p', { class: 'error', role: 'alert', id: 'pools-error' });
  const body = h('tbody', { id: 'pools-body' });
  const cols = ['Pool', 'Description', 'Partition', 'Nodes up', 'GPUs free', 'CPUs free', 'Slots per node', 'Notebooks', 'Idle timeout', 'Image'];
  const table = h('table', { class: 'pools-table' },
    h('caption', { class: 'visually-hidden' }, 'Resource pools and their capacity'),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))), body);
  const updated = h('p', { class: 'meta', id: 'pools-updated' }, 'Loading…');
  main.append(h('h1', {}, 'Resource Pools'), error, h('div', { class: 'table-wrap' }, table), updated);

  const rows = new Map();
  function row(name) {
    let r = rows.get(name);
    if (!r) {
      r = { tr: h('tr', { 'data-pool': name }), cells: cols.map((_, i) => h(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : {})) };
      r.tr.append(...r.cells);
      rows.set(name, r);
    }
    return r;
  }

  const stop = poll(async () => {
    const { resourcePools: pools } = await api('/resource-pools');
    app.online();
    error.textContent = '';
    const names = new Set(pools.map((p) => p.name));
    for (const [n, r] of rows) if (!names.has(n)) { r.tr.remove(); rows.delete(n); }
    for (const p of pools) {
      const r = row(p.name);
      const tags = [p.defaultComputePool && 'default GPU pool', p.defaultAuxPool && 'default CPU pool'].filter(Boolean);
      const values = [
        p.name + (tags.length ? ` (${tags.join(', ')})` : ''),
        p.description || '—',
        p.cluster ? `${p.partition} on ${p.cluster}` : p.partition,
        `${p.nodesUp} of ${p.numAgents}` + (p.slurmStale ? ' (its Slurm cluster does not answer; last known)' : ''),
        p.gpusTotal ? `${p.gpusTotal - p.gpusUsed} of ${p.gpusTotal}${p.gpuType ? ` ${p.gpuType}` : ''}` : 'no GPUs',
        `${p.cpusTotal - p.cpusUsed} of ${p.cpusTotal}`,
        p.slotsPerAgent,
        `${p.notebooksRunning} running, ${p.notebooksQueued} queued`,
        p.idleTimeout || 'none',
        p.image || '—',
      ];
      values.forEach((v, i) => setText(r.cells[i], v));
      r.tr.classList.toggle('down', p.nodesUp === 0);
      body.append(r.tr);
    }
    setText(updated, pools.length ? `Updated ${new Date().toLocaleTimeString()}; refreshes every 5 seconds.` : 'No resource pools are configured.');
  }, 5000, (e) => {
    app.offline(e);
    if (e.status !== 0) error.textContent = `Cannot load the pools: ${e.message}`;
  });
  return stop;
}
