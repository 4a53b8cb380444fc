import type { ServerResponse } from 'node:http'
import type { TaskState } from '../protocol/task-messages.ts'
import type { FeedLine } from '../store/feed.ts'
import type { TaskHeader } from '../tasks/task-history.ts'
import type { TaskService } from '../tasks/task-service.ts'

/**
 * The request schemas, loaded with the first request that needs one: they bring zod, which an
 * idle daemon would otherwise hold in memory (a few MiB) for requests that may never come.
 */
async function schemas (): Promise<typeof import('./request-schemas.ts')> {
  return await import('./request-schemas.ts')
}

/** Write one NDJSON line, waiting while the client reads slowly. */
async function writeLine (res: ServerResponse, value: unknown): Promise<void> {
  if (res.destroyed) return
  if (!res.write(JSON.stringify(value) + '\n')) {
    await new Promise<void>(resolve => {
      const done = (): void => { res.off('drain', done); res.off('close', done); resolve() }
      res.on('drain', done)
      res.on('close', done)
    })
  }
}

/** Stream task lines as NDJSON until their end, or until the client goes away (the task runs on). */
async function streamLines (res: ServerResponse, lines: AsyncIterable<FeedLine>): Promise<void> {
  for await (const line of lines) await writeLine(res, line)
  res.end()
}

/** Aborted when the client goes away: a follower of the task's feed stops, the task does not. */
function clientGone (res: ServerResponse): AbortSignal {
  const gone = new AbortController()
  res.once('close', () => { gone.abort() })
  return gone.signal
}

/**
 * POST /v1/tasks: submit a task and stream it as NDJSON: `{"accepted": {taskId, peerId,
 * peerName}}`, then its feed (`{"event": …}`, `{"unreachable": {since}}`, `{"reachable": {}}`)
 * until the terminal event. If the client goes away (Ctrl-C), the master follows on.
 */
export async function submitTask (tasks: TaskService, body: unknown, res: ServerResponse): Promise<void> {
  const { parse, TaskBody } = await schemas()
  const { target, retries, retryOnExit, policy, constraints, ...request } = parse(TaskBody, body, 'task request')
  const accepted: TaskHeader = await tasks.submit(target, request, { retries, retryOnExit, policy, constraints })
  const { lines } = tasks.follow(accepted.taskId, { follow: true, signal: clientGone(res) })
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  await writeLine(res, { accepted })
  await streamLines(res, lines)
}

/** POST /v1/tasks/copies: `count` copies of a task (`--count`), placed by one probe round; answers their ids and peers. */
export async function submitCopies (tasks: TaskService, body: unknown): Promise<unknown> {
  const { parse, CopiesBody } = await schemas()
  const { target, count, retries, retryOnExit, policy, constraints, ...request } = parse(CopiesBody, body, 'task request')
  return await tasks.submitCopies(target, request, { retries, retryOnExit, policy, constraints }, count)
}

/** POST /v1/placement: where `auto` would place the task and why (`--explain`); nothing is sent. */
export async function explainPlacement (tasks: TaskService, body: unknown): Promise<unknown> {
  const { parse, ExplainBody } = await schemas()
  const { count, policy, constraints, ...request } = parse(ExplainBody, body, 'task request')
  return await tasks.explain(request, { policy, constraints }, count)
}

/** GET /v1/tasks?limit&state&before: one page of the history, newest first (`before`: after that task). */
export async function listTasks (tasks: TaskService, query: URLSearchParams): Promise<unknown> {
  const { parse, ListQuery } = await schemas()
  const { limit, state, before } = parse(ListQuery, Object.fromEntries(query), 'query')
  return tasks.list({ limit, state: state as TaskState | undefined, ...(before != null ? { before } : {}) })
}

/** POST /v1/prune: remove the finished tasks the daemon's retention rules (or the ones given) do not keep; answers what went. */
export async function pruneTasks (tasks: TaskService, body: unknown): Promise<unknown> {
  const { parse, PruneBody } = await schemas()
  return await tasks.prune(parse(PruneBody, body ?? {}, 'prune request'))
}

/** GET /v1/tasks/<id or prefix>: one task with its events (output counted, not included). */
export async function taskStatus (tasks: TaskService, idOrPrefix: string): Promise<unknown> {
  return tasks.status(idOrPrefix)
}

/** GET /v1/tasks/<id>/events?from&follow=1: the task's lines as NDJSON, `{task}` first (with follow, until its end). */
export async function taskEvents (tasks: TaskService, idOrPrefix: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const { parse, EventsQuery } = await schemas()
  const { from, follow } = parse(EventsQuery, Object.fromEntries(query), 'query')
  const { header, lines } = tasks.follow(idOrPrefix, { fromSeq: from ?? 1, follow: follow === '1', signal: clientGone(res) })
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  await writeLine(res, { task: header })
  await streamLines(res, lines)
}

/**
 * POST /v1/tasks/<id>/cancel: stop a task this node sent (on its worker) or runs. Answers
 * how the task stood: `cancelled` false when it had ended already.
 */
export async function cancelTask (tasks: TaskService, idOrPrefix: string): Promise<unknown> {
  return await tasks.cancel(idOrPrefix)
}

/** What an outputs response may hold in memory before the download waits for the client: a frame's worth of pieces and then some. */
const RESPONSE_BUFFER_BYTES = 1024 * 1024

/**
 * GET /v1/tasks/<id>/outputs: the outputs kept of a finished task, as a tar (each set under
 * its index, each file with its SHA-256), fetched from its worker as it is sent; the
 * summaries are in the `x-cloudai-outputs` header (base64 JSON). A client that goes away
 * stops the transfer.
 */
export async function taskOutputs (tasks: TaskService, idOrPrefix: string, res: ServerResponse): Promise<void> {
  const gone = clientGone(res)
  const { taskId, sets, archive } = await tasks.outputs(idOrPrefix, gone)
  res.writeHead(200, {
    'content-type': 'application/x-tar',
    'x-cloudai-task': taskId,
    'x-cloudai-outputs': Buffer.from(JSON.stringify(sets)).toString('base64')
  })
  let corked = false
  const uncork = (): void => {
    if (!corked) return
    corked = false
    res.uncork()
  }
  for await (const chunk of archive) {
    if (res.destroyed) break
    // The archive arrives in pieces of a noise message (under 64 KiB), several in one turn:
    // held back until the turn ends, they go to the client in one write (writev) instead of
    // one write and one wake-up of the client each.
    if (!corked) {
      corked = true
      res.cork()
      setImmediate(uncork)
    }
    res.write(chunk)
    // Flow control by the bytes waiting, not by write()'s answer: that is false past the
    // socket's 16 KiB, so waiting on it would send each piece alone.
    if (res.writableLength >= RESPONSE_BUFFER_BYTES) {
      await new Promise<void>(resolve => {
        const done = (): void => { res.off('drain', done); res.off('close', done); resolve() }
        res.on('drain', done)
        res.on('close', done)
      })
    }
  }
  // Before end(): node's end() sends the closing chunk first and the pieces a cork holds back
  // after it, so a download ended while corked lost its last pieces.
  uncork()
  res.end()
}
