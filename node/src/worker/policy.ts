import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { CloudaiError } from '../errors.ts'
import type { StrictProfile } from '../executor/executor.ts'
import type { TaskSpec } from '../protocol/task-messages.ts'
import { formatBytes, parseSize } from '../units.ts'

export const POLICY_FILE = 'policy.json'

/** The policy file is missing fields it needs, or has ones it should not. */
export class PolicyError extends CloudaiError {
  override readonly code = 'BAD_POLICY'
}

/** What this worker accepts (docs/architecture.md, "Roles"). Every field is optional; the defaults accept any member's task. */
export interface WorkerPolicy {
  /** Peer IDs allowed to submit tasks here; undefined: every member of the mesh. */
  submitters?: string[]
  /** Image reference prefixes allowed (`127.0.0.1:5000/`, `registry.lan/team/`); undefined: any image. */
  images?: string[]
  /** The most one task may ask for; undefined fields: no limit beyond the node's capacity. */
  maxTask: { cpu?: number, memoryBytes?: number, storageBytes?: number, gpus?: number }
  /** Container networks tasks may ask for. */
  networks: Array<'none' | 'bridge'>
  /** Peer IDs allowed to connect at all (on top of the cluster key); undefined: every holder of the key. */
  members?: string[]
  /** The stricter container profile, for every task run here. */
  strict?: StrictProfile
  /** Tasks one peer may submit: a burst, then a steady rate per second. */
  submissions: { perSecond: number, burst: number }
  /** Images fetched from peers (a task's image the worker's engine lacks); undefined: DEFAULT_IMAGE_TRANSFER. */
  imageTransfer?: ImageTransferPolicy
  /** The most one task's inputs may hold; undefined: DEFAULT_INPUT_LIMIT_BYTES. */
  maxInputBytes?: number
  /** The most one task's outputs may hold, whatever its --output-limit; undefined: MAX_OUTPUT_LIMIT_BYTES. */
  maxOutputBytes?: number
}

export interface ImageTransferPolicy {
  /** Whether this worker takes images from peers at all; default: yes, from members (only the task's submitter is asked). */
  accept: boolean
  /** The largest archive one image may take on the wire. */
  maxBytes: number
  /** Peer IDs this worker takes images from; undefined: any member. */
  servers?: string[]
}

/** Large enough for a CUDA image; a holder past it is refused mid-way, whatever it claimed. */
export const DEFAULT_IMAGE_MAX_BYTES = 16 * 1024 * 1024 * 1024
export const DEFAULT_IMAGE_TRANSFER: ImageTransferPolicy = { accept: true, maxBytes: DEFAULT_IMAGE_MAX_BYTES }

/** A whole queue's worth at once, then a hundred a second: a busy master, not a flood. */
export const DEFAULT_SUBMISSIONS = { perSecond: 100, burst: 1000 }
/** The stricter profile's defaults: the conventional unprivileged `nobody`, and a small /tmp. */
export const STRICT_USER = '65534:65534'
export const STRICT_TMP_BYTES = 64 * 1024 * 1024

export const DEFAULT_POLICY: WorkerPolicy = { maxTask: {}, networks: ['none', 'bridge'], submissions: DEFAULT_SUBMISSIONS, imageTransfer: DEFAULT_IMAGE_TRANSFER }

/** Bytes, or a size as the CLI takes it (`8g`); checked here, so that an error names its field. */
const Size = z.union([z.number().int().positive(), z.string().min(1).max(32)]).superRefine((value, ctx) => {
  if (typeof value !== 'string') return
  try {
    parseSize(value)
  } catch (err: any) {
    ctx.addIssue({ code: 'custom', message: err?.message ?? 'not a size' })
  }
})
const PolicyFile = z.object({
  submitters: z.array(z.string().min(1).max(128)).max(10_000).optional(),
  images: z.array(z.string().min(1).max(512)).max(1_000).optional(),
  maxTask: z.object({
    cpu: z.number().positive().max(4096).optional(),
    memory: Size.optional(),
    storage: Size.optional(),
    gpus: z.number().int().min(0).max(64).optional()
  }).strict().optional(),
  networks: z.array(z.enum(['none', 'bridge'])).max(2).optional(),
  members: z.array(z.string().min(1).max(128)).max(10_000).optional(),
  strict: z.object({
    user: z.string().min(1).max(64).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/).optional(),
    tmp: Size.optional()
  }).strict().optional(),
  submissions: z.object({ perSecond: z.number().positive().max(100_000), burst: z.number().int().min(1).max(1_000_000) }).strict().optional(),
  imageTransfer: z.object({
    accept: z.boolean().optional(),
    maxSize: Size.optional(),
    servers: z.array(z.string().min(1).max(128)).max(10_000).optional()
  }).strict().optional(),
  maxInput: Size.optional(),
  maxOutput: Size.optional()
}).strict()

function bytes (value: number | string | undefined): number | undefined {
  return typeof value === 'string' ? parseSize(value) : value
}

/** Parse the text of a policy file; throws PolicyError naming the file and what is wrong. */
export function parsePolicy (text: string, path = POLICY_FILE): WorkerPolicy {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err: any) {
    throw new PolicyError(`${path} is not valid JSON (${err?.message}): fix it, or remove it to accept every member's tasks`)
  }
  const parsed = PolicyFile.safeParse(json)
  if (!parsed.success) {
    throw new PolicyError(`${path}: ${parsed.error.issues.map(issue => `${issue.path.join('.') || '(top)'}: ${issue.message}`).join('; ')}. Fields: members, submitters, images, maxTask {cpu, memory, storage, gpus}, networks, strict {user, tmp}, submissions {perSecond, burst}, imageTransfer {accept, maxSize, servers}, maxInput, maxOutput`)
  }
  const { submitters, images, maxTask = {}, networks, members, strict, submissions, imageTransfer = {}, maxInput, maxOutput } = parsed.data
  return {
    ...(submitters != null ? { submitters } : {}),
    ...(images != null ? { images } : {}),
    maxTask: { cpu: maxTask.cpu, memoryBytes: bytes(maxTask.memory), storageBytes: bytes(maxTask.storage), gpus: maxTask.gpus },
    networks: networks ?? DEFAULT_POLICY.networks,
    ...(members != null ? { members } : {}),
    ...(strict != null ? { strict: { user: strict.user ?? STRICT_USER, tmpBytes: bytes(strict.tmp) ?? STRICT_TMP_BYTES } } : {}),
    submissions: submissions ?? DEFAULT_SUBMISSIONS,
    imageTransfer: {
      accept: imageTransfer.accept ?? DEFAULT_IMAGE_TRANSFER.accept,
      maxBytes: bytes(imageTransfer.maxSize) ?? DEFAULT_IMAGE_TRANSFER.maxBytes,
      ...(imageTransfer.servers != null ? { servers: imageTransfer.servers } : {})
    },
    ...(maxInput != null ? { maxInputBytes: bytes(maxInput) } : {}),
    ...(maxOutput != null ? { maxOutputBytes: bytes(maxOutput) } : {})
  }
}

/** The data dir's policy file, or the defaults when there is none. */
export async function loadPolicy (dataDir: string): Promise<WorkerPolicy> {
  const path = join(dataDir, POLICY_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return DEFAULT_POLICY
    throw new PolicyError(`cannot read ${path}: ${err?.message}`)
  }
  return parsePolicy(text, path)
}

/**
 * Why the policy refuses this task from this submitter, or undefined if it allows it. The
 * node's own tasks (`self`, through its token-protected API) pass the submitter check.
 */
export function policyRefusal (policy: WorkerPolicy, spec: TaskSpec, submitter: string, nodeId: string): string | undefined {
  if (policy.submitters != null && submitter !== nodeId && !policy.submitters.includes(submitter)) return `this node's policy does not accept tasks from ${submitter}`
  if (policy.images != null && !policy.images.some(prefix => spec.image.startsWith(prefix))) {
    return `this node's policy accepts only images starting with ${policy.images.map(prefix => `"${prefix}"`).join(', ')}; ${spec.image} is not one`
  }
  if (!policy.networks.includes(spec.network)) return `this node's policy does not allow network "${spec.network}" (allowed: ${policy.networks.join(', ') || 'none at all'})`
  const max = policy.maxTask
  const need = spec.resources
  const over = [
    max.cpu != null && need.cpu > max.cpu ? `${need.cpu} CPU (at most ${max.cpu})` : undefined,
    max.memoryBytes != null && need.memoryBytes > max.memoryBytes ? `${formatBytes(need.memoryBytes)} memory (at most ${formatBytes(max.memoryBytes)})` : undefined,
    max.storageBytes != null && need.storageBytes > max.storageBytes ? `${formatBytes(need.storageBytes)} storage (at most ${formatBytes(max.storageBytes)})` : undefined,
    max.gpus != null && need.gpus > max.gpus ? `${need.gpus} GPU (at most ${max.gpus})` : undefined
  ].filter(text => text != null)
  if (over.length > 0) return `this node's policy limits one task: it asks for ${over.join(', ')}`
  return undefined
}
