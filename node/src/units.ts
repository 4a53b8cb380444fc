import { InvalidValueError } from './errors.ts'

const SIZE_SUFFIXES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4
}

/**
 * Parse a size such as `512m`, `1.5g`, `2GiB` or `1048576` into bytes.
 * Suffixes are binary (as in `docker run --memory`). `defaultUnit` applies to a
 * bare number: the original CLI spelled `-mem 1.0` in GB.
 */
export function parseSize (text: string, defaultUnit: '' | 'g' = ''): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (match == null) {
    throw new InvalidValueError(`"${text}" is not a size: use a number with an optional unit, like 512m, 1.5g or 2GiB`)
  }
  const unit = match[2].toLowerCase()
  const factor = SIZE_SUFFIXES[unit === '' ? defaultUnit : unit]
  if (factor === undefined) {
    throw new InvalidValueError(`"${text}" has an unknown unit "${match[2]}": use b, k, m, g or t`)
  }
  const bytes = Math.round(Number(match[1]) * factor)
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidValueError(`"${text}" is too large`)
  }
  return bytes
}

/** Parse a non-negative number of CPU cores such as `2` or `0.5`. */
export function parseCores (text: string): number {
  const cores = Number(text)
  if (text.trim() === '' || !Number.isFinite(cores) || cores < 0) {
    throw new InvalidValueError(`"${text}" is not a number of CPU cores: use a number like 2 or 0.5`)
  }
  return cores
}

/** Parse a non-negative whole number, such as a GPU count. */
export function parseCount (text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidValueError(`"${text}" is not a valid ${what}: use a whole number like 0, 1 or 2`)
  }
  return Number(text)
}

/** Format bytes for people: `512 MiB`, `1.5 GiB`. */
export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = value >= 100 || unit === 0 ? 0 : 1
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${units[unit]}`
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parse a duration such as `90s`, `10m`, `1.5h` or `500ms` into milliseconds (a bare number is seconds). */
export function parseDuration (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|)\s*$/i.exec(text)
  const factor = match != null ? DURATION_UNITS[match[2].toLowerCase()] : undefined
  if (match == null || factor === undefined) {
    throw new InvalidValueError(`"${text}" is not a duration: use a number with a unit, like 90s, 10m or 1h`)
  }
  const ms = Math.round(Number(match[1]) * factor)
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidValueError(`"${text}" is not a positive duration`)
  return ms
}

/** Format milliseconds for people: `850 ms`, `12.3 s`, `4 min 5 s`. */
export function formatDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** Format a long span for people, to the hour: `30 d`, `1 d 12 h`, `2 h 5 min`; shorter ones as formatDuration does. */
export function formatSpan (ms: number): string {
  const days = Math.floor(ms / 86_400_000)
  const hours = Math.floor((ms % 86_400_000) / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`
  return formatDuration(ms)
}
