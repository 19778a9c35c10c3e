// Keyboard chords in the one spelling the bridge keeps them in:
// modifiers in the order Ctrl, Alt, Shift, Meta, then one key (A-Z, 0-9,
// F1-F12), joined by "+", as in "Alt+Shift+J".

// keyName is the chord's key for a keydown event, by physical key, so
// Alt and Shift (which change event.key on many layouts) do not matter;
// null for keys a shortcut cannot use.
function keyName(e) {
  let m = /^Key([A-Z])$/.exec(e.code) || /^Digit([0-9])$/.exec(e.code);
  if (m) return m[1];
  m = /^F([1-9]|1[0-2])$/.exec(e.code);
  return m ? e.code : null;
}

// chordOf is the chord a keydown event makes, or null.
export function chordOf(e) {
  const key = keyName(e);
  if (!key) return null;
  const mods = [];
  if (e.ctrlKey) mods.push('Ctrl');
  if (e.altKey) mods.push('Alt');
  if (e.shiftKey) mods.push('Shift');
  if (e.metaKey) mods.push('Meta');
  return [...mods, key].join('+');
}

// matches reports whether a keydown event is the chord shortcut ("" never
// matches).
export function matches(e, shortcut) {
  return !!shortcut && !e.repeat && chordOf(e) === shortcut;
}

// kbd renders a chord as <kbd> elements for display.
export function kbd(shortcut) {
  const outer = document.createElement('kbd');
  outer.className = 'chord';
  shortcut.split('+').forEach((k, i) => {
    if (i) outer.append('+');
    const inner = document.createElement('kbd');
    inner.textContent = k;
    outer.append(inner);
  });
  return outer;
}
