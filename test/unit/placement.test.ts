import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  exclusionReason, FRESH_STATUS_MS, LINKED_STATUS_LAG_MS, MORE_PROBES, NoPlacementError, place, PROBE_ALL_UP_TO, PROBES_PER_TASK, score,
  type CandidateStatus, type Placement, type PlacementPolicy, type PlacementRequest
} from '../../node/src/master/placement.ts'
import { PendingPlacements } from '../../node/src/master/pending.ts'
import { MAX_REFUSALS, retryDecision } from '../../node/src/master/retry.ts'
import { TaskState, type TaskEvent } from '../../node/src/protocol/task-messages.ts'
import type { ResourceAmounts } from '../../node/src/resources.ts'
import type { AttemptRecord, PlacementRecord } from '../../node/src/store/store.ts'

/**
 * Automatic placement and retries (docs/architecture.md): which peers `auto` leaves out and
 * why, how it probes and chooses among the rest, and when a task goes on as another attempt.
 */

const GiB = 2 ** 30
const IDLE: ResourceAmounts = { cpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }
const CAPACITY: ResourceAmounts = { cpu: 4, memoryBytes: 8 * GiB, storageBytes: 100 * GiB, gpus: 0 }
const NEED: ResourceAmounts = { cpu: 1, memoryBytes: GiB, storageBytes: GiB, gpus: 0 }

function peer (name: string, extra: Partial<CandidateStatus> = {}): CandidateStatus {
  return {
    peerId: `12D3Koo-${name}`,
    name,
    capacity: { ...CAPACITY },
    allocated: { ...IDLE },
    running: 0,
    queued: 0,
    labels: {},
    executorHealthy: true,
    executorDetail: 'docker 27.5.1',
    ...extra
  }
}

/** A peer holding `cpu` cores of its 4 (and nothing else). */
function loaded (name: string, cpu: number, extra: Partial<CandidateStatus> = {}): CandidateStatus {
  return peer(name, { allocated: { ...IDLE, cpu }, running: Math.ceil(cpu), ...extra })
}

function request (extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return { need: { ...NEED }, policy: 'spread', constraints: {}, count: 1, exclude: new Set(), ...extra }
}

/** A probe that answers with what membership knew, and records whom it asked. */
function recordingProbe (answers: Map<string, CandidateStatus | Error> = new Map()): { probe: (p: CandidateStatus) => Promise<CandidateStatus>, asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    probe: async candidate => {
      asked.push(candidate.name)
      const answer = answers.get(candidate.name)
      if (answer instanceof Error) throw answer
      return answer ?? candidate
    }
  }
}

async function placeAll (candidates: CandidateStatus[], req: PlacementRequest): Promise<Placement> {
  return await place(candidates, req, recordingProbe().probe)
}

// --- exclusionReason ------------------------------------------------------------------------

test('exclusionReason: a peer that could ever run the task has none, however busy it is now', () => {
  assert.equal(exclusionReason(peer('a'), request()), undefined)
  assert.equal(exclusionReason(peer('a', { allocated: { ...CAPACITY }, queued: 40 }), request()), undefined, 'full now is not "never"')
  assert.equal(exclusionReason(peer('a'), request({ need: { ...CAPACITY } })), undefined, 'the whole node fits an empty node')
  assert.equal(exclusionReason(peer('a', { labels: { zone: 'x', disk: 'ssd' } }), request({ constraints: { zone: 'x', disk: 'ssd' } })), undefined)
})

test('exclusionReason: each thing a task needs that a peer lacks, with the numbers', () => {
  const gpu = request({ need: { ...NEED, gpus: 1 } })
  assert.equal(exclusionReason(peer('a'), gpu), 'the task needs 1 GPU, it has 0')
  assert.equal(exclusionReason(peer('a', { capacity: { ...CAPACITY, gpus: 1 } }), gpu), undefined)
  assert.equal(exclusionReason(peer('a'), request({ need: { ...NEED, cpu: 8 } })), 'the task needs 8 CPU, it has 4')
  assert.equal(exclusionReason(peer('a'), request({ need: { ...NEED, cpu: 4.5 } })), 'the task needs 4.5 CPU, it has 4')
  assert.equal(exclusionReason(peer('a'), request({ need: { ...NEED, memoryBytes: 16 * GiB } })), 'the task needs 16 GiB memory, it has 8 GiB')
  assert.equal(exclusionReason(peer('a'), request({ need: { ...NEED, storageBytes: 200 * GiB } })), 'the task needs 200 GiB storage, it has 100 GiB')
  assert.equal(exclusionReason(peer('a'), request({ need: { cpu: 8, memoryBytes: 16 * GiB, storageBytes: GiB, gpus: 2 } })),
    'the task needs 2 GPU, it has 0; 8 CPU, it has 4; 16 GiB memory, it has 8 GiB', 'every resource that is short, in one line')
})

test('exclusionReason: a label constraint the peer does not carry, or carries with another value', () => {
  const zone = request({ constraints: { zone: 'x' } })
  assert.equal(exclusionReason(peer('a'), zone), 'it has no label zone (needs zone=x)')
  assert.equal(exclusionReason(peer('a', { labels: { zone: 'y' } }), zone), 'its label zone is y, not x')
  assert.equal(exclusionReason(peer('a', { labels: { zone: 'x' } }), request({ constraints: { zone: 'x', gpu: 'a100' } })), 'it has no label gpu (needs gpu=a100)', 'every constraint must hold')
})

test('exclusionReason: an unhealthy executor, with its detail, and a peer an earlier attempt ran on', () => {
  assert.equal(exclusionReason(peer('a', { executorHealthy: false, executorDetail: 'cannot reach the Docker engine at /var/run/docker.sock' }), request()),
    'its executor is unhealthy (cannot reach the Docker engine at /var/run/docker.sock)')
  const a = peer('a')
  assert.equal(exclusionReason(a, request({ exclude: new Set([a.peerId]) })), 'an earlier attempt of this task ran there')
  assert.equal(exclusionReason(a, request({ exclude: new Set([peer('b').peerId]) })), undefined)
})

// --- place: exclusions and probes -----------------------------------------------------------

test('place: peers that can never run the task are left out with their reasons, and never probed', async () => {
  const candidates = [
    peer('nogpu', { labels: { zone: 'x' } }),
    peer('small', { capacity: { ...CAPACITY, cpu: 0.5 }, labels: { zone: 'x' } }),
    peer('tiny', { capacity: { ...CAPACITY, memoryBytes: GiB / 2 }, labels: { zone: 'x' } }),
    peer('nolabel', { capacity: { ...CAPACITY, gpus: 1 } }),
    peer('otherzone', { capacity: { ...CAPACITY, gpus: 1 }, labels: { zone: 'y' } }),
    peer('sick', { capacity: { ...CAPACITY, gpus: 1 }, labels: { zone: 'x' }, executorHealthy: false, executorDetail: 'engine gone' }),
    peer('tried', { capacity: { ...CAPACITY, gpus: 1 }, labels: { zone: 'x' } }),
    peer('good', { capacity: { ...CAPACITY, gpus: 1 }, labels: { zone: 'x' } })
  ]
  const { probe, asked } = recordingProbe()
  const placement = await place(candidates, request({ need: { ...NEED, gpus: 1 }, constraints: { zone: 'x' }, exclude: new Set([candidates[6].peerId]) }), probe)
  assert.deepEqual(asked, ['good'], 'only the one eligible peer is probed')
  assert.deepEqual(placement.choices.map(choice => choice.name), ['good'])
  assert.deepEqual(placement.probed.map(p => p.name), ['good'])
  assert.deepEqual(Object.fromEntries(placement.excluded.map(e => [e.name, e.reason])), {
    nogpu: 'the task needs 1 GPU, it has 0',
    small: 'the task needs 1 GPU, it has 0; 1 CPU, it has 0.5',
    tiny: 'the task needs 1 GPU, it has 0; 1 GiB memory, it has 512 MiB',
    nolabel: 'it has no label zone (needs zone=x)',
    otherzone: 'its label zone is y, not x',
    sick: 'its executor is unhealthy (engine gone)',
    tried: 'an earlier attempt of this task ran there'
  })
  for (const e of placement.excluded) assert.equal(e.peerId, `12D3Koo-${e.name}`)
})

test('place: a peer whose probe fails is left out with the reason, and another is chosen', async () => {
  const { probe, asked } = recordingProbe(new Map([['gone', new Error('the dial timed out')]]))
  const placement = await place([peer('gone'), loaded('busy', 3)], request(), probe)
  assert.deepEqual(asked.sort(), ['busy', 'gone'])
  assert.deepEqual(placement.excluded, [{ peerId: '12D3Koo-gone', name: 'gone', reason: 'it did not answer a status probe (the dial timed out)' }])
  assert.deepEqual(placement.choices.map(choice => choice.name), ['busy'], 'the idle peer that did not answer is not chosen')
})

test('place: the fresh answer of a probe counts over what membership knew (an executor gone unhealthy, a label changed)', async () => {
  const answers = new Map<string, CandidateStatus>([
    ['a', peer('a', { executorHealthy: false, executorDetail: 'engine stopped', labels: { zone: 'x' } })],
    ['b', peer('b', { labels: { zone: 'y' } })]
  ])
  const { probe } = recordingProbe(answers)
  await assert.rejects(place([peer('a', { labels: { zone: 'x' } }), peer('b', { labels: { zone: 'x' } })], request({ constraints: { zone: 'x' } }), probe), (err: any) => {
    assert.equal(err.name, 'NoPlacementError')
    assert.deepEqual(Object.fromEntries((err as NoPlacementError).excluded.map(e => [e.name, e.reason])), {
      a: 'its executor is unhealthy (engine stopped)',
      b: 'its label zone is y, not x'
    })
    return true
  })
})

test('place: NoPlacementError names every peer with its reason; with no peers it says none are known', async () => {
  const candidates = [peer('alpha'), peer('beta', { capacity: { ...CAPACITY, gpus: 1 }, labels: { zone: 'y' } }), peer('gamma', { capacity: { ...CAPACITY, gpus: 2 } })]
  const { probe } = recordingProbe(new Map([['gamma', new Error('stream reset')]]))
  const err = await place(candidates, request({ need: { ...NEED, gpus: 1 }, constraints: {} }), async p => {
    if (p.name === 'beta') throw new Error('connection refused')
    return await probe(p)
  }).then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof NoPlacementError, `expected NoPlacementError, got ${String(err)}`)
  assert.equal(err.name, 'NoPlacementError')
  const [first, ...lines] = err.message.split('\n')
  assert.equal(first, 'no peer can run this task:')
  assert.deepEqual(lines.sort(), [
    '  alpha (12D3Koo-alpha): the task needs 1 GPU, it has 0',
    '  beta (12D3Koo-beta): it did not answer a status probe (connection refused)',
    '  gamma (12D3Koo-gamma): it did not answer a status probe (stream reset)'
  ])
  assert.deepEqual(err.excluded.map(e => e.name).sort(), ['alpha', 'beta', 'gamma'])

  const none = await place([], request(), recordingProbe().probe).then(() => undefined, (e: unknown) => e)
  assert.ok(none instanceof NoPlacementError)
  assert.equal(none.message, 'no peer can run this task:\n  no peers are known (see "cloudai peers")')
  assert.deepEqual(none.excluded, [])
})

// --- place: the choice ----------------------------------------------------------------------

test('place: spread chooses the least loaded peer that fits now, binpack the most loaded', async () => {
  const candidates = (): CandidateStatus[] => [loaded('quiet', 1), loaded('busy', 2)]
  const spread = await placeAll(candidates(), request({ policy: 'spread' }))
  assert.deepEqual(spread.choices, [{ peerId: '12D3Koo-quiet', name: 'quiet', reason: 'least loaded of 2 probed that fit now (50% after placing); all 2 eligible peers probed' }])
  assert.deepEqual(spread.probed.map(p => [p.name, p.score, p.fitsNow]), [['quiet', 0.5, true], ['busy', 0.75, true]], 'best first, with the score the policy gave')
  const binpack = await placeAll(candidates(), request({ policy: 'binpack' }))
  assert.deepEqual(binpack.choices, [{ peerId: '12D3Koo-busy', name: 'busy', reason: 'most loaded of 2 probed that fit now (75% after placing); all 2 eligible peers probed' }])
  assert.deepEqual(binpack.probed.map(p => p.name), ['busy', 'quiet'])
})

test('place: binpack takes the most loaded only among the peers the task fits on now', async () => {
  const placement = await placeAll([loaded('full', 3.5), loaded('half', 2)], request({ policy: 'binpack' }))
  assert.deepEqual(placement.choices.map(c => c.name), ['half'], '1 CPU does not fit next to 3.5 of 4')
  assert.deepEqual(placement.probed.map(p => [p.name, p.fitsNow]), [['half', true], ['full', false]])
})

test('place: the load is the busiest resource, memory and GPUs as well as CPU', async () => {
  const memoryBound = peer('mem', { allocated: { ...IDLE, memoryBytes: 6 * GiB } })
  const cpuBound = loaded('cpu', 2)
  const placement = await placeAll([memoryBound, cpuBound], request())
  assert.deepEqual(placement.choices.map(c => c.name), ['cpu'], '7 of 8 GiB is busier than 3 of 4 CPU')
  assert.equal(score(memoryBound, NEED, 'spread'), 7 / 8)
  assert.equal(score(cpuBound, NEED, 'spread'), 3 / 4)
  assert.equal(score(cpuBound, NEED, 'binpack'), 1 / 4)
})

test('place: a peer with a queue loses to one the task fits on now, whatever its numbers; among queues the shortest wins', async () => {
  for (const policy of ['spread', 'binpack'] as PlacementPolicy[]) {
    const placement = await placeAll([loaded('queueing', 0, { queued: 1 }), loaded('busy', 3)], request({ policy }))
    assert.deepEqual(placement.choices.map(c => c.name), ['busy'], `${policy}: an idle ledger with a queue is full for a newcomer`)
    assert.equal(placement.probed.find(p => p.name === 'queueing')?.fitsNow, false)
  }
  const queues = await placeAll([loaded('long', 4, { queued: 5 }), loaded('short', 4, { queued: 2 })], request())
  assert.deepEqual(queues.choices, [{ peerId: '12D3Koo-short', name: 'short', reason: 'no probed peer has room now; shortest queue of 2 probed (2 waiting); all 2 eligible peers probed' }])
  assert.ok(score(loaded('x', 0, { queued: 1 }), NEED, 'spread') > score(loaded('y', 4), { ...NEED, cpu: 0 }, 'spread'), 'any queue scores worse than any fit')
  assert.ok(score(loaded('x', 4, { queued: 1 }), NEED, 'spread') < score(loaded('y', 4, { queued: 2 }), NEED, 'spread'))
})

test('place: copies of a batch are booked as they are placed: spread puts them on different peers, binpack fills one first', async () => {
  const idle = (): CandidateStatus[] => ['a', 'b', 'c'].map(name => peer(name))
  const twoCpu = { ...NEED, cpu: 2 }
  const spread = await placeAll(idle(), request({ need: twoCpu, count: 3 }))
  assert.deepEqual(spread.choices.map(c => c.name).sort(), ['a', 'b', 'c'], 'three copies on three idle peers')
  const binpack = await placeAll(idle(), request({ need: twoCpu, count: 3, policy: 'binpack' }))
  const names = binpack.choices.map(c => c.name)
  assert.equal(names[0], names[1], `binpack puts the second copy beside the first: ${names.join(', ')}`)
  assert.notEqual(names[2], names[0], 'the third no longer fits there')

  // Two peers of 4 CPU, five copies of 2: two on each, then the fifth queues behind one of them.
  const crowded = await placeAll([peer('a'), peer('b')], request({ need: twoCpu, count: 5 }))
  const counts = crowded.choices.slice(0, 4).reduce<Record<string, number>>((n, c) => ({ ...n, [c.name]: (n[c.name] ?? 0) + 1 }), {})
  assert.deepEqual(counts, { a: 2, b: 2 })
  assert.match(crowded.choices[4].reason, /^no probed peer has room now; shortest queue of 2 probed \(0 waiting\); all 2 eligible peers probed$/)
  const sixth = await placeAll([peer('a'), peer('b')], request({ need: twoCpu, count: 6 }))
  assert.notEqual(sixth.choices[5].name, sixth.choices[4].name, 'the sixth queues behind the other peer: the fifth was booked as queued')
})

test('place: spread gives a copy to the peer holding fewer of the batch when scores tie (a status still showing a task that just ended)', async () => {
  // c's pushed status still shows one task; after a copy each on a and b, all three score the same.
  const candidates = [peer('a'), peer('b'), loaded('c', 1, { allocated: { ...NEED } })]
  for (let round = 0; round < 5; round++) {
    const placed = await placeAll(candidates, request({ count: 3 }))
    assert.deepEqual(placed.choices.map(c => c.name).sort(), ['a', 'b', 'c'], placed.choices.map(c => c.reason).join('\n'))
  }
})

test('place: booking a batch changes nothing the caller holds (the membership view stays as it was)', async () => {
  const candidates = [peer('a'), peer('b')]
  const before = structuredClone(candidates)
  const placement = await placeAll(candidates, request({ count: 6 }))
  assert.deepEqual(candidates, before)
  assert.deepEqual(placement.probed.map(p => p.allocated), [IDLE, IDLE], 'probed shows the status as probed, not as booked')
})

test(`place: up to ${PROBE_ALL_UP_TO} eligible peers are all probed; past that ${PROBES_PER_TASK} × count, each once`, async () => {
  for (const n of [1, 2, 3, PROBE_ALL_UP_TO]) {
    const { probe, asked } = recordingProbe()
    const placement = await place(Array.from({ length: n }, (_, i) => peer(`p${i}`)), request(), probe)
    assert.equal(asked.length, n, `${n} eligible peers: all asked`)
    assert.match(placement.choices[0].reason, n === 1 ? /; the one eligible peer probed$/ : new RegExp(`; all ${n} eligible peers probed$`))
  }
  const candidates = Array.from({ length: 20 }, (_, i) => peer(`p${i}`))
  for (const [count, expected] of [[1, PROBES_PER_TASK], [3, 3 * PROBES_PER_TASK], [10, 20], [30, 20]]) {
    const { probe, asked } = recordingProbe()
    const placement = await place(candidates, request({ count, need: { ...NEED, cpu: 0.1 } }), probe)
    assert.equal(asked.length, expected, `count ${count}`)
    assert.equal(new Set(asked).size, asked.length, `count ${count}: a peer probed twice`)
    assert.equal(placement.probed.length, expected)
    assert.equal(placement.choices.length, count)
  }
  const one = recordingProbe()
  await place([peer('only'), peer('gpu-less')], request({ need: { ...NEED, gpus: 1 } }), one.probe).catch(() => {})
  assert.deepEqual(one.asked, [], 'nothing eligible: nothing probed')

  // Over many placements on a large mesh of equals every peer is probed some time: ties are broken at random.
  const seen = new Set<string>()
  for (let i = 0; i < 300; i++) {
    const { probe, asked } = recordingProbe()
    await place(candidates, request(), probe)
    for (const name of asked) seen.add(name)
  }
  assert.equal(seen.size, candidates.length)
})

/**
 * A small cluster that runs what is placed on it: each peer's truth is what its worker
 * holds; membership's view is as of the start (a refresh every few seconds shows nothing of
 * a burst), and a probe answers the truth.
 */
function liveCluster (peers: CandidateStatus[]): { view: CandidateStatus[], probe: (p: CandidateStatus) => Promise<CandidateStatus>, run: (placement: Placement, need: ResourceAmounts) => void, held: () => Record<string, number>, queued: () => number } {
  const truth = new Map(peers.map(p => [p.peerId, structuredClone(p)]))
  return {
    view: structuredClone(peers),
    probe: async p => structuredClone(truth.get(p.peerId)!),
    run: (placement, need) => {
      for (const choice of placement.choices) {
        const worker = truth.get(choice.peerId)!
        if (worker.queued === 0 && worker.allocated.cpu + need.cpu <= worker.capacity.cpu) {
          worker.allocated.cpu += need.cpu
          worker.running++
        } else worker.queued++
      }
    },
    held: () => Object.fromEntries([...truth.values()].map(p => [p.name, p.allocated.cpu])),
    queued: () => [...truth.values()].reduce((n, p) => n + p.queued, 0)
  }
}

test('place: six 1-CPU tasks, one after another, on three idle 2-CPU peers land 2-2-2 and none waits', async () => {
  const twoCpu = { ...CAPACITY, cpu: 2 }
  const oneCpu = { ...NEED, cpu: 1 }
  // Two random probes of three leave a task queued behind two full peers next to one with room, often: repeat to see it.
  for (let round = 0; round < 50; round++) {
    const cluster = liveCluster(['a', 'b', 'c'].map(name => peer(name, { capacity: twoCpu })))
    for (let task = 0; task < 6; task++) {
      const placement = await place(cluster.view, request({ need: oneCpu }), cluster.probe)
      assert.ok(placement.probed.some(p => p.name === placement.choices[0].name && p.fitsNow), `round ${round}, task ${task + 1}: ${placement.choices[0].reason}`)
      cluster.run(placement, oneCpu)
    }
    assert.deepEqual(cluster.held(), { a: 2, b: 2, c: 2 }, `round ${round}`)
    assert.equal(cluster.queued(), 0, `round ${round}`)
  }
})

test(`place: past ${PROBE_ALL_UP_TO} peers, when the probed have no room, it probes those last known to have room before queueing`, async () => {
  // Twenty peers; membership last saw p3 and p5 idle and p7 half full, the rest full. In
  // truth p3 and p5 have filled up since, and p7 has room.
  const full = { ...IDLE, cpu: 4 }
  const truth = Array.from({ length: 20 }, (_, i) => peer(`p${i}`, { allocated: i === 7 ? { ...IDLE } : full, running: i === 7 ? 0 : 4 }))
  const view = truth.map((p, i) => i === 3 || i === 5 ? peer(p.name) : i === 7 ? loaded(p.name, 2) : p)
  const { probe, asked } = recordingProbe(new Map(truth.map(p => [p.name, p])))
  const placement = await place(view, request(), probe)
  assert.ok(['p3', 'p5'].includes(asked[0]), `the first probe goes to the best known: ${asked.join(' ')}`)
  // One more at random; then, unless that was p7, those last known to have room and not yet asked: never the full ones beyond that.
  assert.ok(asked.includes('p7') && asked.length <= 4, `asked: ${asked.join(' ')}`)
  assert.equal(new Set(asked).size, asked.length, 'a peer asked twice')
  assert.deepEqual(placement.choices.map(c => c.name), ['p7'])
  assert.match(placement.choices[0].reason, /^least loaded of [234] probed that fit now \(25% after placing\); [234] of 20 eligible peers probed: /)

  // When the view says nobody else has room, it queues after the first probes, and says why.
  const { probe: probeFull, asked: askedFull } = recordingProbe(new Map(truth.map(p => [p.name, p.name === 'p7' ? loaded('p7', 4) : p])))
  const queued = await place(truth.map((p, i) => i === 3 || i === 5 ? peer(p.name) : p.name === 'p7' ? loaded('p7', 4) : p), request(), probeFull)
  assert.ok(askedFull.length === 2 || (askedFull.length === 3 && !askedFull.slice(0, 2).every(name => ['p3', 'p5'].includes(name))), `only those last known to have room are asked: ${askedFull.join(' ')}`)
  assert.match(queued.choices[0].reason, /^no probed peer has room now; shortest queue of [23] probed \(0 waiting\); /)
})

test('place: the master\'s own placements since a peer was last seen count in whom to probe first', async () => {
  const candidates = Array.from({ length: 20 }, (_, i) => peer(`p${i}`, { seenAt: 1_000 }))
  // Every peer but p11 and p12 has, as far as this master knows, just been given 4 CPU.
  const adjust = (p: CandidateStatus, at: number): CandidateStatus => (p.name === 'p11' || p.name === 'p12' || at > 1_000 ? p : loaded(p.name, 4))
  for (let i = 0; i < 20; i++) {
    const { probe, asked } = recordingProbe()
    const placement = await place(candidates, request({ adjust }), probe)
    assert.ok(['p11', 'p12'].includes(asked[0]), `the best known is asked first: ${asked.join(' ')}`)
    assert.ok(['p11', 'p12'].includes(placement.choices[0].name))
  }
})

test(`place: a status seen within ${FRESH_STATUS_MS} ms counts as a probe's answer; while any status is that fresh, no one else is asked`, async () => {
  const now = Date.now()
  const candidates = [peer('fresh', { seenAt: now - 10 }), loaded('fresh-busy', 3, { seenAt: now }), peer('stale', { seenAt: now - FRESH_STATUS_MS - 1_000 }), peer('unknown')]
  const answers = new Map([['stale', loaded('stale', 4)], ['unknown', loaded('unknown', 4)]])
  const { probe, asked } = recordingProbe(answers)
  const placement = await place(candidates, request(), probe)
  assert.deepEqual(asked, [])
  assert.deepEqual(placement.probed.map(p => p.name).sort(), ['fresh', 'fresh-busy'])
  assert.deepEqual(placement.choices.map(c => c.name), ['fresh'])
  assert.match(placement.choices[0].reason, /; 2 of 4 eligible peers probed: those whose status is current/)
  // The master's placements since the fresh status was seen count on it.
  const busied = await place(candidates, request({ adjust: (p, at) => (p.name === 'fresh' && at === now - 10 ? loaded('fresh', 4, { seenAt: at }) : p) }), recordingProbe(answers).probe)
  assert.deepEqual(busied.choices.map(c => c.name), ['fresh-busy'])
  // None of them fresh: every one is asked.
  const allStale = candidates.map(c => ({ ...c, seenAt: now - FRESH_STATUS_MS - 1_000 }))
  const asking = recordingProbe(answers)
  await place(allStale, request(), asking.probe)
  assert.deepEqual(asking.asked.sort(), ['fresh', 'fresh-busy', 'stale', 'unknown'])
})

test('place: a linked peer\'s status is current however old its last change; when the current ones have no room, those last known to have room are asked before queueing', async () => {
  const now = Date.now()
  const linkedIdle = peer('linked-idle', { seenAt: now - 60_000, linked: true })
  const stale = peer('stale', { seenAt: now - 60_000 })
  const { probe, asked } = recordingProbe()
  const seenAt: number[] = []
  const placement = await place([linkedIdle, stale], request({ adjust: (p, at) => { if (p.name === 'linked-idle') seenAt.push(at); return p } }), probe)
  assert.deepEqual(asked, [])
  assert.deepEqual(placement.choices.map(c => c.name), ['linked-idle'])
  // What the master placed on it within a status check of now is counted on top of its status.
  assert.ok(seenAt.every(at => at >= now - LINKED_STATUS_LAG_MS && at <= Date.now() - LINKED_STATUS_LAG_MS + 50), `judged as of ${seenAt.map(at => now - at).join(', ')} ms ago`)
  const linkedFull = loaded('linked-full', 4, { seenAt: now - 60_000, linked: true })
  const probing = recordingProbe()
  const roomy = await place([linkedFull, stale], request(), probing.probe)
  assert.deepEqual(probing.asked, ['stale'])
  assert.deepEqual(roomy.choices.map(c => c.name), ['stale'])
})

// --- place: properties ----------------------------------------------------------------------

const resourcesArb = (max: ResourceAmounts): fc.Arbitrary<ResourceAmounts> => fc.record({
  cpu: fc.integer({ min: 0, max: max.cpu * 2 }).map(n => n / 2),
  memoryBytes: fc.integer({ min: 0, max: max.memoryBytes / GiB }).map(n => n * GiB),
  storageBytes: fc.integer({ min: 0, max: max.storageBytes / GiB }).map(n => n * GiB),
  gpus: fc.integer({ min: 0, max: max.gpus })
})

const candidateArb = (index: number): fc.Arbitrary<CandidateStatus> => fc.record({
  capacity: resourcesArb({ cpu: 8, memoryBytes: 16 * GiB, storageBytes: 16 * GiB, gpus: 2 }),
  share: fc.double({ min: 0, max: 1.2, noNaN: true }),
  queued: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 })),
  zone: fc.constantFrom(undefined, 'x', 'y'),
  healthy: fc.integer({ min: 0, max: 3 }).map(n => n > 0)
}).map(({ capacity, share, queued, zone, healthy }) => peer(`n${index}`, {
  capacity,
  allocated: {
    cpu: Math.round(capacity.cpu * share * 2) / 2,
    memoryBytes: Math.round(capacity.memoryBytes * share / GiB) * GiB,
    storageBytes: Math.round(capacity.storageBytes * share / GiB) * GiB,
    gpus: Math.round(capacity.gpus * share)
  },
  queued,
  labels: zone != null ? { zone } : {},
  executorHealthy: healthy,
  executorDetail: healthy ? 'ok' : 'engine down'
}))

const scenarioArb = fc.integer({ min: 0, max: 12 }).chain(n => fc.record({
  candidates: fc.tuple(...Array.from({ length: n }, (_, i) => candidateArb(i))).map(list => list as CandidateStatus[]),
  need: resourcesArb({ cpu: 4, memoryBytes: 8 * GiB, storageBytes: 8 * GiB, gpus: 1 }),
  policy: fc.constantFrom<PlacementPolicy>('spread', 'binpack'),
  constraint: fc.constantFrom(undefined, 'x', 'y'),
  count: fc.integer({ min: 1, max: 6 }),
  excluded: fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 4 }),
  failing: fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 })
}))

test('place (property): never a peer left out, exactly `count` choices from the probed, the probes bounded, the best first, never a queue while a peer that answers has room', async () => {
  await fc.assert(fc.asyncProperty(scenarioArb, async s => {
    const req = request({
      need: s.need,
      policy: s.policy,
      constraints: s.constraint != null ? { zone: s.constraint } : {},
      count: s.count,
      exclude: new Set(s.excluded.map(i => `12D3Koo-n${i}`))
    })
    const failing = new Set(s.failing.map(i => `n${i}`))
    const asked: string[] = []
    const outcome = await place(s.candidates, req, async p => {
      asked.push(p.name)
      if (failing.has(p.name)) throw new Error('no answer')
      return p
    }).then(placement => ({ placement }), (err: any) => ({ err }))
    const neverFit = new Set(s.candidates.filter(p => exclusionReason(p, req) != null).map(p => p.name))
    assert.ok(asked.length <= Math.max(PROBE_ALL_UP_TO, PROBES_PER_TASK * s.count + MORE_PROBES), `${asked.length} probes`)
    assert.ok(asked.every(name => !neverFit.has(name)), 'a peer that can never run it was probed')
    const eligible = s.candidates.length - neverFit.size
    if (eligible <= PROBE_ALL_UP_TO) assert.equal(asked.length, eligible, 'few eligible peers: every one probed')
    else assert.ok(asked.length >= Math.min(eligible, PROBES_PER_TASK * s.count), 'as many probes as allowed, when there are peers to probe')
    if ('err' in outcome) {
      assert.equal(outcome.err.name, 'NoPlacementError', String(outcome.err))
      // Every peer that was looked at is in the error, each with a reason.
      const named = new Set((outcome.err as NoPlacementError).excluded.map(e => e.name))
      for (const name of [...neverFit, ...asked]) assert.ok(named.has(name), `${name} is missing from the error`)
      assert.ok(asked.every(name => failing.has(name)), 'it gave up though a probed peer answered and could run it')
      return
    }
    const { placement } = outcome
    assert.equal(placement.choices.length, s.count)
    const probedNames = new Set(placement.probed.map(p => p.name))
    const excludedNames = new Set(placement.excluded.map(e => e.name))
    for (const choice of placement.choices) {
      assert.ok(probedNames.has(choice.name), `${choice.name} was chosen without being probed`)
      assert.ok(!excludedNames.has(choice.name) && !neverFit.has(choice.name) && !failing.has(choice.name), `${choice.name} was left out, yet chosen`)
      assert.ok(!req.exclude.has(choice.peerId), 'an excluded peer was chosen')
    }
    for (const name of probedNames) assert.ok(!excludedNames.has(name), `${name} is both probed and left out`)
    assert.deepEqual([...neverFit].filter(name => !excludedNames.has(name)), [], 'a peer that can never run it is not listed with its reason')
    const scores = placement.probed.map(p => p.score)
    assert.deepEqual(scores, [...scores].sort((a, b) => a - b), 'probed is best first')
    assert.equal(placement.choices[0].name, placement.probed[0].name, 'the first copy goes to the best probed peer')
    if (placement.probed.some(p => p.fitsNow)) assert.ok(placement.probed.find(p => p.name === placement.choices[0].name)!.fitsNow, 'a peer with room now was passed over')
    // Here membership's view is the truth: a peer that answers and has room is never left unprobed for a queue.
    const roomy = s.candidates.filter(p => !neverFit.has(p.name) && !failing.has(p.name) && score(p, req.need, req.policy) < 2)
    if (roomy.length > 0) assert.ok(placement.probed.find(p => p.name === placement.choices[0].name)!.fitsNow, `queued next to room: ${placement.choices[0].reason}`)
  }), { numRuns: 400 })
})

// --- retryDecision --------------------------------------------------------------------------

function ended (state: TaskState, code?: string, exitCode?: number): TaskEvent {
  return {
    taskId: 't', seq: 9, timeMs: 0, state,
    ...(code != null ? { error: { code, message: `${code} happened` } } : {}),
    ...(exitCode != null ? { exit: { code: exitCode, oomKilled: false, timedOut: false } } : {})
  }
}

function placed (target: string, retries: number, retryOnExit = false): PlacementRecord {
  return { target, retries, retryOnExit }
}

function attempts (...outcomes: Array<[TaskState, string?]>): AttemptRecord[] {
  return outcomes.map(([state, code], i) => ({
    attempt: i + 1, peerId: `12D3Koo-w${i}`, peerName: `w${i}`, state, createdMs: 0, finishedMs: 1,
    ...(code != null ? { errorCode: code, errorMessage: `${code} happened` } : {})
  }))
}

const AUTO_REFUSALS = ['QUEUE_FULL', 'NEVER_FITS', 'POLICY', 'PEER_UNREACHABLE']
const NODE_FAILURES = ['ENGINE_UNREACHABLE', 'ENGINE_ERROR', 'CONTAINER_GONE', 'CREATE_FAILED', 'PULL_FAILED']

test('retryDecision: a worker\'s refusal of an auto task tries the next candidate for free, up to MAX_REFUSALS', () => {
  for (const code of AUTO_REFUSALS) {
    assert.equal(retryDecision(ended(TaskState.REJECTED, code), placed('auto', 0), []), 'free', code)
    assert.equal(retryDecision(ended(TaskState.REJECTED, code), placed('auto', 0), attempts(...Array.from({ length: MAX_REFUSALS - 1 }, () => [TaskState.REJECTED, code] as [TaskState, string]))), 'free', `${code}: refusal ${MAX_REFUSALS}`)
  }
  const many = attempts(...Array.from({ length: MAX_REFUSALS }, () => [TaskState.REJECTED, 'QUEUE_FULL'] as [TaskState, string]))
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'QUEUE_FULL'), placed('auto', 0), many), undefined, `after ${MAX_REFUSALS} refusals, without --retries, it ends`)
  // A named target is what the user asked for: a refusal ends it unless retries are left.
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'QUEUE_FULL'), placed('beta', 0), []), undefined)
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'QUEUE_FULL'), placed('beta', 1), []), 'counted')
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'QUEUE_FULL'), placed('beta', 1), attempts([TaskState.REJECTED, 'QUEUE_FULL'])), undefined)
})

test('retryDecision: a lost attempt, an engine failure and (with --retry-on-exit) a non-zero exit use up the retries', () => {
  for (const target of ['auto', 'beta']) {
    const lost = ended(TaskState.LOST, 'LOST')
    assert.equal(retryDecision(lost, placed(target, 0), []), undefined, `${target}: LOST without retries stays LOST`)
    assert.equal(retryDecision(lost, placed(target, 1), []), 'counted', target)
    assert.equal(retryDecision(lost, placed(target, 1), attempts([TaskState.LOST, 'LOST'])), undefined, `${target}: the one retry is used`)
    assert.equal(retryDecision(lost, placed(target, 2), attempts([TaskState.LOST, 'LOST'])), 'counted', target)
    assert.equal(retryDecision(lost, placed(target, 2), attempts([TaskState.LOST, 'LOST'], [TaskState.FAILED, 'ENGINE_ERROR'])), undefined, target)
    for (const code of NODE_FAILURES) {
      assert.equal(retryDecision(ended(TaskState.FAILED, code), placed(target, 1), []), 'counted', `${target}: ${code}`)
      assert.equal(retryDecision(ended(TaskState.FAILED, code), placed(target, 0), []), undefined, `${target}: ${code} without retries`)
    }
    const exit3 = ended(TaskState.FAILED, undefined, 3)
    assert.equal(retryDecision(exit3, placed(target, 3), []), undefined, `${target}: a non-zero exit is the task's own doing`)
    assert.equal(retryDecision(exit3, placed(target, 3, true), []), 'counted', `${target}: --retry-on-exit`)
    assert.equal(retryDecision(exit3, placed(target, 1, true), attempts([TaskState.FAILED])), undefined, `${target}: --retry-on-exit, retries used`)
    assert.equal(retryDecision(exit3, placed(target, 0, true), []), undefined, `${target}: --retry-on-exit without --retries`)
  }
})

test('retryDecision: never a success, a cancel, or what would fail anywhere (an invalid spec, a missing image, no placement)', () => {
  const never: TaskEvent[] = [
    ended(TaskState.SUCCEEDED, undefined, 0),
    ended(TaskState.CANCELLED),
    ended(TaskState.CANCELLED, undefined, 143),
    ended(TaskState.REJECTED, 'INVALID_SPEC'),
    ended(TaskState.FAILED, 'INVALID_SPEC'),
    ended(TaskState.FAILED, 'IMAGE_NOT_FOUND'),
    ended(TaskState.REJECTED, 'NO_PLACEMENT')
  ]
  for (const event of never) {
    for (const placement of [placed('auto', 5, true), placed('beta', 5, true), placed('auto', 0)]) {
      assert.equal(retryDecision(event, placement, []), undefined, `${event.state} ${event.error?.code ?? ''} (${JSON.stringify(placement)})`)
    }
  }
})

test('retryDecision: with auto, refusals do not use up --retries', () => {
  const refusals = attempts([TaskState.REJECTED, 'QUEUE_FULL'], [TaskState.REJECTED, 'NEVER_FITS'], [TaskState.REJECTED, 'PEER_UNREACHABLE'])
  assert.equal(retryDecision(ended(TaskState.LOST, 'LOST'), placed('auto', 1), refusals), 'counted', 'three refusals, then a loss: the one retry is still there')
  assert.equal(retryDecision(ended(TaskState.LOST, 'LOST'), placed('auto', 1), [...refusals, ...attempts([TaskState.LOST, 'LOST'])]), undefined)
  assert.equal(retryDecision(ended(TaskState.LOST, 'LOST'), placed('beta', 1), attempts([TaskState.REJECTED, 'QUEUE_FULL'])), undefined, 'a named target\'s refusal did use it')
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'QUEUE_FULL'), placed('auto', 1), attempts([TaskState.LOST, 'LOST'])), 'free', 'a refusal after the retry was used is still free')
})

test('retryDecision: a worker whose disk is full (STORE_FULL) is a refusal before the task runs and a node failure after', () => {
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'STORE_FULL'), placed('auto', 0), []), 'free', 'auto tries another node')
  assert.equal(retryDecision(ended(TaskState.REJECTED, 'STORE_FULL'), placed('beta', 0), []), undefined, 'a named node: the user hears why')
  assert.equal(retryDecision(ended(TaskState.FAILED, 'STORE_FULL'), placed('beta', 1), []), 'counted', 'ended while running: --retries applies')
  assert.equal(retryDecision(ended(TaskState.FAILED, 'STORE_FULL'), placed('auto', 0), []), undefined, 'without --retries it ends')
})

/** Run a task's attempts through retryDecision as the master does, until it ends; the decisions taken. */
function runAttempts (placement: PlacementRecord, outcomes: TaskEvent[]): Array<'free' | 'counted'> {
  const earlier: AttemptRecord[] = []
  const decisions: Array<'free' | 'counted'> = []
  for (const event of outcomes) {
    const decision = retryDecision(event, placement, earlier)
    if (decision == null) break
    decisions.push(decision)
    earlier.push({ attempt: earlier.length + 1, peerId: `w${earlier.length}`, peerName: '', state: event.state, createdMs: 0, ...(event.error != null ? { errorCode: event.error.code, errorMessage: event.error.message } : {}) })
  }
  return decisions
}

test('retryDecision (property): a task has at most 1 + MAX_REFUSALS + retries attempts (auto) or 1 + retries (a named peer), however its workers fail it', () => {
  // Outcomes as short names, so that a counterexample reads; refusals most of the time: long runs of them are where a bound would give way.
  const outcomeArb = fc.oneof(
    { arbitrary: fc.constantFrom(...AUTO_REFUSALS).map(code => `REJECTED ${code}`), weight: 12 },
    { arbitrary: fc.constantFrom(...NODE_FAILURES).map(code => `FAILED ${code}`), weight: 1 },
    { arbitrary: fc.constantFrom('LOST LOST', 'FAILED exit', 'SUCCEEDED exit'), weight: 1 }
  )
  const toEvent = (outcome: string): TaskEvent => {
    const [state, code] = outcome.split(' ')
    return code === 'exit' ? ended(state as TaskState, undefined, state === 'SUCCEEDED' ? 0 : 1) : ended(state as TaskState, code)
  }
  fc.assert(fc.property(fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.array(outcomeArb, { minLength: 40, maxLength: 40 }), (auto, retries, retryOnExit, outcomes) => {
    const decisions = runAttempts(placed(auto ? 'auto' : 'beta', retries, retryOnExit), outcomes.map(toEvent))
    const bound = auto ? MAX_REFUSALS + retries : retries
    assert.ok(decisions.length <= bound, `${decisions.length} further attempts (${decisions.join(' ')}), bound ${bound}; outcomes ${outcomes.slice(0, decisions.length + 1).join(', ')}. ` +
      'retryDecision never counts an auto refusal as a used retry, even one past MAX_REFUSALS, so with --retries ≥ 1 refusals go on without end')
    assert.ok(decisions.filter(d => d === 'free').length <= (auto ? MAX_REFUSALS : 0))
  }), { numRuns: 500 })
})

test(`retryDecision: an auto task with --retries 1 whose workers keep refusing it ends after ${MAX_REFUSALS} free tries and 1 counted one`, () => {
  const decisions = runAttempts(placed('auto', 1), Array.from({ length: 40 }, () => ended(TaskState.REJECTED, 'QUEUE_FULL')))
  assert.deepEqual(decisions, [...Array.from({ length: MAX_REFUSALS }, () => 'free'), 'counted'],
    `refusals past MAX_REFUSALS must use up --retries (retry.ts leaves every auto refusal out of the retries used); got ${decisions.length} further attempts: ${decisions.join(' ')}`)
})

// --- the master's own placements ------------------------------------------------------------

test('PendingPlacements: a placement counts on a status probed before the worker admitted it, and on none once the task ended', () => {
  const pending = new PendingPlacements()
  const worker = peer('w')
  pending.chosen(worker.peerId, 't1', NEED)
  assert.equal(pending.adjust(worker, Date.now()).allocated.cpu, 1, 'chosen, not yet admitted: counted on any status')
  const before = Date.now() - 1
  pending.admitted('t1')
  assert.equal(pending.adjust(worker, before).allocated.cpu, 1, 'a status probed before the admission does not show it')
  assert.equal(pending.adjust(worker, Date.now() + 1).allocated.cpu, 0, 'one probed after it does, by itself')
  pending.ended('t1')
  assert.equal(pending.adjust(worker, before).allocated.cpu, 0, 'ended: nothing left to count, even on an older status')
  pending.ended('t1')
  pending.ended('never-placed')
})

test('auto prefers, among peers the task fits on now, one that holds its image unless another is clearly less loaded, and says so', async () => {
  const imageId = `sha256:${'a'.repeat(64)}`
  // The holder is a little busier than the idle peer: spread alone would choose the idle one.
  const holder = loaded('holder', 0.25, { imageIds: [`sha256:${'b'.repeat(64)}`, imageId] })
  const idle = peer('idle')
  const chosen = await place([idle, holder], request({ imageId }), recordingProbe().probe)
  assert.equal(chosen.choices[0].name, 'holder')
  assert.match(chosen.choices[0].reason, /^holds the image already \(no transfer\), least loaded of 1 probed that fit now and hold it/)
  // Without an image ID, or with one nobody holds, the load decides as before, and --explain says no peer holds it.
  assert.equal((await place([idle, holder], request(), recordingProbe().probe)).choices[0].name, 'idle')
  const nobody = await place([idle, holder], request({ imageId: `sha256:${'c'.repeat(64)}` }), recordingProbe().probe)
  assert.equal(nobody.choices[0].name, 'idle')
  assert.match(nobody.choices[0].reason, /none of them holds the image/)
  // A holder far busier (half its CPU taken) loses to an idle peer; a full one loses to any peer with room.
  assert.equal((await place([idle, loaded('busy-holder', 2, { imageIds: [imageId] })], request({ imageId }), recordingProbe().probe)).choices[0].name, 'idle')
  const full = loaded('full-holder', 4, { imageIds: [imageId] })
  assert.equal((await place([idle, full], request({ imageId }), recordingProbe().probe)).choices[0].name, 'idle')
  assert.ok(score(full, NEED, 'spread', imageId) > score(idle, NEED, 'spread', imageId))
  // Copies of a batch still spread: the holder takes one, the next goes where there is less load.
  const batch = await place([peer('a', { imageIds: [imageId] }), peer('b'), peer('c')], request({ imageId, count: 3 }), recordingProbe().probe)
  assert.deepEqual(batch.choices.map(choice => choice.name).sort(), ['a', 'b', 'c'])
  assert.equal(batch.choices[0].name, 'a')
})
