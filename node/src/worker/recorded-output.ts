import type { RecordedOutput } from '../executor/executor.ts'
import { LogStream } from '../protocol/task-messages.ts'
import { outputPieces } from '../protocol/task-output.ts'
import type { TaskStore } from '../store/store.ts'

/** Events read from the store at a time while a replay is checked: at most this many chunks of 64 KiB in memory per stream. */
const EVENTS_PER_READ = 64

/** What a task had recorded of its output, for the executor to check an adopted container's replay against. */
export function recordedOutput (store: TaskStore, taskId: string, attempt: number): RecordedOutput {
  const { stdoutBytes, stderrBytes } = store.outputTotals(taskId, attempt)
  return {
    stdoutBytes,
    stderrBytes,
    chunks: stream => storedChunks(store, taskId, attempt, stream === 'stderr' ? LogStream.STDERR : LogStream.STDOUT)
  }
}

/** One stream's stored output, in order, read a batch of events at a time. */
function * storedChunks (store: TaskStore, taskId: string, attempt: number, stream: LogStream): Generator<Uint8Array> {
  for (let fromSeq = 1; ;) {
    const events = store.events(taskId, attempt, fromSeq, EVENTS_PER_READ)
    if (events.length === 0) return
    for (const event of events) {
      if (event.log == null) continue
      for (const piece of outputPieces(event.log)) {
        if (piece.stream === stream) yield piece.data
      }
    }
    fromSeq = events[events.length - 1].seq + 1
  }
}
