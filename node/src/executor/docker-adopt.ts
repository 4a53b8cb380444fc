import type Docker from 'dockerode'
import { statusCodeOf } from './docker-errors.ts'
import type { ExecutionObserver, FoundContainer, RecordedOutput, TaskKey } from './executor.ts'
import { containerName, LABEL_ATTEMPT, LABEL_NODE, LABEL_TASK_ID } from './host-config.ts'

/**
 * A task's container as a restarted node finds it. One that was created but never started
 * (the node died between create and start) is removed: the task runs afresh.
 */
export async function findContainer (docker: Docker, task: TaskKey): Promise<FoundContainer | undefined> {
  const container = docker.getContainer(containerName(task.taskId, task.attempt))
  let info: Docker.ContainerInspectInfo
  try {
    info = await container.inspect()
  } catch (err) {
    if (statusCodeOf(err) === 404) return undefined
    throw err
  }
  if (info.State.Status === 'created') {
    await container.remove({ force: true, v: true }).catch(() => {})
    return undefined
  }
  const gpuDeviceIds = (info.HostConfig.DeviceRequests ?? []).flatMap(request => request.DeviceIDs ?? [])
  return { containerId: info.Id, gpuDeviceIds }
}

/** The tasks of the containers labelled as this node's (the engine may be shared by several nodes). */
export async function listTaskIds (docker: Docker, nodeId: string): Promise<TaskKey[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${nodeId}`] } })
  return containers.flatMap(container => {
    const taskId = container.Labels[LABEL_TASK_ID]
    return taskId != null ? [{ taskId, attempt: Number(container.Labels[LABEL_ATTEMPT] ?? 1) }] : []
  })
}

/**
 * New output of one stream waits in memory up to this much while the other stream's replay
 * is still being checked: the engine logs its two streams within a few writes of the order
 * the node saw them in, so more means the replay is not what was recorded.
 */
export const MAX_HELD_REPLAY_BYTES = 1024 * 1024

type OutputStream = 'stdout' | 'stderr'

/** One stream's recorded bytes, as far as the replay has not shown them again yet. */
interface StreamCheck {
  left: number
  chunks: Iterator<Uint8Array>
  /** The rest of the recorded chunk being compared. */
  chunk: Uint8Array
}

/**
 * Where an adopted container's output goes on from. The engine replays its json-file log
 * from the oldest entry it still has: the container's first byte, unless the log rotated
 * while the node was down. Each stream's replay is checked byte for byte against what was
 * recorded; once both streams have shown all their recorded bytes, the rest is new and is
 * passed on. A replay that differs, or that ends without showing every recorded byte, began
 * later: what the container wrote between the recorded output and that point is lost. Then
 * the observer hears `onOutputGap` once and nothing more is passed on, so the output kept
 * is exactly what was recorded. (With nothing recorded there is nothing to check against.)
 */
export class ReplayAligner {
  private readonly observer: ExecutionObserver
  private readonly checks: Record<OutputStream, StreamCheck>
  private held: Array<{ stream: OutputStream, chunk: Uint8Array }> = []
  private heldBytes = 0
  private phase: 'checking' | 'following' | 'lost'

  constructor (recorded: RecordedOutput, observer: ExecutionObserver) {
    this.observer = observer
    const check = (stream: OutputStream, bytes: number): StreamCheck => ({ left: bytes, chunks: recorded.chunks(stream), chunk: new Uint8Array(0) })
    this.checks = { stdout: check('stdout', recorded.stdoutBytes), stderr: check('stderr', recorded.stderrBytes) }
    this.phase = this.checked() ? 'following' : 'checking'
  }

  /** The sink for the engine's replay. */
  readonly onLog = async (stream: OutputStream, chunk: Uint8Array): Promise<void> => {
    if (this.phase === 'following') {
      await this.observer.onLog(stream, chunk)
      return
    }
    if (this.phase === 'lost') return
    const matched = matchRecorded(this.checks[stream], chunk)
    if (matched === undefined) {
      this.lose()
      return
    }
    if (matched < chunk.byteLength) {
      this.held.push({ stream, chunk: chunk.subarray(matched) })
      this.heldBytes += chunk.byteLength - matched
      if (this.heldBytes > MAX_HELD_REPLAY_BYTES) {
        this.lose()
        return
      }
    }
    if (!this.checked()) return
    this.phase = 'following'
    const held = this.held
    this.held = []
    this.heldBytes = 0
    for (const piece of held) await this.observer.onLog(piece.stream, piece.chunk)
  }

  /** The replay is over (the container exited, its output drained): recorded bytes it never showed mean it began later. */
  end (): void {
    if (this.phase === 'checking') this.lose()
  }

  private checked (): boolean {
    return this.checks.stdout.left === 0 && this.checks.stderr.left === 0
  }

  private lose (): void {
    this.phase = 'lost'
    this.held = []
    this.heldBytes = 0
    this.observer.onOutputGap?.()
  }
}

/** How many leading bytes of `data` are the stream's next recorded ones (all of it once none are left); undefined at the first difference. */
function matchRecorded (check: StreamCheck, data: Uint8Array): number | undefined {
  let offset = 0
  while (offset < data.byteLength && check.left > 0) {
    if (check.chunk.byteLength === 0) {
      const next = check.chunks.next()
      // Fewer bytes stored than counted: nothing left to prove the replay right with.
      if (next.done === true) return undefined
      check.chunk = next.value
      continue
    }
    const length = Math.min(check.chunk.byteLength, data.byteLength - offset, check.left)
    if (Buffer.compare(data.subarray(offset, offset + length), check.chunk.subarray(0, length)) !== 0) return undefined
    check.chunk = check.chunk.subarray(length)
    check.left -= length
    offset += length
  }
  return offset
}
