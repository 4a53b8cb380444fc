// `npm run bench`: every benchmark, each figure beside a baseline measured in the same run.
// Prints a table and writes bench-results/latest.json. Runs inside the network namespace
// that scripts/bench.sh makes, because the discovery benchmarks send mDNS.
import { resolve } from 'node:path'
import { tuneGarbageCollection } from '../../node/src/gc-tuning.ts'
import { dashboardBench } from './dashboard.ts'
import { discoveryBench } from './discovery.ts'
import { fileTransferBench } from './file-transfer.ts'
import { imageTransferBench } from './image-transfer.ts'
import { idleRssBench } from './idle-rss.ts'
import { logThroughputBench } from './log-throughput.ts'
import { pnetThroughput } from './pnet-throughput.ts'
import { placementBench } from './placement.ts'
import { isQuick, QUICK_ENV } from './quick.ts'
import { printTable, writeJson, type BenchRow } from './report.ts'
import { storeWriteBench } from './store-write.ts'
import { taskLatencyBench } from './task-latency.ts'
import { taskThroughputBench } from './task-throughput.ts'

const BENCHMARKS: Record<string, () => Promise<BenchRow[]>> = {
  // --quick: 25 nodes instead of 50 (the 50-node mesh alone took half of a quick run).
  discovery: async () => discoveryBench(isQuick() ? [10, 25] : [10, 50]),
  'idle-rss': idleRssBench,
  pnet: pnetThroughput,
  'task-latency': taskLatencyBench,
  'log-throughput': logThroughputBench,
  'task-throughput': taskThroughputBench,
  'store-write': storeWriteBench,
  placement: placementBench,
  dashboard: dashboardBench,
  'image-transfer': async () => await imageTransferBench(isQuick()),
  'file-transfer': async () => await fileTransferBench(isQuick())
}

// The nodes some benchmarks run in this process (and their baselines beside them) get the
// garbage collection every process that cli.js starts has, as a daemon would.
tuneGarbageCollection()

// `--quick`: fewer repetitions and smaller payloads where a benchmark offers them (quick.ts).
const args = process.argv.slice(2)
if (args.includes('--quick')) process.env[QUICK_ENV] = '1'
const only = args.filter(arg => arg !== '--quick')
const rows: BenchRow[] = []
for (const [name, bench] of Object.entries(BENCHMARKS)) {
  if (only.length > 0 && !only.includes(name)) continue
  process.stderr.write(`bench: ${name}…\n`)
  const started = performance.now()
  rows.push(...await bench())
  process.stderr.write(`bench: ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
}
process.stdout.write(printTable(rows) + '\n')
const out = resolve(import.meta.dirname, '../../../bench-results/latest.json')
await writeJson(out, rows)
process.stderr.write(`bench: wrote ${out}\n`)
process.exit(0)
