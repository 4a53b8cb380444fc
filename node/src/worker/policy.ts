import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CloudaiError } from '../errors.ts'
import type { StrictProfile } from '../executor/executor.ts'
import type { TaskSpec } from '../protocol/task-messages.ts'
import { formatBytes } from '../units.ts'

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
  // The file's parser (and zod, its schema library) is loaded only when there is a file: most
  // nodes have none, and it would otherwise sit in every idle daemon's memory.
  const { parsePolicy } = await import('./policy-file.ts')
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
