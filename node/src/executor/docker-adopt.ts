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
 * An output sink that drops the first bytes of each stream, those recorded before the node
 * went down, and passes the rest on: the engine's log replay starts at the container's start.
 */
export function skipRecorded (recorded: RecordedOutput, observer: ExecutionObserver): ExecutionObserver['onLog'] {
  const skip = { stdout: recorded.stdoutBytes, stderr: recorded.stderrBytes }
  return async (stream, chunk) => {
    const dropped = Math.min(skip[stream], chunk.byteLength)
    skip[stream] -= dropped
    if (dropped < chunk.byteLength) await observer.onLog(stream, chunk.subarray(dropped))
  }
}
