import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { toError } from '../errors.ts'
import type { CloudaiNode } from '../node.ts'
import { isTerminal, TaskState } from '../protocol/task-messages.ts'
import { feedLine, taskFeed } from '../store/feed.ts'
import { listTaskViews, resolveTaskId, taskRecord, taskStatusView } from '../store/task-views.ts'
import { HttpError } from './http-error.ts'

const Request = {
  image: z.string().min(1).max(1024),
  command: z.array(z.string()).max(4096).default([]),
  env: z.record(z.string(), z.string()).default({}),
  resources: z.object({
    cpu: z.number(),
    memoryBytes: z.number(),
    storageBytes: z.number(),
    gpus: z.number()
  }).strict(),
  network: z.enum(['none', 'bridge']).default('none'),
  timeoutMs: z.number().optional(),
  labels: z.record(z.string(), z.string()).default({})
}
/** How to place the task and when to place it again. */
const Placement = {
  retries: z.number().int().min(0).max(100).default(0),
  retryOnExit: z.boolean().default(false),
  policy: z.enum(['spread', 'binpack']).default('spread'),
  constraints: z.record(z.string().max(128), z.string().max(256)).default({})
}
/** Copies in one `--count` batch: generous for a LAN, bounded for the master's memory. */
const MAX_COPIES = 1000
const TaskBody = z.object({ target: z.string().min(1).max(256), ...Request, ...Placement }).strict()
const CopiesBody = z.object({ target: z.string().min(1).max(256), count: z.number().int().min(1).max(MAX_COPIES), ...Request, ...Placement }).strict()
const ExplainBody = z.object({ count: z.number().int().min(1).max(MAX_COPIES).default(1), ...Request, policy: Placement.policy, constraints: Placement.constraints }).strict()

const STATES = Object.values(TaskState) as [string, ...string[]]
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
  state: z.enum(STATES).optional()
}).strict()
const EventsQuery = z.object({
  from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  follow: z.enum(['0', '1']).optional()
}).strict()

function parse<T> (schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new HttpError(400, 'BAD_REQUEST', `invalid ${what}: ${parsed.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`)
  return parsed.data
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

/** Stream a task's feed as NDJSON until its end, or until the client goes away (the task runs on). */
async function streamFeed (node: CloudaiNode, res: ServerResponse, taskId: string, fromSeq: number, follow: boolean): Promise<void> {
  const { attempt } = taskRecord(node.store, taskId)
  const gone = new AbortController()
  res.once('close', () => { gone.abort() })
  const feed = taskFeed(node.store, taskId, attempt, { fromSeq, follow, signal: gone.signal, unreachableSince: () => node.master.unreachableSince(taskId) })
  for await (const item of feed) await writeLine(res, feedLine(item))
  res.end()
}

function taskError (err: Error): HttpError {
  switch (err.name) {
    case 'UnknownPeerError': return new HttpError(404, 'UNKNOWN_PEER', err.message)
    case 'AmbiguousPeerError': return new HttpError(409, 'AMBIGUOUS_PEER', err.message)
    case 'ProtocolError': return new HttpError(400, 'INVALID_SPEC', err.message)
    case 'TaskNotFoundError': return new HttpError(404, 'UNKNOWN_TASK', err.message)
    case 'AmbiguousTaskError': return new HttpError(409, 'AMBIGUOUS_TASK', err.message)
    default: return new HttpError(502, 'PEER_UNREACHABLE', err.message)
  }
}

/** Run `route`, turning the node's named errors into HTTP ones. */
async function answering<T> (route: () => Promise<T>): Promise<T> {
  try {
    return await route()
  } catch (err) {
    if (err instanceof HttpError) throw err
    throw taskError(toError(err))
  }
}

/**
 * POST /v1/tasks: submit a task and stream it as NDJSON: `{"accepted": {taskId, peerId,
 * peerName}}`, then its feed (`{"event": …}`, `{"unreachable": {since}}`, `{"reachable": {}}`)
 * until the terminal event. If the client goes away (Ctrl-C), the master follows on.
 */
export async function submitTask (node: CloudaiNode, body: unknown, res: ServerResponse): Promise<void> {
  const { target, retries, retryOnExit, policy, constraints, ...request } = parse(TaskBody, body, 'task request')
  const [submitted] = await sending(async () => await node.master.submitCopies(target, request, { retries, retryOnExit, policy, constraints }, 1))
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  await writeLine(res, { accepted: submitted })
  await streamFeed(node, res, submitted.taskId, 1, true)
}

/** The master's errors when sending, as HTTP ones: a refusal of the request, or a peer that could not be reached. */
async function sending<T> (send: () => Promise<T>): Promise<T> {
  return await answering(async () => {
    try {
      return await send()
    } catch (err) {
      const error = toError(err)
      if (error.name === 'NoPlacementError') throw new HttpError(422, 'NO_PLACEMENT', error.message)
      throw ['UnknownPeerError', 'AmbiguousPeerError', 'ProtocolError'].includes(error.name) ? error : new HttpError(502, 'PEER_UNREACHABLE', `could not send the task: ${error.message}`)
    }
  })
}

/** POST /v1/tasks/copies: `count` copies of a task (`--count`), placed by one probe round; answers their ids and peers. */
export async function submitCopies (node: CloudaiNode, body: unknown): Promise<unknown> {
  const { target, count, retries, retryOnExit, policy, constraints, ...request } = parse(CopiesBody, body, 'task request')
  return await sending(async () => await node.master.submitCopies(target, request, { retries, retryOnExit, policy, constraints }, count))
}

/** POST /v1/placement: where `auto` would place the task and why (`--explain`); nothing is sent. */
export async function explainPlacement (node: CloudaiNode, body: unknown): Promise<unknown> {
  const { count, policy, constraints, ...request } = parse(ExplainBody, body, 'task request')
  return await sending(async () => await node.master.explain(request, { policy, constraints }, count))
}

/** GET /v1/tasks?limit&state: the history, newest first. */
export async function listTasks (node: CloudaiNode, query: URLSearchParams): Promise<unknown> {
  const { limit, state } = parse(ListQuery, Object.fromEntries(query), 'query')
  return listTaskViews(node.store, { limit, state: state as TaskState | undefined }, taskId => node.master.unreachableSince(taskId))
}

/** GET /v1/tasks/<id or prefix>: one task with its events (output counted, not included). */
export async function taskStatus (node: CloudaiNode, idOrPrefix: string): Promise<unknown> {
  return await answering(async () => {
    const taskId = resolveTaskId(node.store, idOrPrefix)
    return taskStatusView(node.store, taskId, node.master.unreachableSince(taskId))
  })
}

/** GET /v1/tasks/<id>/events?from&follow=1: the task's events as NDJSON (with follow, until its end). */
export async function taskEvents (node: CloudaiNode, idOrPrefix: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const { from, follow } = parse(EventsQuery, Object.fromEntries(query), 'query')
  const taskId = await answering(async () => resolveTaskId(node.store, idOrPrefix))
  const { peerId, peerName } = taskRecord(node.store, taskId)
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  await writeLine(res, { task: { taskId, peerId, peerName } })
  await streamFeed(node, res, taskId, from ?? 1, follow === '1')
}

/**
 * POST /v1/tasks/<id>/cancel: stop a task this node sent (on its worker) or runs. Answers
 * how the task stood: `cancelled` false when it had ended already.
 */
export async function cancelTask (node: CloudaiNode, idOrPrefix: string): Promise<unknown> {
  return await answering(async () => {
    const taskId = resolveTaskId(node.store, idOrPrefix)
    const record = taskRecord(node.store, taskId)
    if (isTerminal(record.state)) return { taskId, state: record.state, cancelled: false }
    const outcome = record.role === 'submitted' ? await node.master.cancel(taskId) : node.worker.cancel(taskId)
    return { taskId, state: outcome?.state ?? record.state, cancelled: outcome?.cancelled ?? false }
  })
}
