// Small helpers shared by the pages: building elements, formatting times,
// announcing changes to screen readers, and polling.

// h builds an element: h('a', {href: '/det/', class: 'x'}, 'text', child).
// Attributes whose value is null, undefined or false are left out; a
// function value becomes an event listener ("onclick" → click).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// setText changes a node's text only when it differs, so screen readers
// and selections are not disturbed by a poll that changed nothing.
export function setText(el, text) {
  text = String(text ?? '');
  if (el.textContent !== text) el.textContent = text;
}

// duration formats seconds as "45s", "12m", "3h 20m" or "2d 4h".
export function duration(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return m % 60 ? `${hr}h ${m % 60}m` : `${hr}h`;
  const d = Math.floor(hr / 24);
  return hr % 24 ? `${d}d ${hr % 24}h` : `${d}d`;
}

// clock formats a time as the local hour and minute, with the date when it
// is not today.
export function clock(t) {
  const d = new Date(t);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? hm : `${d.toLocaleDateString()} ${hm}`;
}

// announce tells screen readers about a change (the page's polite live
// region).
export function announce(msg) {
  const el = document.getElementById('announce');
  if (!el) return;
  el.textContent = '';
  // A fresh node makes repeated identical messages heard again.
  setTimeout(() => { el.textContent = msg; }, 50);
}

// poll runs fn now and then every ms milliseconds after the previous run
// ended, until the returned stop function is called. fn's errors are
// given to onError; polling goes on.
export function poll(fn, ms, onError = () => {}) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      await fn();
    } catch (e) {
      if (!stopped) onError(e);
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// shortId is the part of a task id people read and type.
export const shortId = (id) => id.slice(0, 8);

// stateName is a task state as people read it: the API's
// "STATE_RUNNING" without its prefix.
export const stateName = (state) => (state || '').replace(/^STATE_/, '');

// stateBadge is a task state as a coloured label.
export function stateBadge(state) {
  const name = stateName(state);
  return h('span', { class: `badge state-${name.toLowerCase()}` }, name);
}
