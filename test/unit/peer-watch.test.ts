import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { PeerWatch, PROBE_FAILURES_LOST } from '../../node/src/master/peer-watch.ts'
import { waitFor } from '../helpers/env.ts'

/**
 * The master's watch on the workers that run its tasks (docs/architecture.md, loss detection): a
 * probe per peer every interval, and the followers told only after repeated silence.
 */

/** A short probe interval, unlike any other timer in this process, so the intervals PeerWatch makes can be told apart. */
const INTERVAL_MS = 7
/** Every wait in this file ends well inside this. */
const BOUND_MS = 5_000
/** Long enough for many intervals to pass. */
const QUIET_MS = 40 * INTERVAL_MS

/** A probe whose outcome each test decides, counting calls and how many run at once per peer. */
class Probe {
  calls = 0
  callsOf = new Map<string, number>()
  inFlight = new Map<string, number>()
  maxInFlight = 0
  /** What the probes that start from now on do (decided when each starts). */
  outcome: 'answer' | 'fail' = 'answer'
  /** How long the probes that start from now on take. */
  ms = 0
  /** Probes that start from now on wait for `releaseWaiting()`. */
  held = false
  private readonly waiting: Array<() => void> = []

  readonly fn = async (peerId: string): Promise<void> => {
    const outcome = this.outcome
    this.calls++
    this.callsOf.set(peerId, (this.callsOf.get(peerId) ?? 0) + 1)
    const now = (this.inFlight.get(peerId) ?? 0) + 1
    this.inFlight.set(peerId, now)
    this.maxInFlight = Math.max(this.maxInFlight, now)
    try {
      if (this.held) await new Promise<void>(resolve => { this.waiting.push(resolve) })
      else if (this.ms > 0) await delay(this.ms)
      if (outcome === 'fail') throw new Error('no answer')
    } finally {
      this.inFlight.set(peerId, (this.inFlight.get(peerId) ?? 1) - 1)
    }
  }

  /** Let the probes waiting now finish (those started later wait while `held`). */
  releaseWaiting (): void {
    for (const resolve of this.waiting.splice(0)) resolve()
  }
}

/** Intervals created with INTERVAL_MS and not cleared yet: what PeerWatch still has running. */
const liveIntervals = new Set<unknown>()
const realSetInterval = globalThis.setInterval
const realClearInterval = globalThis.clearInterval

beforeEach(() => {
  liveIntervals.clear()
  globalThis.setInterval = ((callback: (...args: any[]) => void, ms?: number, ...args: any[]) => {
    const timer = realSetInterval(callback, ms, ...args)
    if (ms === INTERVAL_MS) liveIntervals.add(timer)
    return timer
  }) as typeof setInterval
  globalThis.clearInterval = ((timer?: Parameters<typeof clearInterval>[0]) => {
    liveIntervals.delete(timer)
    realClearInterval(timer)
  }) as typeof clearInterval
})

afterEach(() => {
  globalThis.setInterval = realSetInterval
  globalThis.clearInterval = realClearInterval
  // A test that failed midway must not leave probing timers behind for the next one.
  for (const timer of liveIntervals) realClearInterval(timer as NodeJS.Timeout)
  liveIntervals.clear()
})

/** Runs `body` with a PeerWatch that is stopped afterwards, whatever happens. */
async function withWatch (probe: Probe, body: (watch: PeerWatch) => Promise<void>): Promise<void> {
  const watch = new PeerWatch({ probe: probe.fn, intervalMs: INTERVAL_MS })
  try {
    await body(watch)
  } finally {
    watch.stop()
  }
}

async function waitForCalls (probe: Probe, count: number, what: string): Promise<void> {
  assert.ok(await waitFor(() => probe.calls >= count, BOUND_MS, 2), `${what}: only ${probe.calls} probes, expected ${count}`)
}

test('onSilent is called only after PROBE_FAILURES_LOST failed probes in a row, then again after as many more', async () => {
  assert.ok(PROBE_FAILURES_LOST >= 2, 'one missed probe must not count as silence')
  const probe = new Probe()
  probe.outcome = 'fail'
  probe.held = true
  await withWatch(probe, async watch => {
    const silences: number[] = []
    watch.watch('peer-a', () => { silences.push(probe.calls) })
    const failures = 2 * PROBE_FAILURES_LOST
    for (let failure = 1; failure <= failures; failure++) {
      await waitForCalls(probe, failure, `failure ${failure}`)
      // While this probe hangs: exactly the silences of the failures before it.
      assert.equal(silences.length, Math.floor((failure - 1) / PROBE_FAILURES_LOST), `before failure ${failure}`)
      if (failure === failures) {
        probe.held = false
        probe.outcome = 'answer'
      }
      probe.releaseWaiting()
    }
    assert.ok(await waitFor(() => silences.length === 2, BOUND_MS, 2))
    await delay(QUIET_MS) // answered probes from here on: no more silences
    assert.deepEqual(silences, [PROBE_FAILURES_LOST, 2 * PROBE_FAILURES_LOST])
  })
})

test('an answered probe resets the count: failures that are not in a row never make a peer silent', async () => {
  const probe = new Probe()
  const script: Array<'answer' | 'fail'> = []
  for (let i = 0; i < 30; i++) script.push(...Array.from({ length: PROBE_FAILURES_LOST - 1 }, () => 'fail' as const), 'answer')
  const silences: number[] = []
  const watch = new PeerWatch({
    intervalMs: INTERVAL_MS,
    probe: async peerId => {
      probe.outcome = script[probe.calls] ?? 'answer'
      await probe.fn(peerId)
    }
  })
  try {
    watch.watch('peer-b', () => { silences.push(probe.calls) })
    await waitForCalls(probe, script.length, 'scripted probes')
  } finally {
    watch.stop()
  }
  assert.deepEqual(silences, [], `silent after ${silences.join(', ')} probes although no ${PROBE_FAILURES_LOST} failures were in a row`)
})

test('every watcher of a peer hears of its silence; one that unwatched does not', async () => {
  const probe = new Probe()
  probe.outcome = 'fail'
  await withWatch(probe, async watch => {
    const heard: string[] = []
    watch.watch('peer-c', () => { heard.push('first') })
    const unwatchSecond = watch.watch('peer-c', () => { heard.push('second') })
    unwatchSecond()
    watch.watch('peer-c', () => { heard.push('third') })
    watch.watch('peer-d', () => { heard.push('other peer') })
    assert.equal(liveIntervals.size, 2, 'one timer per peer')
    assert.ok(await waitFor(() => heard.filter(h => h === 'first').length >= 1 && heard.includes('other peer'), BOUND_MS, 2))
    assert.ok(!heard.includes('second'))
    assert.ok(heard.includes('third'))
  })
})

test('probing stops when the last watcher of a peer unwatches, and its timer is cleared', async () => {
  const probe = new Probe()
  await withWatch(probe, async watch => {
    const unwatchA = watch.watch('peer-e', () => {})
    const unwatchB = watch.watch('peer-e', () => {})
    const other = watch.watch('peer-f', () => {})
    await waitForCalls(probe, 4, 'probes while watched')
    unwatchA()
    const before = probe.callsOf.get('peer-e') ?? 0
    await delay(10 * INTERVAL_MS)
    assert.ok((probe.callsOf.get('peer-e') ?? 0) > before, 'one watcher left: probing goes on')
    unwatchB()
    unwatchB() // unwatching twice is harmless
    await delay(2 * INTERVAL_MS) // a probe already started may finish
    const stopped = probe.callsOf.get('peer-e') ?? 0
    await delay(QUIET_MS)
    assert.equal(probe.callsOf.get('peer-e') ?? 0, stopped, 'peer-e is still probed after its last watcher left')
    assert.equal(liveIntervals.size, 1, 'only peer-f\'s timer is left')
    other()
    assert.equal(liveIntervals.size, 0)
  })
})

test('a slow probe is never run twice at once for one peer', async () => {
  const probe = new Probe()
  probe.ms = 12 * INTERVAL_MS
  await withWatch(probe, async watch => {
    watch.watch('peer-g', () => {})
    watch.watch('peer-h', () => {})
    await delay(QUIET_MS)
    assert.ok(probe.calls >= 4, `only ${probe.calls} probes`)
    assert.equal(probe.maxInFlight, 1, `${probe.maxInFlight} probes of one peer ran at once`)
    // At most one probe per slow-probe time, not one per interval.
    const perPeer = probe.callsOf.get('peer-g') ?? 0
    assert.ok(perPeer <= Math.ceil(QUIET_MS / probe.ms) + 1, `${perPeer} probes of peer-g in ${QUIET_MS} ms with probes taking ${probe.ms} ms`)
  })
})

test('a peer unwatched and watched again while its probe hangs is still probed once at a time', async () => {
  // A follower re-attaching drops its watch and takes it again; a cut link makes the probe hang for its whole deadline.
  const probe = new Probe()
  probe.held = true
  await withWatch(probe, async watch => {
    let unwatch = watch.watch('peer-i', () => {})
    await waitForCalls(probe, 1, 'first probe')
    for (let i = 0; i < 5; i++) {
      unwatch()
      unwatch = watch.watch('peer-i', () => {})
      await delay(3 * INTERVAL_MS)
    }
    const most = probe.maxInFlight
    unwatch()
    probe.held = false
    probe.releaseWaiting()
    assert.equal(most, 1, `node/src/master/peer-watch.ts: ${most} probes of one peer ran at once after unwatch/watch (a new Watched entry starts with probing = false while the old probe still runs)`)
  })
})

test('stop() ends everything: no more probes, no timer left, no onSilent afterwards, even from a probe in flight', async () => {
  const probe = new Probe()
  probe.outcome = 'fail'
  probe.held = true
  const watch = new PeerWatch({ probe: probe.fn, intervalMs: INTERVAL_MS })
  const heard: string[] = []
  try {
    watch.watch('peer-j', () => { heard.push('j') })
    watch.watch('peer-k', () => { heard.push('k') })
    const started = async (count: number): Promise<boolean> => waitFor(() => (probe.callsOf.get('peer-j') ?? 0) >= count && (probe.callsOf.get('peer-k') ?? 0) >= count, BOUND_MS, 1)
    // One failed probe each, then one more each that hangs until after stop().
    assert.ok(await started(1))
    probe.releaseWaiting()
    assert.ok(await started(2))
    assert.deepEqual(heard, [], 'silent after one failure')
  } finally {
    watch.stop()
  }
  assert.equal(liveIntervals.size, 0, `${liveIntervals.size} probe timers left after stop()`)
  const calls = probe.calls
  probe.held = false
  probe.releaseWaiting() // the probes in flight fail now, after stop(): their second failure in a row
  await delay(QUIET_MS)
  assert.equal(probe.calls, calls, 'probes ran after stop()')
  assert.deepEqual(heard, [],
    'node/src/master/peer-watch.ts: probes in flight at stop() still counted their failures and called onSilent after stop()')
  watch.stop() // stopping twice is harmless
  assert.doesNotThrow(() => { watch.watch('peer-l', () => {})() }, 'watching after stop works and can be undone')
  assert.equal(liveIntervals.size, 0)
})
