// The login page: a bridge user name and password, as `det user login`.
import { api } from './api.js';
import { h } from './util.js';

export function loginPage(main, app) {
  const next = new URLSearchParams(location.search).get('next');
  const target = next && next.startsWith('/det/') && !next.startsWith('/det/login') ? next : '/det/';
  if (app.me) {
    app.navigate(target, { replace: true });
    return null;
  }
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password' });
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to det-bridge'),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'Username'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-pass' }, 'Password'), pass),
    error,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      // The password itself (isHashed false): the bridge hashes it, and
      // rewrites an account's hash kept from before it took Determined's.
      await api('/auth/login', { method: 'POST', body: { username: user.value.trim(), password: pass.value, isHashed: false } });
      await app.loggedIn();
      app.navigate(target, { replace: true });
    } catch (err) {
      error.textContent = err.status === 0 ? 'The bridge does not answer; try again in a moment.' : `Login failed: ${err.message}`;
      submit.disabled = false;
      pass.select();
    }
  });
  main.append(form);
  user.focus();
  return null;
}
