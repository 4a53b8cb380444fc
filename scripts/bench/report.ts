import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** One figure beside its baseline, both measured in the same run. */
export interface BenchRow {
  name: string
  value: number
  unit: string
  baseline: string
  baselineValue: number
  note?: string
  /** A table printed below the figures: where the time goes, phase by phase, beside the baseline's. */
  breakdown?: Breakdown
}

export interface Breakdown {
  title: string
  head: string[]
  rows: string[][]
}

function aligned (head: string[], body: string[][]): string[] {
  const widths = head.map((_, i) => Math.max(head[i].length, ...body.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...body.map(line)]
}

function fmt (value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value >= 100 ? value.toFixed(0) : value.toFixed(2)
}

/** Print the rows as an aligned table with the ratio to the baseline. */
export function printTable (rows: BenchRow[]): string {
  const head = ['benchmark', 'cloudai', 'baseline', 'baseline value', 'ratio', 'note']
  const body = rows.map(row => [
    row.name,
    `${fmt(row.value)} ${row.unit}`,
    row.baseline,
    `${fmt(row.baselineValue)} ${row.unit}`,
    row.baselineValue > 0 ? `${(row.value / row.baselineValue).toFixed(2)}x` : 'n/a',
    row.note ?? ''
  ])
  const breakdowns = rows.flatMap(row => row.breakdown != null ? ['', row.breakdown.title, ...aligned(row.breakdown.head, row.breakdown.rows)] : [])
  return [...aligned(head, body), ...breakdowns].join('\n')
}

export async function writeJson (path: string, rows: BenchRow[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n')
}

