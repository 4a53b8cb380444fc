/** How amounts, times and ids are shown. */
import type { OutputSetJson, TaskEventJson } from '../node/src/protocol/task-messages.ts'

export function shortId (id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

export function formatCores (cores: number): string {
  return `${Math.round(cores * 100) / 100}`
}

export function formatDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
}

export function ago (iso: string | undefined, now = Date.now()): string {
  if (iso == null) return '—'
  const ms = now - Date.parse(iso)
  if (ms < 2000) return 'just now'
  return `${formatDuration(ms)} ago`
}

export function clockTime (iso: string | undefined): string {
  if (iso == null) return '—'
  const date = new Date(iso)
  return `${date.toLocaleTimeString(undefined, { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 }

/** "512m", "1g", "1.5 GiB" → bytes (as the CLI reads sizes); undefined when it is not a size. */
export function parseSize (text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (match == null) return undefined
  const unit = SIZE_UNITS[match[2].toLowerCase()]
  return unit != null ? Math.round(Number(match[1]) * unit) : undefined
}

/** "30s", "5m", "2h" or plain seconds → milliseconds. */
export function parseDuration (text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (match == null) return undefined
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 's'] ?? 1000
  return Math.round(Number(match[1]) * unit)
}

/** A command line as words, as a POSIX shell splits them: spaces separate, quotes (single or double) group, a backslash escapes. */
export function splitWords (text: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote != null) {
      if (c === quote) quote = undefined
      // Within double quotes a backslash escapes only what a shell's does there (dollar, backquote, double quote, backslash); else it stays.
      else if (c === '\\' && quote === '"' && i + 1 < text.length && '$`"\\'.includes(text[i + 1])) word += text[++i]
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) words.push(word)
  return words
}

/** A task's files on their way: inputs going into its container, or outputs the worker kept. */
export function transferLine (transfer: NonNullable<TaskEventJson['transfer']>): string {
  const what = transfer.direction === 'inputs' ? 'inputs into the container' : 'outputs kept by the worker'
  return `${what}: ${formatBytes(transfer.doneBytes)}, ${transfer.doneFiles} file${transfer.doneFiles === 1 ? '' : 's'}`
}

/** One collected output path, as the worker kept it: size, files, digest, and whether it is whole. */
export function outputSetLine (set: OutputSetJson): string {
  const whole = set.complete ? 'complete' : `incomplete${set.note != null ? `: ${set.note}` : ''}`
  return `${set.path}: ${set.files} file${set.files === 1 ? '' : 's'}, ${formatBytes(set.bytes)}, sha256 ${set.sha256.slice(0, 16)}…, ${whole}`
}
