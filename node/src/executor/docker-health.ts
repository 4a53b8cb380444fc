import { Docker } from './docker-client.ts'

/** An engine that does not answer a ping within this time counts as down. */
const DOCKER_PING_TIMEOUT_MS = 3_000

export interface ExecutorHealth {
  healthy: boolean
  /** The engine's version when healthy; otherwise why it is not. */
  detail: string
}

/** Ask the local Docker engine (DOCKER_HOST, else the default socket) whether it answers. */
export async function checkDockerHealth (docker: Docker = new Docker()): Promise<ExecutorHealth> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${DOCKER_PING_TIMEOUT_MS} ms`)) }, DOCKER_PING_TIMEOUT_MS)
  })
  try {
    const version = await Promise.race([docker.version(), deadline])
    return { healthy: true, detail: `docker ${version.Version} (API ${version.ApiVersion})` }
  } catch (err: any) {
    return { healthy: false, detail: `Docker engine unreachable: ${err?.message ?? String(err)}` }
  } finally {
    clearTimeout(timer)
  }
}
