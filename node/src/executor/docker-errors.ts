import { CloudaiError } from '../errors.ts'
import type { ExecutionErrorCode } from './executor.ts'

/** A task that could not run, or an engine that failed under it; `code` is what callers test. */
export class ExecutionError extends CloudaiError {
  override readonly code: ExecutionErrorCode

  constructor (code: ExecutionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** Socket errors that mean nothing answers at the engine's address (or we may not talk to it). */
const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])

/** The HTTP status the engine answered with, when the failure came from an answer at all. */
export function statusCodeOf (err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof code === 'number' ? code : undefined
}

/**
 * The engine's own words for a failure. docker-modem wraps them as
 * `(HTTP code 404) no such container - <message>`; anything else thrown (dockerode
 * can reject with non-Errors) is turned into text.
 */
export function engineMessage (err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const json = (err as { json?: unknown }).json
    if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
      return (json as { message: string }).message.trim()
    }
    const message = (err as { message?: unknown }).message
    if (typeof message === 'string') return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()
  }
  return String(err).trim()
}

/** Whether `err` says the engine cannot be reached at all (as opposed to answering with an error). */
export function isUnreachable (err: unknown): boolean {
  if (statusCodeOf(err) !== undefined) return false
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && UNREACHABLE_CODES.has(code)
}

export function unreachableError (err: unknown): ExecutionError {
  return new ExecutionError('ENGINE_UNREACHABLE',
    `the Docker engine does not answer (${engineMessage(err)}). Start Docker on this node (e.g. "systemctl start docker") and check that this user may use its socket (DOCKER_HOST, else /var/run/docker.sock).`)
}

/** Any failure of the engine while it was in charge of the task. */
export function engineError (doing: string, err: unknown): ExecutionError {
  if (isUnreachable(err)) return unreachableError(err)
  return new ExecutionError('ENGINE_ERROR',
    `the Docker engine failed while ${doing}: ${engineMessage(err)}. Check the engine's health ("docker info", its logs) and submit the task again.`)
}

/** Failures of a pull, or of looking the image up before one. */
export function pullError (image: string, err: unknown): ExecutionError {
  if (isUnreachable(err)) return unreachableError(err)
  const message = engineMessage(err)
  if (statusCodeOf(err) === 400 || /invalid reference format/i.test(message)) {
    return new ExecutionError('INVALID_SPEC', `"${image}" is not a valid image reference (${message}). Write it as [registry/]name[:tag], e.g. 127.0.0.1:5000/cloudai/busybox:1.`)
  }
  if (statusCodeOf(err) === 404 || /manifest unknown|not found|repository does not exist|pull access denied|name unknown/i.test(message)) {
    return new ExecutionError('IMAGE_NOT_FOUND', `image "${image}" was not found: ${message}. Check the name and tag, and that the registry holds it (push it there first, or log this node in if the registry needs it).`)
  }
  return new ExecutionError('PULL_FAILED', `pulling image "${image}" failed: ${message}. Check that this node reaches the registry, then submit the task again.`)
}

/** The engine's answer to a create from an image it does not hold ("No such image: …"). */
export function isMissingImage (err: unknown): boolean {
  return statusCodeOf(err) === 404 && /no such image/i.test(engineMessage(err))
}

/** Failures of container create; the engine answers 400 for settings it refuses. */
export function createError (name: string, err: unknown): ExecutionError {
  if (isUnreachable(err)) return unreachableError(err)
  const message = engineMessage(err)
  switch (statusCodeOf(err)) {
    case 400:
      return new ExecutionError('INVALID_SPEC', `the Docker engine refused the task's settings: ${message}. Change the task's resources or options to what this node supports.`)
    case 409:
      return new ExecutionError('CREATE_FAILED', `a container named ${name} already exists (${message}): this task id already runs here. Use a new task id, or remove the old container with "docker rm -f ${name}".`)
    default:
      return new ExecutionError('CREATE_FAILED', `creating the container failed: ${message}. Check the engine ("docker info") and the task's options, then submit it again.`)
  }
}

/**
 * Failures of container start, classified as `docker run` does (cli/command/container/run.go):
 * "executable file not found" or "no such file or directory" exit 127, "permission denied"
 * or "is a directory" exit 126, anything else 125.
 */
export function startError (image: string, err: unknown): ExecutionError {
  if (isUnreachable(err)) return unreachableError(err)
  const message = engineMessage(err)
  // runc says: "... unable to start container process: exec: "x": executable file not found in $PATH: unknown"
  const reason = /unable to start container process: (.*?)(?:: unknown)?$/.exec(message)?.[1] ?? message
  if (/executable file not found|no such file or directory|cannot find the file specified/i.test(message)) {
    return new ExecutionError('COMMAND_NOT_FOUND', `the command was not found in image ${image} (${reason}). Check its spelling, give its full path inside the image, or install it in the image.`)
  }
  if (/permission denied|is a directory/i.test(message)) {
    return new ExecutionError('COMMAND_NOT_EXECUTABLE', `the command cannot be executed in image ${image} (${reason}). Point it at an executable file (chmod +x it in the image), or run a script through its interpreter, e.g. -- sh /path/to/script.`)
  }
  return engineError('starting the container', err)
}
