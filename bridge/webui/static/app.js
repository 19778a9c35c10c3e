// The WebUI's entry point: session, routing between pages, the header,
// the connection and Slurm banners, and the launch shortcut.
import { api, onUnauthorized } from './api.js';
import { matches } from './shortcut.js';
import { h, poll, clock } from './util.js';
import { loginPage } from './login.js';
import { tasksPage } from './tasks.js';
import { logsPage } from './logs.js';
import { poolsPage } from './pools.js';
import { settingsPage } from './settings.js';
import { adminPage } from './admin.js';

const routes = [
  { re: /^\/det\/?$/, page: tasksPage, nav: 'tasks', title: 'Tasks' },
  { re: /^\/det\/tasks\/([^/]+)\/logs\/?$/, page: logsPage, nav: 'tasks', title: 'Logs' },
  { re: /^\/det\/pools\/?$/, page: poolsPage, nav: 'pools', title: 'Resource Pools' },
  { re: /^\/det\/settings\/?$/, page: settingsPage, nav: 'settings', title: 'Settings' },
  { re: /^\/det\/admin\/?$/, page: adminPage, nav: 'admin', title: 'Admin' },
  { re: /^\/det\/login\/?$/, page: loginPage, public: true, title: 'Log in' },
];

// app is the state the pages share.
const app = {
  me: null,
  settings: { launch_shortcut: '', default_launch_shortcut: '' },
  // openLaunch is set by the Tasks page while it is shown.
  openLaunch: null,
  // launchPending asks the next Tasks page to open the launch dialog.
  launchPending: false,
  // recordingShortcut turns the global shortcut off while Settings records one.
  recordingShortcut: false,
  navigate,
  // online and offline feed the connection banner from any page's polls.
  online() { setBanner('conn', null); },
  offline(err) {
    if (err && err.status === 0) setBanner('conn', 'The bridge does not answer; retrying. What you see may be out of date.');
  },
  // loggedIn loads the user and their settings after a login.
  async loggedIn() {
    app.me = (await api('/me')).user;
    app.settings = await api('/me/settings');
    showHeader();
    startMasterPoll();
  },
};

let cleanup = null;
let stopMaster = null;
let version = null;
const main = document.getElementById('main');

function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  render(true);
}

async function render(focus) {
  if (cleanup) cleanup();
  cleanup = null;
  const path = location.pathname;
  const route = routes.find((r) => r.re.test(path));
  if (!route) {
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, h('a', { href: '/det/' }, 'Back to Tasks')));
    return;
  }
  if (!route.public && !app.me) {
    navigate(`/det/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }
  document.title = `${route.title} · det-bridge`;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  cleanup = route.page(main, app, ...route.re.exec(path).slice(1).map(decodeURIComponent)) || null;
  if (focus) {
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
  }
}

function showHeader() {
  document.getElementById('top').hidden = !app.me;
  // Only admins see the Admin page's link; the page itself says "admins
  // only" to anyone else (the API's 403).
  document.getElementById('nav-admin').hidden = !(app.me && app.me.admin);
  const who = document.getElementById('whoami');
  who.replaceChildren();
  if (app.me) who.append(app.me.username, app.me.admin ? h('span', { class: 'tag' }, 'admin') : '');
}

function setBanner(kind, msg, action) {
  const banner = document.getElementById('banner');
  let el = banner.querySelector(`[data-kind="${kind}"]`);
  if (!msg) { if (el) el.remove(); return; }
  if (!el) { el = h('p', { 'data-kind': kind, class: `banner-${kind}` }); banner.append(el); }
  if (el.dataset.msg === msg) return;
  el.dataset.msg = msg;
  el.replaceChildren(msg, action ? ' ' : '', action || '');
}

function startMasterPoll() {
  if (stopMaster) stopMaster();
  stopMaster = poll(async () => {
    if (!app.me) return;
    const m = await api('/master');
    app.online();
    if (version === null) version = m.bridgeVersion;
    if (m.bridgeVersion !== version) {
      setBanner('version', `det-bridge was updated to ${m.bridgeVersion}.`, h('button', { type: 'button', onclick: () => location.reload() }, 'Reload'));
    }
    const s = m.slurm || {};
    setBanner('slurm', s.stale ? `Slurm has not answered since ${clock(s.lastOk || s.since)}; states shown may be out of date.${s.error ? ` (${s.error})` : ''}` : null);
  }, 10000, (e) => app.offline(e));
}

onUnauthorized(() => {
  if (!app.me) return;
  app.me = null;
  showHeader();
  if (stopMaster) stopMaster();
  navigate(`/det/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith('/det/')) return;
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.defaultPrevented) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});

window.addEventListener('popstate', () => render(true));

document.addEventListener('keydown', (e) => {
  if (!app.me || app.recordingShortcut || document.querySelector('dialog[open]')) return;
  if (!matches(e, app.settings.launch_shortcut)) return;
  e.preventDefault();
  if (app.openLaunch) app.openLaunch();
  else { app.launchPending = true; navigate('/det/'); }
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* the session ends here either way */ }
  app.me = null;
  showHeader();
  if (stopMaster) stopMaster();
  navigate('/det/login');
});

async function boot() {
  try {
    await app.loggedIn();
  } catch (e) {
    app.me = null;
    if (e.status === 0) {
      main.replaceChildren(h('h1', {}, 'det-bridge'), h('p', { role: 'status' }, 'The bridge does not answer; retrying…'));
      setTimeout(boot, 2000);
      return;
    }
  }
  render(false);
}

boot();
