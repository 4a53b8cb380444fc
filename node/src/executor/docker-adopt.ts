import type Docker from 'dockerode'
import { statusCodeOf } from './docker-errors.ts'
import type { ExecutionObserver, FoundContainer, RecordedOutput } from './executor.ts'
import { containerName, LABEL_NODE, LABEL_TASK_ID } from './host-config.ts'

/**
 * A task's container as a restarted node finds it. One that was created but never started
 * (the node died between create and start) is removed: the task runs afresh.
 */
export async function findContainer (docker: Docker, taskId: string): Promise<FoundContainer | undefined> {
  const container = docker.getContainer(containerName(taskId))
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

/** Task ids of the containers labelled as this node's (the engine may be shared by several nodes). */
export async function listTaskIds (docker: Docker, nodeId: string): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${nodeId}`] } })
  return containers.map(container => container.Labels[LABEL_TASK_ID]).filter((id): id is string => id != null)
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
