import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/** Reading a stream to its end as a hostile or careful peer would, and hand-made length prefixes. */

export interface StreamOutcome {
  /** Every byte the remote sent before the stream ended. */
  bytes: Uint8Array
  /** `closed`: the remote closed its write side; `reset`: the stream was reset/aborted; `timeout`: still open at the bound. */
  end: 'closed' | 'reset' | 'timeout'
  error?: Error
  elapsedMs: number
}

/**
 * Read a stream until the remote ends it or `boundMs` passes, whichever comes first.
 * On timeout the stream is aborted, so nothing is left running.
 */
export async function readUntilEnd (stream: Stream, boundMs: number): Promise<StreamOutcome> {
  const started = performance.now()
  const received = new Uint8ArrayList()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, boundMs) })
  const reading = (async (): Promise<{ end: 'closed' | 'reset', error?: Error }> => {
    try {
      for await (const chunk of stream) received.append(chunk)
      return { end: stream.status === 'reset' || stream.status === 'aborted' ? 'reset' : 'closed' }
    } catch (err) {
      return { end: 'reset', error: err instanceof Error ? err : new Error(String(err)) }
    }
  })()
  try {
    const result = await Promise.race([reading, timedOut])
    const elapsedMs = performance.now() - started
    if (result === 'timeout') {
      stream.abort(new Error('test bound reached'))
      await reading
      return { bytes: received.subarray(), end: 'timeout', elapsedMs }
    }
    return { bytes: received.subarray(), ...result, elapsedMs }
  } finally {
    clearTimeout(timer)
  }
}

/** A protobuf varint, for hand-made (and deliberately broken) length prefixes. */
export function varint (value: number): Uint8Array {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return Uint8Array.from(bytes)
}
