// The Settings page: the keyboard shortcut that opens the Launch
// JupyterLab dialog, kept by the bridge per user.
import { api } from './api.js';
import { h } from './util.js';
import { chordOf } from './shortcut.js';

export function settingsPage(main, app) {
  const def = app.settings.default_launch_shortcut;
  const input = h('input', { id: 'shortcut-input', name: 'launch_shortcut', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'shortcut-help' });
  input.value = app.settings.launch_shortcut;
  const record = h('button', { type: 'button', id: 'shortcut-record', 'aria-pressed': 'false' }, 'Record keys');
  const reset = h('button', { type: 'button', id: 'shortcut-reset' }, 'Use the default');
  const save = h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, 'Save');
  const status = h('p', { role: 'status', id: 'settings-status', class: 'meta' });
  const error = h('p', { role: 'alert', class: 'error', id: 'settings-error' });
  const form = h('form', { class: 'settings', id: 'settings-form' },
    h('h2', {}, 'Keyboard shortcuts'),
    h('div', { class: 'field' },
      h('label', { for: 'shortcut-input' }, 'Launch JupyterLab'),
      h('div', { class: 'inline' }, input, record, reset),
      h('p', { class: 'hint', id: 'shortcut-help' },
        `Modifiers (Ctrl, Alt, Shift, Meta) and one key (A–Z, 0–9, F1–F12), such as ${def}. `,
        `The default is ${def}. Leave it empty to turn the shortcut off. `,
        'Or press “Record keys”, then the keys.')),
    error, h('div', { class: 'buttons' }, save), status);
  main.append(h('h1', {}, 'Settings'), form);

  function stopRecording(msg) {
    app.recordingShortcut = false;
    record.setAttribute('aria-pressed', 'false');
    record.textContent = 'Record keys';
    if (msg) status.textContent = msg;
  }
  function onKey(e) {
    if (!app.recordingShortcut) return;
    if (['Control', 'Alt', 'Shift', 'Meta'].includes(e.key)) return;
    e.preventDefault();
    e.stopPropagation();
    document.removeEventListener('keydown', onKey, true);
    if (e.key === 'Escape') { stopRecording('Recording cancelled.'); return; }
    const chord = chordOf(e);
    if (!chord) { stopRecording(`${e.key} cannot be part of a shortcut; use A–Z, 0–9 or F1–F12.`); return; }
    input.value = chord;
    stopRecording(`Recorded ${chord}; press Save to keep it.`);
    input.focus();
  }
  record.addEventListener('click', () => {
    if (app.recordingShortcut) { document.removeEventListener('keydown', onKey, true); stopRecording('Recording cancelled.'); return; }
    app.recordingShortcut = true;
    record.setAttribute('aria-pressed', 'true');
    record.textContent = 'Press the keys… (Esc cancels)';
    status.textContent = 'Recording: press the keys of the new shortcut.';
    document.addEventListener('keydown', onKey, true);
  });
  reset.addEventListener('click', () => { input.value = def; input.focus(); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    status.textContent = '';
    save.disabled = true;
    try {
      app.settings = await api('/me/settings', { method: 'PUT', body: { launch_shortcut: input.value.trim() } });
      input.value = app.settings.launch_shortcut;
      const msg = app.settings.launch_shortcut ? `Saved. ${app.settings.launch_shortcut} now launches JupyterLab.` : 'Saved. The launch shortcut is off.';
      status.textContent = msg;
    } catch (err) {
      error.textContent = `Not saved: ${err.message}`;
      input.focus();
    } finally {
      save.disabled = false;
    }
  });

  return () => {
    document.removeEventListener('keydown', onKey, true);
    app.recordingShortcut = false;
  };
}
