// Terminal colours for the CLI's own lines. A module of its own rather than a package: every
// CommonJS module a command loads costs it the CommonJS loader's start-up (about 6 ms here),
// and `cloudai task` otherwise loads none.

export type Paint = (text: string) => string

export interface Colors {
  enabled: boolean
  bold: Paint
  dim: Paint
  red: Paint
  green: Paint
  yellow: Paint
  cyan: Paint
}

/** A style's codes around the text; one that closes inside it (nested) is opened again after. */
function style (open: string, close: string): Paint {
  return text => open + String(text).split(close).join(close + open) + close
}

export function createColors (enabled: boolean): Colors {
  const paint = (open: number, close: number): Paint => enabled ? style(`\x1b[${open}m`, `\x1b[${close}m`) : text => String(text)
  return {
    enabled,
    bold: paint(1, 22),
    dim: paint(2, 22),
    red: paint(31, 39),
    green: paint(32, 39),
    yellow: paint(33, 39),
    cyan: paint(36, 39)
  }
}

/**
 * Colour on a terminal (not TERM=dumb), never with NO_COLOR or --no-color, always with
 * FORCE_COLOR or --color, and in CI logs: the conventions picocolors, which the CLI used
 * before, follows.
 */
export function colorsWanted (env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv, stdoutIsTTY = process.stdout.isTTY === true): boolean {
  if ((env.NO_COLOR ?? '') !== '' || argv.includes('--no-color')) return false
  return (env.FORCE_COLOR ?? '') !== '' || argv.includes('--color') || (stdoutIsTTY && env.TERM !== 'dumb') || (env.CI ?? '') !== ''
}
