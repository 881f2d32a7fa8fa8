// Makes untrusted text (channel names, payloads, server errors) safe to print on a terminal.

/**
 * C0 controls, DEL and C1 controls. C1 matters as much as ESC: some terminals treat U+009B as CSI,
 * so a channel name could otherwise move the cursor or rewrite the screen.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces every control character with `\xNN` (two lowercase hex digits); the rest is kept. */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
