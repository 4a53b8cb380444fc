import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { toError } from '../errors.ts'
import type { CloudaiNode } from '../node.ts'
import { eventToJson } from '../protocol/task-messages.ts'
import { HttpError } from './http-error.ts'

const TaskBody = z.object({
  target: z.string().min(1).max(256),
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
}).strict()

/** Write one NDJSON line, waiting while the client reads slowly (that slows the worker, via acks). */
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

function errorFor (err: Error): HttpError {
  switch (err.name) {
    case 'UnknownPeerError': return new HttpError(404, 'UNKNOWN_PEER', err.message)
    case 'AmbiguousPeerError': return new HttpError(409, 'AMBIGUOUS_PEER', err.message)
    case 'ProtocolError': return new HttpError(400, 'INVALID_SPEC', err.message)
    default: return new HttpError(502, 'PEER_UNREACHABLE', `could not send the task: ${err.message}`)
  }
}

/**
 * POST /v1/tasks: submit a task and stream it as NDJSON: `{"accepted": {taskId, peerId,
 * peerName}}`, then `{"event": …}` per event until the terminal one. If the client goes
 * away (Ctrl-C), the task runs on and this node keeps reading its events to the end.
 */
export async function streamTask (node: CloudaiNode, body: unknown, res: ServerResponse): Promise<void> {
  const parsed = TaskBody.safeParse(body)
  if (!parsed.success) throw new HttpError(400, 'BAD_REQUEST', `invalid task request: ${parsed.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`)
  const { target, ...request } = parsed.data
  let submitted
  try {
    submitted = await node.master.submit(target, request)
  } catch (err) {
    throw errorFor(toError(err))
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  await writeLine(res, { accepted: { taskId: submitted.taskId, peerId: submitted.peerId, peerName: submitted.peerName } })
  try {
    for await (const event of submitted.session.events) {
      await writeLine(res, { event: eventToJson(event) })
    }
  } catch (err) {
    await writeLine(res, { error: { code: 'STREAM_FAILED', message: `lost the task's event stream: ${toError(err).message}` } })
  }
  res.end()
}
