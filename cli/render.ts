import type TableType from 'cli-table3'
import { createRequire } from 'node:module'
import { printable } from '../node/src/printable.ts'
import { formatBytes } from '../node/src/units.ts'
import { colorsWanted, createColors } from './colors.ts'
import type { ResourceAmounts } from '../node/src/resources.ts'

/** Where a command writes: injected so tests can capture it. */
export interface Printer {
  out: (text: string) => void
  err: (text: string) => void
}

export const consolePrinter: Printer = {
  out: text => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') },
  err: text => { process.stderr.write(text.endsWith('\n') ? text : text + '\n') }
}

/** Colour only on a terminal and never with NO_COLOR (colors.ts). */
export const colors = createColors(colorsWanted())

export function printJson (print: Printer, value: unknown): void {
  print.out(JSON.stringify(value, null, 2))
}

/** The boxed previews of the original design ("SENDING TASK TO WORKER"); values may come from peers, so they are shown `printable`. */
export function box (title: string, shownRows: Array<[string, string]>): string {
  const rows = shownRows.map(([k, v]): [string, string] => [k, printable(v)])
  const width = Math.max(title.length, ...rows.map(([k, v]) => k.length + v.length + 2)) + 2
  const line = '─'.repeat(width)
  const body = rows.map(([k, v]) => `│ ${k}: ${v}${' '.repeat(width - k.length - v.length - 3)}│`)
  return [`┌${line}┐`, `│ ${colors.bold(title)}${' '.repeat(width - title.length - 1)}│`, `├${line}┤`, ...body, `└${line}┘`].join('\n')
}

export function table (head: string[], rows: string[][]): string {
  // Loaded at the first table: most commands (a task's output) print none.
  const Table = createRequire(import.meta.url)('cli-table3') as typeof TableType
  const t = new Table({ head: head.map(h => colors.bold(h)), style: { head: [], border: [] } })
  t.push(...rows)
  return t.toString()
}

export function formatResources (r: ResourceAmounts): string {
  return `${r.cpu} CPU, ${formatBytes(r.memoryBytes)} memory, ${formatBytes(r.storageBytes)} storage, ${r.gpus} GPU`
}

/** `free/total` for one resource column of the peers table. */
export function freeOfTotal (free: number, total: number, format: (n: number) => string = String): string {
  return `${format(free)}/${format(total)}`
}

export function shortId (peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}
