// The Tasks page: the user's notebooks (an admin's: everyone's), kept
// current by polling, with Open, Logs, Extend (running notebooks with a
// time limit), Kill and Relaunch (ended ones), and filters by state and
// owner.
import { api } from './api.js';
import { h, setText, duration, clock, announce, poll, shortId, stateName } from './util.js';
import { kbd } from './shortcut.js';
import { launchDialog } from './launch.js';
import { confirmDialog } from './confirm.js';
import { extendDialog } from './extend.js';

// The states, as the filter and the rows name them (stateName).
const STATES = ['QUEUED', 'STARTING', 'RUNNING', 'TERMINATING', 'TERMINATED'];

export function tasksPage(main, app) {
  const admin = app.me.admin;
  const query = new URLSearchParams(location.search);
  const filter = { state: query.get('state') || 'all', owner: query.get('owner') || '' };
  let notebooks = [];
  let loaded = false;
  const rows = new Map();
  const seen = new Map(); // id -> last state, to announce changes

  const shortcut = app.settings.launch_shortcut;
  const launchBtn = h('button', { type: 'button', class: 'primary', id: 'launch-button', 'aria-keyshortcuts': shortcut ? shortcut.replace('Ctrl', 'Control') : null },
    'Launch JupyterLab');
  if (shortcut) { const k = kbd(shortcut); k.setAttribute('aria-hidden', 'true'); launchBtn.append(' ', k); }

  const stateSel = h('select', { id: 'filter-state' },
    h('option', { value: 'all' }, 'All'), h('option', { value: 'active' }, 'Active (not terminated)'),
    STATES.map((s) => h('option', { value: s }, s)));
  stateSel.value = filter.state;
  const ownerSel = h('select', { id: 'filter-owner' }, h('option', { value: '' }, 'All users'));
  const error = h('p', { class: 'error', role: 'alert', id: 'tasks-error' });
  const count = h('p', { class: 'count', id: 'task-count' });
  const body = h('tbody', { id: 'tasks-body' });
  const empty = h('p', { class: 'empty', id: 'tasks-empty' }, 'Loading…');
  const headers = ['ID', 'Description', admin && 'Owner', 'State', 'Cluster', 'Pool', 'Slots', 'Node', 'Age', 'Time left', 'Actions'].filter(Boolean);
  // The Cluster column shows only on a site of several Slurm clusters:
  // only there do notebooks carry a cluster.
  const table = h('table', { class: 'tasks', id: 'tasks-table' },
    h('caption', { class: 'visually-hidden' }, 'Notebooks'),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', class: t === 'Cluster' ? 'cluster' : null, hidden: t === 'Cluster' }, t)))), body);

  const dialog = launchDialog(app, (nb) => {
    notebooks = [nb, ...notebooks.filter((n) => n.id !== nb.id)];
    seen.set(nb.id, nb.state);
    announce(`Launched ${nb.description}; it is ${stateName(nb.state)}.`);
    if (filter.state !== 'all' && filter.state !== 'active' && filter.state !== stateName(nb.state)) setFilter('state', 'all');
    else refresh();
  });
  const confirm = confirmDialog();
  const extendAsk = extendDialog();
  app.openLaunch = () => dialog.open();
  launchBtn.addEventListener('click', () => dialog.open());

  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Tasks'), launchBtn),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filters' },
      h('label', { for: 'filter-state' }, 'State'), stateSel,
      admin && h('label', { for: 'filter-owner' }, 'Owner'), admin && ownerSel),
    error, count, h('div', { class: 'table-wrap' }, table), empty, dialog.el, confirm.el, extendAsk.el,
  );

  function setFilter(key, value) {
    filter[key] = value;
    if (key === 'state') stateSel.value = value;
    const q = new URLSearchParams();
    if (filter.state !== 'all') q.set('state', filter.state);
    if (filter.owner) q.set('owner', filter.owner);
    history.replaceState(null, '', `/det/${q.toString() ? `?${q}` : ''}`);
    refresh();
  }
  stateSel.addEventListener('change', () => setFilter('state', stateSel.value));
  ownerSel.addEventListener('change', () => setFilter('owner', ownerSel.value));

  function shown(nb) {
    if (filter.owner && nb.username !== filter.owner) return false;
    if (filter.state === 'all') return true;
    if (filter.state === 'active') return stateName(nb.state) !== 'TERMINATED';
    return stateName(nb.state) === filter.state;
  }

  async function kill(nb, button) {
    const ok = await confirm.ask(`Kill ${nb.description}?`, `Notebook ${shortId(nb.id)} stops and its Slurm job ends. Unsaved work in it is lost.`, 'Kill notebook');
    if (!ok) return;
    button.disabled = true;
    error.textContent = '';
    try {
      const { notebook: updated } = await api(`/notebooks/${encodeURIComponent(nb.id)}/kill`, { method: 'POST' });
      notebooks = notebooks.map((n) => (n.id === updated.id ? updated : n));
      announce(`Killing ${nb.description}.`);
      refresh();
    } catch (e) {
      error.textContent = `Could not kill ${nb.description}: ${e.message}`;
      button.disabled = false;
    }
  }

  function replace(updated) {
    notebooks = notebooks.map((n) => (n.id === updated.id ? updated : n));
    seen.set(updated.id, updated.state);
  }

  async function extend(nb, button) {
    const by = await extendAsk.ask(nb);
    if (!by) return;
    button.disabled = true;
    error.textContent = '';
    try {
      const { notebook: updated, extension } = await api(`/notebooks/${encodeURIComponent(nb.id)}/extend`, { method: 'POST', body: { by } });
      replace(updated);
      announce(`Extended ${nb.description} by ${duration(extension.addedSeconds)}; its time limit is now ${duration(extension.timeLimitSeconds)}.`);
      refresh();
    } catch (e) {
      error.textContent = `Could not extend ${nb.description}: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  }

  async function relaunch(nb, button) {
    const ok = await confirm.ask(`Relaunch ${nb.description}?`,
      `A new notebook starts with the config, pool and context files of ${shortId(nb.id)}; ${shortId(nb.id)} stays in the list as it ended.`, 'Relaunch');
    if (!ok) return;
    button.disabled = true;
    error.textContent = '';
    try {
      const res = await api(`/notebooks/${encodeURIComponent(nb.id)}/relaunch`, { method: 'POST' });
      notebooks = [res.notebook, ...notebooks.filter((n) => n.id !== res.notebook.id)];
      seen.set(res.notebook.id, res.notebook.state);
      if (res.warnings.length) error.textContent = res.warnings.join(' ');
      announce(`Relaunched ${nb.description} as ${shortId(res.notebook.id)}; it is ${stateName(res.notebook.state)}.`);
      if (filter.state !== 'all' && filter.state !== 'active' && filter.state !== stateName(res.notebook.state)) setFilter('state', 'all');
      else refresh();
    } catch (e) {
      error.textContent = `Could not relaunch ${nb.description}: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  }

  function makeRow(nb) {
    const c = {
      tr: h('tr', { 'data-id': nb.id }),
      desc: h('td', { class: 'desc' }),
      owner: admin ? h('td', { class: 'owner' }) : null,
      badge: h('span', { class: 'badge' }),
      unreachable: h('span', { class: 'badge unreachable', hidden: true }, 'UNREACHABLE'),
      reason: h('div', { class: 'reason' }),
      start: h('div', { class: 'reason estimate' }),
      cluster: h('td', { class: 'cluster', hidden: true }),
      pool: h('td', { class: 'pool' }),
      slots: h('td', { class: 'num slots' }),
      node: h('td', { class: 'node' }),
      age: h('td', { class: 'age' }),
      left: h('td', { class: 'left' }),
      open: h('a', { class: 'button', target: '_blank', rel: 'noopener', 'data-action': 'open' }, 'Open'),
      logs: h('a', { class: 'button', href: `/det/tasks/${encodeURIComponent(nb.id)}/logs`, 'data-action': 'logs' }, 'Logs'),
      kill: h('button', { type: 'button', class: 'danger', 'data-action': 'kill' }, 'Kill'),
      extend: h('button', { type: 'button', 'data-action': 'extend' }, 'Extend'),
      relaunch: h('button', { type: 'button', 'data-action': 'relaunch' }, 'Relaunch'),
      replaces: h('div', { class: 'reason replaces' }),
    };
    c.kill.addEventListener('click', () => kill(c.nb, c.kill));
    c.extend.addEventListener('click', () => extend(c.nb, c.extend));
    c.relaunch.addEventListener('click', () => relaunch(c.nb, c.relaunch));
    c.tr.append(
      h('td', {}, h('code', { title: nb.id }, shortId(nb.id))), c.desc, c.owner || '',
      h('td', { class: 'state' }, c.badge, ' ', c.unreachable, c.reason, c.start, c.replaces),
      c.cluster, c.pool, c.slots, c.node, c.age, c.left,
      h('td', { class: 'actions' }, c.open, ' ', c.logs, ' ', c.extend, ' ', c.kill, ' ', c.relaunch),
    );
    return c;
  }

  function updateRow(c, nb, now) {
    const state = stateName(nb.state);
    c.nb = nb;
    c.tr.dataset.state = state;
    setText(c.desc, nb.description);
    setText(c.replaces, nb.replaces ? `relaunch of ${shortId(nb.replaces)}` : '');
    if (c.owner) setText(c.owner, nb.username);
    setText(c.badge, state);
    c.badge.className = `badge state-${state.toLowerCase()}`;
    // A running task whose tunnel is gone: it runs on, the proxy cannot
    // reach it until its job dials the bridge again.
    const un = nb.unreachable;
    c.unreachable.hidden = !un;
    setText(c.reason, un ? `Unreachable since ${new Date(un.since).toLocaleTimeString()}: ${un.reason}` : (nb.reason || ''));
    const est = nb.estimatedStart ? new Date(nb.estimatedStart) : null;
    setText(c.start, est ? `Estimated start ${clock(est)}${est > now ? ` (in ${duration((est - now) / 1000)})` : ''}` : '');
    setText(c.cluster, nb.cluster || '');
    setText(c.pool, nb.resourcePool);
    setText(c.slots, nb.slots);
    setText(c.node, nb.node || '—');
    setText(c.age, duration((now - new Date(nb.startTime)) / 1000));
    let left = '—';
    if (nb.timeRemainingSeconds != null) left = duration(nb.timeRemainingSeconds);
    else if (state === 'RUNNING') left = 'no limit';
    setText(c.left, left);
    const running = state === 'RUNNING';
    if (running) {
      c.open.href = nb.serviceAddress || `/proxy/${nb.id}/`;
      c.open.removeAttribute('aria-disabled');
    } else {
      c.open.removeAttribute('href');
      c.open.setAttribute('aria-disabled', 'true');
    }
    c.open.title = running ? '' : 'Open becomes available when the notebook is RUNNING';
    c.kill.disabled = state === 'TERMINATED';
    c.kill.hidden = state === 'TERMINATED';
    c.extend.hidden = !(running && nb.timeRemainingSeconds != null);
    c.relaunch.hidden = state !== 'TERMINATED';
    for (const [el, verb] of [[c.open, 'Open'], [c.logs, 'Logs of'], [c.extend, 'Extend'], [c.kill, 'Kill'], [c.relaunch, 'Relaunch']]) {
      el.setAttribute('aria-label', `${verb} ${nb.description}`);
    }
  }

  function refresh() {
    const now = new Date();
    const list = notebooks.filter(shown).sort((a, b) => new Date(b.startTime) - new Date(a.startTime));
    const keep = new Set(list.map((n) => n.id));
    for (const [id, c] of rows) if (!keep.has(id)) { c.tr.remove(); rows.delete(id); }
    let prev = null;
    for (const nb of list) {
      let c = rows.get(nb.id);
      if (!c) { c = makeRow(nb); rows.set(nb.id, c); }
      updateRow(c, nb, now);
      // Move a row only when it is out of place, so focus inside stays put.
      const want = prev ? prev.nextSibling : body.firstChild;
      if (want !== c.tr) body.insertBefore(c.tr, want);
      prev = c.tr;
    }
    table.hidden = list.length === 0;
    const clusters = notebooks.some((n) => n.cluster);
    for (const el of table.querySelectorAll('.cluster')) el.hidden = !clusters;
    let msg = '';
    if (!loaded) msg = 'Loading…';
    else if (notebooks.length === 0) msg = 'No notebooks yet. Press “Launch JupyterLab” to start one.';
    else if (list.length === 0) msg = 'No tasks match the filters.';
    setText(empty, msg);
    empty.hidden = !msg;
    setText(count, loaded && list.length ? `${list.length} of ${notebooks.length} tasks` : '');
    if (admin) {
      const owners = [...new Set(notebooks.map((n) => n.username))].sort();
      if (filter.owner && !owners.includes(filter.owner)) owners.push(filter.owner);
      const have = [...ownerSel.options].slice(1).map((o) => o.value);
      if (have.join() !== owners.join()) {
        ownerSel.replaceChildren(h('option', { value: '' }, 'All users'), owners.map((o) => h('option', { value: o }, o)));
      }
      ownerSel.value = filter.owner;
    }
  }

  async function load() {
    const res = await api('/notebooks');
    app.online();
    if (error.dataset.from === 'list') { error.textContent = ''; delete error.dataset.from; }
    const changes = [];
    for (const nb of res.notebooks) {
      const before = seen.get(nb.id);
      if (loaded && before && before !== nb.state) changes.push(`${nb.description} is ${stateName(nb.state)}`);
      seen.set(nb.id, nb.state);
    }
    if (changes.length) announce(`${changes.join('; ')}.`);
    notebooks = res.notebooks;
    loaded = true;
    refresh();
  }

  refresh();
  const stop = poll(load, 2000, (e) => {
    app.offline(e);
    if (e.status !== 0) { error.textContent = `Cannot list the notebooks: ${e.message}`; error.dataset.from = 'list'; }
  });
  if (app.launchPending) { app.launchPending = false; dialog.open(); }
  return () => { stop(); app.openLaunch = null; };
}
