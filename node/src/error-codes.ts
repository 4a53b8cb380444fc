/**
 * What every error code means, in one table: the HTTP status the API answers with, the exit
 * code the CLI leaves with, and whether a task that ended with it may be placed again.
 * Errors are compared by class or by code, never by name or message. Dependency-free, so the
 * command line reads it without loading the node.
 */

/** Exit codes, as `docker run` gives them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** The task never ran (rejected, lost, pull failed, peer unreachable). */
  NOT_RUN: 125,
  CANNOT_INVOKE: 126,
  NOT_FOUND: 127
} as const

/**
 * How `--retries` and `auto` treat a task that ended with the code: `refusal`, the worker
 * would not take it (with `auto`, the next candidate is tried without using a retry);
 * `node-failure`, the node failed rather than the task (another node may well run it).
 */
export type Retry = 'refusal' | 'node-failure'

export interface CodeMeaning {
  /** The API's answer when a request fails with this code. */
  http?: number
  /** The CLI's exit code; for a task's error, only where the code decides it over the container's. */
  exit?: number
  retry?: Retry
}

const USAGE = { http: 400, exit: EXIT.USAGE }
const NOT_RUN = { exit: EXIT.NOT_RUN }
const UPSTREAM = { http: 502 }

export const ERROR_TABLE = {
  // Anything not foreseen.
  INTERNAL: { http: 500 },
  // The user's input.
  INVALID_VALUE: USAGE,
  INVALID_SPEC: USAGE,
  BAD_REQUEST: USAGE,
  BAD_JSON: USAGE,
  BAD_ADDRESS: USAGE,
  TOO_LARGE: { http: 413, exit: EXIT.USAGE },
  UNAUTHORIZED: { http: 401 },
  // A Host header that is not this machine's loopback (DNS rebinding): 421 Misdirected Request.
  BAD_HOST: { http: 421 },
  // A browser session's request that another page started (its Origin is not the API's own).
  CROSS_ORIGIN: { http: 403 },
  // Live dashboard feeds at once are bounded.
  TOO_MANY_CLIENTS: { http: 503 },
  NOT_FOUND: { http: 404 },
  // Which peer or task was meant.
  UNKNOWN_PEER: { http: 404, ...NOT_RUN },
  AMBIGUOUS_PEER: { http: 409, exit: EXIT.USAGE },
  UNKNOWN_TASK: { http: 404 },
  AMBIGUOUS_TASK: { http: 409, exit: EXIT.USAGE },
  FORBIDDEN: { http: 403 },
  TASK_ID_TAKEN: { http: 409 },
  NO_PLACEMENT: { http: 422, ...NOT_RUN },
  // Reaching peers.
  PEER_UNREACHABLE: { ...UPSTREAM, ...NOT_RUN, retry: 'refusal' },
  CONNECT_FAILED: UPSTREAM,
  NOT_MEMBER: UPSTREAM,
  WRONG_CLUSTER_KEY: UPSTREAM,
  PROTOCOL: UPSTREAM,
  DEADLINE: UPSTREAM,
  UNEXPECTED_END: UPSTREAM,
  UNKNOWN_REQUEST: UPSTREAM,
  STREAM_FAILED: {},
  BAD_RESPONSE: {},
  // This node's own files and state.
  SWARM_KEY: {},
  IDENTITY: {},
  DATA_DIR: {},
  BAD_POLICY: {},
  STORE_VERSION: {},
  DAEMON_RUNNING: {},
  NO_DAEMON: {},
  RESERVATION: {},
  // The disk under the data dir is (nearly) full: free space there. A worker refuses new
  // tasks and ends running ones with it (auto tries another node), and its master's own
  // `task` fails with it; nothing is lost from the store, and tasks are taken again once
  // there is room.
  STORE_FULL: { http: 507, ...NOT_RUN, retry: 'refusal' },
  // How a task ended (TaskErrorCode): a worker's refusals…
  QUEUE_FULL: { retry: 'refusal' },
  NEVER_FITS: { retry: 'refusal' },
  POLICY: { retry: 'refusal' },
  RATE_LIMITED: { retry: 'refusal' },
  // …failures of the node rather than of the task…
  ENGINE_UNREACHABLE: { retry: 'node-failure' },
  ENGINE_ERROR: { retry: 'node-failure' },
  CONTAINER_GONE: { retry: 'node-failure' },
  CREATE_FAILED: { retry: 'node-failure' },
  PULL_FAILED: { retry: 'node-failure' },
  LOST: { retry: 'node-failure' },
  // …and of the task itself.
  IMAGE_NOT_FOUND: {},
  COMMAND_NOT_FOUND: { exit: EXIT.NOT_FOUND },
  COMMAND_NOT_EXECUTABLE: { exit: EXIT.CANNOT_INVOKE },
  TIMEOUT: {},
  OOM_KILLED: {}
} satisfies Record<string, CodeMeaning>

export type ErrorCode = keyof typeof ERROR_TABLE

/** The codes a task's terminal event can carry (`error.code` on the wire and in the store). */
export type TaskErrorCode = 'INVALID_SPEC' | 'PEER_UNREACHABLE' | 'NO_PLACEMENT' |
  'QUEUE_FULL' | 'NEVER_FITS' | 'POLICY' | 'RATE_LIMITED' |
  'ENGINE_UNREACHABLE' | 'ENGINE_ERROR' | 'CONTAINER_GONE' | 'CREATE_FAILED' | 'PULL_FAILED' | 'LOST' |
  'IMAGE_NOT_FOUND' | 'COMMAND_NOT_FOUND' | 'COMMAND_NOT_EXECUTABLE' | 'TIMEOUT' | 'OOM_KILLED' | 'STORE_FULL'

/** What a code means; a code this version does not know (from a newer peer) means nothing special. */
export function meaningOf (code: string | undefined): CodeMeaning {
  return code != null && Object.hasOwn(ERROR_TABLE, code) ? ERROR_TABLE[code as ErrorCode] : {}
}

/** The HTTP status for a failed request with this code. */
export function httpStatusOf (code: string): number {
  return meaningOf(code).http ?? 500
}

/** The CLI's exit code for a command that failed with this code. */
export function exitCodeOf (code: string | undefined): number {
  return meaningOf(code).exit ?? EXIT.FAILURE
}

/** The CLI's exit code for how a task ended, as `docker run` gives them: the code's own (126, 127), else the container's, else 125 (it never ran). */
export function taskExitCode (terminal: { exit?: { code: number }, error?: { code: string } } | undefined): number {
  if (terminal == null) return EXIT.NOT_RUN
  const coded = terminal.error != null ? meaningOf(terminal.error.code).exit : undefined
  if (coded != null) return coded
  const code = terminal.exit?.code ?? EXIT.NOT_RUN
  // The container may have said 0 as it was stopped for its error (a timeout): the task still failed.
  return code === EXIT.OK && terminal.error != null ? EXIT.FAILURE : code
}
