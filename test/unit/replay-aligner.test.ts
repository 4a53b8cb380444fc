import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_HELD_REPLAY_BYTES, ReplayAligner } from '../../node/src/executor/docker-adopt.ts'
import type { ExecutionObserver, RecordedOutput } from '../../node/src/executor/executor.ts'

/**
 * An adopted container's output goes on exactly after what was recorded, or not at all
 *: the engine's replay is checked against the recorded bytes, and a
 * replay that does not start with them is a gap, never output passed off as what came next.
 */

type Stream = 'stdout' | 'stderr'

function recorded (stdout: string, stderr: string, chunkBytes = 3): RecordedOutput {
  const chunks = (text: string): Uint8Array[] => Array.from({ length: Math.ceil(text.length / chunkBytes) }, (_, i) => Buffer.from(text.slice(i * chunkBytes, (i + 1) * chunkBytes)))
  return { stdoutBytes: stdout.length, stderrBytes: stderr.length, chunks: stream => chunks(stream === 'stdout' ? stdout : stderr)[Symbol.iterator]() }
}

/** Feed the replay, piece by piece, and say what the observer was told. */
async function replay (record: RecordedOutput, pieces: Array<[Stream, string]>): Promise<string[]> {
  const seen: string[] = []
  const observer: ExecutionObserver = {
    onLog: (stream, chunk) => { seen.push(`${stream}:${Buffer.from(chunk).toString()}`) },
    onOutputGap: () => { seen.push('gap') }
  }
  const aligner = new ReplayAligner(record, observer)
  for (const [stream, text] of pieces) await aligner.onLog(stream, Buffer.from(text))
  aligner.end()
  return seen
}

test('a replay that starts with the recorded bytes goes on with what is new, on both streams, whatever the chunking', async () => {
  assert.deepEqual(await replay(recorded('line 1\nline 2\n', 'warn\n'), [['stdout', 'line 1\nli'], ['stderr', 'warn\n'], ['stdout', 'ne 2\nline 3\n'], ['stderr', 'more\n']]),
    ['stdout:line 3\n', 'stderr:more\n'])
})

test('new output of one stream waits while the other still shows recorded bytes, then comes in its order', async () => {
  assert.deepEqual(await replay(recorded('out\n', 'err\n'), [['stdout', 'out\nnew out\n'], ['stderr', 'er'], ['stdout', 'more out\n'], ['stderr', 'r\nnew err\n']]),
    ['stdout:new out\n', 'stdout:more out\n', 'stderr:new err\n'])
})

test('nothing recorded: the whole replay is new', async () => {
  assert.deepEqual(await replay(recorded('', ''), [['stdout', 'all of it\n']]), ['stdout:all of it\n'])
})

test('a replay that starts later than the recorded bytes is a gap: nothing after it passes, not even what looks new', async () => {
  assert.deepEqual(await replay(recorded('1\n2\n3\n', ''), [['stdout', '9\n10\n11\n12\n']]), ['gap'])
  // The same lines again further on (periodic output): the replay shows too few of them before it ends.
  assert.deepEqual(await replay(recorded('y\ny\ny\ny\n', ''), [['stdout', 'y\ny\n']]), ['gap'])
  // Recorded stderr never shown again, while new stdout piles up past what may wait.
  assert.deepEqual(await replay(recorded('', 'err\n'), [['stdout', 'x'.repeat(MAX_HELD_REPLAY_BYTES + 1)], ['stderr', 'err\n'], ['stdout', 'late\n']]), ['gap'])
})
