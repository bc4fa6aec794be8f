// A glyph per state, so that a state is never told by colour alone (WCAG 1.4.1): graph nodes
// and the glance cells (glance.js) use this table; the badges show the same glyphs from
// styles.css (`.badge.st-*::before`), keeping their text the state.
export const STATE_ICONS = {
  succeeded: "✓",
  failed: "✗",
  running: "▶",
  starting: "▷",
  waiting: "◷",
  queued: "⋯",
  scheduled: "◷",
  cancelled: "⊘",
  skipped: "↷",
  unknown: "?",
  enabled: "●",
  disabled: "○",
};

export function stateIcon(state) {
  return STATE_ICONS[state] || "";
}
