// The Extend dialog: how much time to add to a running notebook. The
// bridge checks the pool's policy and names the rule when it refuses.
import { h, duration, shortId } from './util.js';

const CHOICES = [['30m', '30 minutes'], ['1h', '1 hour'], ['2h', '2 hours'], ['4h', '4 hours']];

export function extendDialog() {
  const title = h('h2', { id: 'extend-title' });
  const text = h('p', { id: 'extend-text' });
  const by = h('select', { id: 'extend-by', name: 'by' }, CHOICES.map(([v, label]) => h('option', { value: v }, label)));
  const yes = h('button', { type: 'submit', class: 'primary', value: 'yes', id: 'extend-yes' }, 'Extend');
  const no = h('button', { type: 'submit', value: 'no', id: 'extend-no' }, 'Cancel');
  const el = h('dialog', { class: 'confirm', id: 'extend-dialog', 'aria-labelledby': 'extend-title', 'aria-describedby': 'extend-text' },
    h('form', { method: 'dialog' }, title, text,
      h('div', { class: 'field' }, h('label', { for: 'extend-by' }, 'Add'), by),
      h('div', { class: 'buttons' }, no, yes)));
  return {
    el,
    // ask shows the dialog for nb and resolves with the time to add, or
    // null when the user cancels.
    ask(nb) {
      title.textContent = `Extend ${nb.description}?`;
      const left = nb.timeRemainingSeconds != null ? `${duration(nb.timeRemainingSeconds)} left` : 'no time limit';
      text.textContent = `Notebook ${shortId(nb.id)} has ${left}. Its pool decides how long a notebook may run and how often it may be extended.`;
      el.returnValue = '';
      return new Promise((resolve) => {
        el.addEventListener('close', () => resolve(el.returnValue === 'yes' ? by.value : null), { once: true });
        el.showModal();
        by.focus();
      });
    },
  };
}
