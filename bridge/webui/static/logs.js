// The log viewer: a task's bridge events and job output, followed live.
// When the stream breaks (the bridge restarted, the network dropped) it
// reconnects and skips the lines it has shown already.
import { api, streamLines } from './api.js';
import { h, setText, poll, shortId, stateBadge, stateName } from './util.js';

export function logsPage(main, app, id) {
  const title = h('h1', {}, 'Logs');
  const meta = h('p', { class: 'meta', id: 'logs-meta' });
  const follow = h('input', { type: 'checkbox', id: 'logs-follow', checked: true });
  const status = h('p', { class: 'stream-status', role: 'status', id: 'logs-status' }, 'Connecting…');
  const lines = h('ol', { class: 'log', id: 'log-lines', role: 'log', 'aria-label': 'Log lines', tabindex: '0' });
  main.append(
    h('p', { class: 'back' }, h('a', { href: '/det/' }, '← Tasks')),
    title, meta,
    h('div', { class: 'toolbar' }, follow, h('label', { for: 'logs-follow' }, 'Follow (keep the newest line in view)'), status),
    lines,
  );

  const ctrl = new AbortController();
  let stopped = false;
  let nb = null;
  let reconnects = 0;

  const stopPoll = poll(async () => {
    ({ notebook: nb } = await api(`/notebooks/${encodeURIComponent(id)}`));
    app.online();
    setText(title, `Logs: ${nb.description}`);
    meta.replaceChildren(stateBadge(nb.state), ` ${shortId(nb.id)} · ${nb.resourcePool} · ${nb.username}`, nb.reason ? ` · ${nb.reason}` : '');
  }, 3000, (e) => {
    app.offline(e);
    if (e.status === 404) { stopped = true; ctrl.abort(); setText(status, `No notebook ${id}.`); }
  });

  follow.addEventListener('change', () => { if (follow.checked) lines.scrollTop = lines.scrollHeight; });

  // Each connection replays the log from its start; a line's id is the
  // same in every connection, so a line already shown is skipped.
  const shown = new Set();
  function add(l) {
    if (shown.has(l.id)) return;
    shown.add(l.id);
    const t = new Date(l.timestamp);
    const level = l.level.replace(/^LOG_LEVEL_/, '').toLowerCase();
    lines.append(h('li', { class: `src-${l.source} lvl-${level}` },
      h('time', { datetime: l.timestamp }, t.toLocaleTimeString([], { hour12: false })), ' ',
      h('span', { class: 'src' }, l.source), ' ',
      h('span', { class: 'msg' }, l.log.replace(/\n$/, ''))));
    if (follow.checked) lines.scrollTop = lines.scrollHeight;
  }

  async function stream() {
    let delay = 1000;
    while (!stopped) {
      try {
        setText(status, reconnects ? 'Reconnected; following.' : 'Following.');
        await streamLines(`/tasks/${encodeURIComponent(id)}/logs?follow=true`, (line) => {
          if (!line.result) throw new Error((line.error && line.error.message) || 'the log stream broke off');
          add(line.result);
        }, ctrl.signal);
        delay = 1000;
        // The bridge ends a followed stream once the task has ended and
        // everything is sent; any other end is a broken connection.
        const { task } = await api(`/tasks/${encodeURIComponent(id)}`);
        if (task.endTime) { setText(status, 'The task has ended; this is the whole log.'); return; }
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        if (e.status === 404) { setText(status, e.message); return; }
        setText(status, `Connection lost (${e.message}); reconnecting…`);
      }
      reconnects++;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }
  stream();

  return () => { stopped = true; ctrl.abort(); stopPoll(); };
}
