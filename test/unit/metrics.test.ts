import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { conventionalGauges } from '../../node/src/metrics/exposition.ts'
import { NodeMetrics } from '../../node/src/metrics/node-metrics.ts'
import { LogStream, TaskState, TransferDirection } from '../../node/src/protocol/task-messages.ts'
import { TaskHistory } from '../../node/src/tasks/task-history.ts'
import { storedEvent, storedSpec, tempStore } from '../helpers/store.ts'

const AMOUNTS = { cpu: 2, memoryBytes: 4 * 2 ** 30, storageBytes: 10 * 2 ** 30, gpus: 0 }

function metricsOver (store = tempStore()): { metrics: NodeMetrics, store: ReturnType<typeof tempStore> } {
  const metrics = new NodeMetrics()
  metrics.attach({
    status: () => ({ name: 'n', version: 'v', capacity: AMOUNTS, allocated: { ...AMOUNTS, cpu: 0.5 }, running: 1, queued: 3, labels: {}, executorHealthy: true, executorDetail: '', storageEnforced: false, members: [] }),
    peers: () => [
      { reachable: true, executorHealthy: true }, { reachable: true, executorHealthy: false }, { reachable: false, executorHealthy: true }
    ] as any,
    tasks: new TaskHistory(store)
  })
  return { metrics, store }
}

/** The value of one sample line (`name{labels} value`). */
function sample (text: string, line: string): number | undefined {
  const found = text.split('\n').find(l => l.startsWith(`${line} `))
  return found != null ? Number(found.slice(line.length + 1)) : undefined
}

describe('the metrics', () => {
  test('a task sent to the node itself counts for both roles: its worker stores the events, and the submitter\'s row moves on them', async () => {
    const { metrics, store } = metricsOver()
    const id = 'mx7krg3f-5e1f0000aaaa'
    for (const role of ['submitted', 'executed'] as const) store.createTask({ spec: storedSpec(id), role, peerId: 'self', peerName: 'n' })
    const events = [storedEvent(id, 1, TaskState.RUNNING), { ...storedEvent(id, 2, TaskState.SUCCEEDED), exit: { code: 0, oomKilled: false, timedOut: false } }]
    for (const event of events) {
      // The worker records first; the master records the same event, which the store holds already.
      assert.equal(store.recordEvent('executed', 1, event), true)
      store.commit()
      assert.equal(store.recordEvent('submitted', 1, event), false, 'stored once')
      store.commit()
    }
    const text = await metrics.text()
    for (const role of ['submitted', 'executed'] as const) {
      assert.equal(sample(text, `cloudai_tasks_finished_total{role="${role}",state="SUCCEEDED"}`), 1, role)
      assert.equal(sample(text, `cloudai_task_state_changes_total{role="${role}",state="RUNNING"}`), 1, role)
      assert.equal(store.task(id, role)?.state, TaskState.SUCCEEDED, role)
    }
    metrics.stop()
  })

  test('tasks by role and state, their end, duration and output bytes, from what the store records; no task id in any label', async () => {
    const { metrics, store } = metricsOver()
    const id = 'mx7krg3f-3fce9d48be26'
    store.createTask({ spec: storedSpec(id), role: 'executed', peerId: 'p', peerName: 'm' })
    store.recordEvent('executed', 1, storedEvent(id, 1, TaskState.RUNNING))
    store.recordEvent('executed', 1, storedEvent(id, 2, TaskState.RUNNING, { log: { stream: LogStream.STDOUT, data: new Uint8Array(10), segments: [] } }))
    store.recordEvent('executed', 1, storedEvent(id, 3, TaskState.RUNNING, { log: { stream: LogStream.STDERR, data: new Uint8Array(4), segments: [] } }))
    // Output that switched streams: each segment counted for its own.
    store.recordEvent('executed', 1, storedEvent(id, 4, TaskState.RUNNING, { log: { stream: LogStream.STDOUT, data: new Uint8Array(7), segments: [{ stream: LogStream.STDOUT, length: 3 }, { stream: LogStream.STDERR, length: 4 }] } }))
    // Seen twice (a re-attach): counted once.
    store.recordEvent('executed', 1, storedEvent(id, 3, TaskState.RUNNING, { log: { stream: LogStream.STDERR, data: new Uint8Array(4), segments: [] } }))
    const end = { ...storedEvent(id, 5, TaskState.SUCCEEDED), timeMs: 1_700_000_000_001 + 2_500, exit: { code: 0, oomKilled: false, timedOut: false } }
    store.recordEvent('executed', 1, end)
    store.recordEvent('executed', 1, end)
    store.commit() // the watchers hear of the writes once they are on disk
    const text = await metrics.text()
    assert.equal(sample(text, 'cloudai_tasks{role="executed",state="SUCCEEDED"}'), 1)
    assert.equal(sample(text, 'cloudai_tasks_finished_total{role="executed",state="SUCCEEDED"}'), 1)
    assert.equal(sample(text, 'cloudai_task_state_changes_total{role="executed",state="RUNNING"}'), 1)
    assert.equal(sample(text, 'cloudai_task_output_bytes_total{role="executed",stream="stdout"}'), 13)
    assert.equal(sample(text, 'cloudai_task_output_bytes_total{role="executed",stream="stderr"}'), 8)
    assert.equal(sample(text, 'cloudai_task_duration_seconds_count{role="executed",state="SUCCEEDED"}'), 1)
    assert.equal(sample(text, 'cloudai_task_duration_seconds_bucket{le="2",role="executed",state="SUCCEEDED"}'), 0)
    assert.equal(sample(text, 'cloudai_task_duration_seconds_bucket{le="5",role="executed",state="SUCCEEDED"}'), 1)
    assert.equal(sample(text, 'cloudai_queue_length'), 3)
    assert.equal(sample(text, 'cloudai_allocated_cpu'), 0.5)
    assert.equal(sample(text, 'cloudai_capacity_memory_bytes'), 4 * 2 ** 30)
    for (const health of ['reachable', 'engine_down', 'unreachable']) assert.equal(sample(text, `cloudai_peers{health="${health}"}`), 1)
    assert.ok(!text.includes(id) && !text.includes('mx7krg3f'), 'a task id is never a label value')
    metrics.stop()
  })

  test('bytes of task files moved, from the worker\'s cumulative transfer events, and of images received from peers', async () => {
    const { metrics, store } = metricsOver()
    const id = 'mx7krg3f-3fce9d48be27'
    store.createTask({ spec: storedSpec(id), role: 'executed', peerId: 'p', peerName: 'm' })
    store.recordEvent('executed', 1, storedEvent(id, 1, TaskState.STARTING))
    store.recordEvent('executed', 1, storedEvent(id, 2, TaskState.STARTING, { transfer: { direction: TransferDirection.INPUTS, doneBytes: 1000, doneFiles: 1 } }))
    store.recordEvent('executed', 1, storedEvent(id, 3, TaskState.STARTING, { transfer: { direction: TransferDirection.INPUTS, doneBytes: 2500, doneFiles: 3 } }))
    // Seen twice (a re-attach): counted once.
    store.recordEvent('executed', 1, storedEvent(id, 3, TaskState.STARTING, { transfer: { direction: TransferDirection.INPUTS, doneBytes: 2500, doneFiles: 3 } }))
    store.recordEvent('executed', 1, storedEvent(id, 4, TaskState.RUNNING, { transfer: { direction: TransferDirection.OUTPUTS, doneBytes: 700, doneFiles: 2 } }))
    store.commit() // the watchers hear of the writes once they are on disk
    metrics.onImageBytes(4096)
    metrics.onImageBytes(1024)
    const text = await metrics.text()
    assert.equal(sample(text, 'cloudai_task_file_bytes_total{direction="inputs"}'), 2500)
    assert.equal(sample(text, 'cloudai_task_file_bytes_total{direction="outputs"}'), 700)
    assert.equal(sample(text, 'cloudai_image_bytes_received_total'), 5120)
    metrics.stop()
  })

  test('refusals are counted by what was asked and why', async () => {
    const { metrics } = metricsOver()
    metrics.onRefusal({ peer: 'x', action: 'submit', code: 'RATE_LIMITED', reason: 'r', taskId: 't-1' })
    metrics.onRefusal({ peer: 'y', action: 'submit', code: 'RATE_LIMITED', reason: 'r', taskId: 't-2' })
    const text = await metrics.text()
    assert.equal(sample(text, 'cloudai_refusals_total{action="submit",reason="RATE_LIMITED"}'), 2)
    assert.ok(!text.includes('t-1'))
    metrics.stop()
  })
})

describe('libp2p\'s exposition, made conventional', () => {
  test('gauges named like counters lose _total; gauges in milliseconds become seconds; counters and the rest are untouched', () => {
    const input = [
      '# HELP libp2p_streams_total streams', '# TYPE libp2p_streams_total gauge', 'libp2p_streams_total{protocol="a"} 3', 'libp2p_streams_total 4',
      '# HELP libp2p_ping_time_milliseconds ping', '# TYPE libp2p_ping_time_milliseconds gauge', 'libp2p_ping_time_milliseconds{peer="x"} 1500',
      '# HELP libp2p_dials_total dials', '# TYPE libp2p_dials_total counter', 'libp2p_dials_total 7',
      '# TYPE libp2p_queue gauge', 'libp2p_queue 2', ''
    ].join('\n')
    assert.equal(conventionalGauges(input), [
      '# HELP libp2p_streams streams', '# TYPE libp2p_streams gauge', 'libp2p_streams{protocol="a"} 3', 'libp2p_streams 4',
      '# HELP libp2p_ping_time_seconds ping', '# TYPE libp2p_ping_time_seconds gauge', 'libp2p_ping_time_seconds{peer="x"} 1.5',
      '# HELP libp2p_dials_total dials', '# TYPE libp2p_dials_total counter', 'libp2p_dials_total 7',
      '# TYPE libp2p_queue gauge', 'libp2p_queue 2', ''
    ].join('\n'))
  })

  test('odd input passes through unchanged', () => {
    for (const text of ['', '\n\n', '# TYPE x_total gauge', 'garbage line {{{', '# TYPE  gauge', 'x_total{a="}"} 1']) {
      assert.doesNotThrow(() => conventionalGauges(text))
    }
    assert.equal(conventionalGauges('a_total 1\n# TYPE b gauge\nb 2'), 'a_total 1\n# TYPE b gauge\nb 2')
  })
})
