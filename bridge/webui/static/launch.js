// The Launch JupyterLab dialog: pick a resource pool (with its free GPUs,
// slots, idle timeout, description and image), the slots and a name, and
// start a notebook.
import { api } from './api.js';
import { h } from './util.js';

const LAST_POOL = 'det.launch.pool';

export function launchDialog(app, onLaunched) {
  const pools = h('div', { class: 'pools', id: 'launch-pools' }, 'Loading pools…');
  const slots = h('input', { id: 'launch-slots', name: 'slots', type: 'number', min: '0', step: '1', inputmode: 'numeric', 'aria-describedby': 'launch-slots-hint' });
  const slotsHint = h('p', { class: 'hint', id: 'launch-slots-hint' });
  const name = h('input', { id: 'launch-name', name: 'name', maxlength: '200', placeholder: 'JupyterLab (a random name)', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert', id: 'launch-error' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'launch-submit' }, 'Launch');
  const cancel = h('button', { type: 'button', id: 'launch-cancel' }, 'Cancel');
  const form = h('form', { novalidate: true },
    h('h2', { id: 'launch-title' }, 'Launch JupyterLab'),
    h('fieldset', {}, h('legend', {}, 'Resource pool'), pools),
    h('div', { class: 'field' }, h('label', { for: 'launch-slots' }, 'Slots (GPUs)'), slots, slotsHint),
    h('div', { class: 'field' }, h('label', { for: 'launch-name' }, 'Name (optional)'), name),
    error,
    h('div', { class: 'buttons' }, cancel, submit),
  );
  const el = h('dialog', { class: 'launch', id: 'launch-dialog', 'aria-labelledby': 'launch-title' }, form);
  let list = [];

  cancel.addEventListener('click', () => el.close());

  function selected() {
    const r = form.querySelector('input[name="pool"]:checked');
    return r ? list.find((p) => p.name === r.value) : null;
  }

  function poolChanged() {
    const p = selected();
    if (!p) return;
    const most = p.maxSlots ? Math.min(p.maxSlots, p.slotsPerAgent) : p.slotsPerAgent;
    slots.max = String(most);
    if (most === 0) {
      slots.value = '0';
      slots.disabled = true;
      slotsHint.textContent = 'This pool has no GPUs; the notebook gets CPUs only.';
    } else {
      slots.disabled = false;
      if (slots.value === '' || Number(slots.value) > most) slots.value = '1';
      slotsHint.textContent = `0 to ${most} GPUs (${p.gpuType || 'GPU'}) on one node.`;
    }
  }

  function facts(p) {
    const free = Math.max(0, p.gpusTotal - p.gpusUsed);
    return [
      p.gpusTotal ? `Free GPUs: ${free} of ${p.gpusTotal}${p.gpuType ? ` (${p.gpuType})` : ''}` : 'No GPUs',
      `Slots per node: ${p.slotsPerAgent}`,
      `Idle timeout: ${p.idleTimeout || 'none'}`,
      `Nodes up: ${p.nodesUp} of ${p.numAgents}`,
      `Notebooks: ${p.notebooksRunning} running, ${p.notebooksQueued} queued`,
    ].join(' · ');
  }

  function renderPools() {
    if (!list.length) { pools.replaceChildren('No resource pools are configured.'); submit.disabled = true; return; }
    const last = localStorage.getItem(LAST_POOL);
    const pick = list.find((p) => p.name === last) || list.find((p) => p.defaultComputePool && p.nodesUp > 0) || list[0];
    pools.replaceChildren(...list.map((p, i) => {
      const id = `launch-pool-${i}`;
      return h('div', { class: 'pool-option', 'data-pool': p.name },
        h('input', { type: 'radio', name: 'pool', id, value: p.name, checked: p.name === pick.name, 'aria-describedby': `${id}-about` }),
        h('label', { for: id }, h('span', { class: 'pool-name' }, p.name),
          p.defaultComputePool ? h('span', { class: 'tag' }, 'default GPU pool') : '',
          p.defaultAuxPool ? h('span', { class: 'tag' }, 'default CPU pool') : ''),
        h('div', { class: 'pool-about', id: `${id}-about` },
          h('div', { class: 'pool-desc' }, p.description || `Slurm partition ${p.partition}`),
          h('div', { class: 'pool-facts' }, facts(p)),
          p.image ? h('div', { class: 'pool-image' }, 'Image: ', h('code', {}, p.image)) : ''));
    }));
    submit.disabled = false;
    poolChanged();
  }
  pools.addEventListener('change', poolChanged);

  async function loadPools() {
    pools.replaceChildren('Loading pools…');
    submit.disabled = true;
    try {
      list = (await api('/resource-pools')).resourcePools;
      renderPools();
    } catch (e) {
      pools.replaceChildren(h('span', { class: 'error' }, `Cannot load the pools: ${e.message}`), ' ',
        h('button', { type: 'button', onclick: loadPools }, 'Retry'));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = selected();
    if (!p) { error.textContent = 'Choose a resource pool.'; return; }
    const n = Number(slots.value || 0);
    if (!Number.isInteger(n) || n < 0 || n > Number(slots.max)) {
      error.textContent = `Slots must be a whole number from 0 to ${slots.max}.`;
      slots.focus();
      return;
    }
    const config = { resources: { resource_pool: p.name, slots: n } };
    if (name.value.trim()) config.description = name.value.trim();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Launching…';
    try {
      const { notebook } = await api('/notebooks', { method: 'POST', body: { config, files: [] } });
      localStorage.setItem(LAST_POOL, p.name);
      el.close();
      onLaunched(notebook);
    } catch (err) {
      error.textContent = `Cannot launch: ${err.message}`;
    } finally {
      submit.disabled = false;
      submit.textContent = 'Launch';
    }
  });

  return {
    el,
    async open() {
      if (el.open) return;
      error.textContent = '';
      name.value = '';
      slots.value = '';
      el.showModal();
      await loadPools();
      const r = form.querySelector('input[name="pool"]:checked');
      if (r && el.open) r.focus();
    },
  };
}
