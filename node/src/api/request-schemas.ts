import { z } from 'zod'
import { MAX_PAGE_TASKS } from '../defaults.ts'
import { TASK_STATE_NAMES } from '../task-states.ts'
import { RequestError } from './http-error.ts'

// What the API's requests may hold, checked before any route acts on them. Loaded with the
// first request that needs a check (see tasks-route.ts), not with the server.

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
  // No timeout is no field: 0 would be sent as the wire's "no timeout" (the validator checks the range).
  timeoutMs: z.number().positive().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  // Input sources are paths on this machine (the daemon reads them as the user who runs it); the task validator checks the rest.
  files: z.object({
    inputs: z.array(z.object({ source: z.string().min(1).max(4096).startsWith('/'), target: z.string().min(1).max(1024) }).strict()).max(64).default([]),
    outputs: z.array(z.string().min(1).max(1024)).max(64).default([]),
    outputLimitBytes: z.number().int().positive().optional()
  }).strict().optional()
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
export const TaskBody = z.object({ target: z.string().min(1).max(256), ...Request, ...Placement }).strict()
export const CopiesBody = z.object({ target: z.string().min(1).max(256), count: z.number().int().min(1).max(MAX_COPIES), ...Request, ...Placement }).strict()
export const ExplainBody = z.object({ count: z.number().int().min(1).max(MAX_COPIES).default(1), ...Request, policy: Placement.policy, constraints: Placement.constraints }).strict()

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_TASKS).optional(),
  state: z.enum(TASK_STATE_NAMES).optional(),
  before: z.string().min(1).max(128).optional()
}).strict()
/** Each rule given replaces the daemon's own for this once. */
export const PruneBody = z.object({
  olderThanMs: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  keepBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()
}).strict()
export const EventsQuery = z.object({
  from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  follow: z.enum(['0', '1']).optional()
}).strict()

/** The value as the schema takes it, or BAD_REQUEST naming what is wrong. */
export function parse<T> (schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new RequestError('BAD_REQUEST', `invalid ${what}: ${parsed.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`)
  return parsed.data
}

/** POST /v1/connect. */
export const ConnectBody = z.object({ addr: z.string().min(1).max(1024) }).strict()
