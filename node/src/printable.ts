/**
 * Characters that make a terminal do rather than show: C0 and C1 controls and DEL (cursor
 * moves, screen clears, colours, a carriage return that overprints), the bidirectional
 * overrides and isolates that reorder a line, and the Unicode line and paragraph separators.
 */
const TERMINAL_CONTROLS = /[\p{Cc}\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu
/** The usual spellings, for the controls that have one. */
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * Text from a peer (a name, a task's command) as a terminal may show it: every control
 * character written out as an escape (`\x1b`, `\u202e`), so that what is printed is what
 * was sent, and nothing a peer sends can rewrite the screen.
 */
export function printable (text: string): string {
  return text.replace(TERMINAL_CONTROLS, char => {
    const named = NAMED[char]
    if (named != null) return named
    const code = char.codePointAt(0) ?? 0
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
