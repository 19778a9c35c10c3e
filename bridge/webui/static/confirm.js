// A modal yes/no question in a <dialog>, for actions that cannot be undone.
import { h } from './util.js';

export function confirmDialog() {
  const title = h('h2', { id: 'confirm-title' });
  const text = h('p', { id: 'confirm-text' });
  const yes = h('button', { type: 'submit', class: 'danger', value: 'yes', id: 'confirm-yes' });
  const no = h('button', { type: 'submit', value: 'no', id: 'confirm-no' }, 'Cancel');
  const el = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    h('form', { method: 'dialog' }, title, text, h('div', { class: 'buttons' }, no, yes)));
  return {
    el,
    // ask shows the question and resolves true when the user confirms.
    ask(question, detail, action) {
      title.textContent = question;
      text.textContent = detail;
      yes.textContent = action;
      el.returnValue = '';
      return new Promise((resolve) => {
        el.addEventListener('close', () => resolve(el.returnValue === 'yes'), { once: true });
        el.showModal();
        no.focus();
      });
    },
  };
}
