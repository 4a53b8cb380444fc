import fc from 'fast-check'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { TaskSpec as WireTaskSpec } from '../../protocols/task.ts'
import { createSimulatedExecutor } from '../../node/src/executor/simulated.ts'
import { parsePolicy } from '../../node/src/worker/policy-file.ts'
import { varint } from './streams.ts'
import type { MemoryNetwork } from './memory-peers.ts'
import { startProtocolWorker, type ProtocolWorker, type ProtocolWorkerOptions } from './protocol-worker.ts'
import { SIM_IMAGE } from './sim.ts'

/**
 * What the fuzz tests share (hostile bytes hurt no one): the node they aim at, the
 * count of hostile inputs each part tried (each file prints its own at the end), memory
 * readings after a full GC, and the mutations of valid encodings.
 */

/** "Flat": growth of the heap plus array buffers, after a full GC, over all the rounds. */
export const FLAT_HEAP_BYTES = 4 * 1024 * 1024
const CAPACITY = { cpu: 4, memoryBytes: 8 * 2 ** 30, storageBytes: 100 * 2 ** 30, gpus: 0 }

/** What a fuzz target runs (a worker, or a node for its API): quick simulated containers, and a policy that lets every hostile Submit be answered on its merits, not refused for the rate. */
export function fuzzTargetOptions (): Pick<ProtocolWorkerOptions, 'capacity' | 'executor' | 'policy'> {
  return {
    capacity: CAPACITY,
    executor: createSimulatedExecutor({ pullMs: 1, startMs: 1 }),
    policy: parsePolicy(JSON.stringify({ submissions: { perSecond: 100_000, burst: 1_000_000 } }))
  }
}

/** A worker serving both protocols on a memory peer, to aim hostile frames at; `deadlines` as ProtocolWorkerOptions. */
export async function startFuzzWorker (network: MemoryNetwork, deadlines: Pick<ProtocolWorkerOptions, 'tasksTimeouts' | 'requestTimeoutMs'> = {}): Promise<ProtocolWorker> {
  return await startProtocolWorker(network, { name: 'fuzz-target', ...fuzzTargetOptions(), ...deadlines })
}

/** How many hostile inputs each part tried: printed at the end. */
const tried = new Map<string, number>()
export function count (what: string, n = 1): void {
  tried.set(what, (tried.get(what) ?? 0) + n)
}

/** Print the counts: call it from the file's `after`. */
export function reportTried (): void {
  const lines = [...tried].map(([what, n]) => `${what}: ${n}`)
  const total = [...tried.values()].reduce((a, b) => a + b, 0)
  console.log(`hostile inputs tried: ${total} (${lines.join('; ')})`)
}

// A full GC before each memory reading: without it, the numbers are mostly garbage not yet collected.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

export function settledMemory (): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage()
}

export type Mutation =
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'set', at: number, value: number }
  | { kind: 'truncate', at: number }
  | { kind: 'append', bytes: Uint8Array }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  /** Replace the frame's length prefix with a hostile one. */
  | { kind: 'prefix', prefix: 'huge' | 'endless' | 'over-limit' | 'zero' | 'overlong-encoding' }
  /** The frame twice (a second message where one is expected). */
  | { kind: 'repeat' }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prefix' as const), prefix: fc.constantFrom('huge' as const, 'endless' as const, 'over-limit' as const, 'zero' as const, 'overlong-encoding' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const) }) }
)

/** The length of a frame's varint prefix. */
function prefixLength (frame: Uint8Array): number {
  let i = 0
  while (i < frame.length && (frame[i] & 0x80) !== 0) i++
  return Math.min(i + 1, frame.length)
}

export function mutate (frame: Uint8Array, mutations: Mutation[], maxFrameBytes: number): Uint8Array {
  let bytes = Uint8Array.from(frame)
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : ('at' in m ? m.at % (bytes.length + (m.kind === 'insert' || m.kind === 'truncate' ? 1 : 0)) : 0)
    switch (m.kind) {
      case 'flip': if (bytes.length > 0) bytes[at % bytes.length] ^= 1 << m.bit; break
      case 'set': if (bytes.length > 0) bytes[at % bytes.length] = m.value; break
      case 'truncate': bytes = bytes.subarray(0, at); break
      case 'append': bytes = Uint8Array.from([...bytes, ...m.bytes]); break
      case 'insert': bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]); break
      case 'repeat': bytes = Uint8Array.from([...bytes, ...bytes]); break
      case 'prefix': {
        const body = bytes.subarray(prefixLength(bytes))
        const prefix = {
          huge: varint(2 ** 32 - 1),
          endless: new Uint8Array(12).fill(0xff),
          'over-limit': varint(maxFrameBytes + 1),
          zero: varint(0),
          // The body's real length, spelled with padding bytes: 5 bytes where 1-3 would do.
          'overlong-encoding': Uint8Array.from([...[...varint(body.length)].map(b => b | 0x80), 0x80, 0x80, 0x80, 0x00]).subarray(0, 5)
        }[m.prefix]
        bytes = Uint8Array.from([...prefix, ...body])
        break
      }
    }
  }
  return bytes
}

export function describeInput (bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex')
  return `${bytes.length} bytes: ${hex.length > 200 ? `${hex.slice(0, 200)}…` : hex}`
}

let ids = 0
export function wireSpec (overrides: Partial<WireTaskSpec> = {}): WireTaskSpec {
  return {
    id: `fuzz-${Date.now().toString(36)}-${++ids}`,
    imageHolders: [],
    image: SIM_IMAGE,
    command: ['exit:0'],
    env: new Map([['A', 'b']]),
    resources: { cpu: 0.25, memoryBytes: 16 * 2 ** 20, storageBytes: 2 ** 20, gpus: 0 },
    network: 'none',
    timeoutMs: 60_000,
    labels: new Map([['k', 'v']]),
    attempt: 1,
    ...overrides
  }
}
