import { z } from 'zod'
import { parseSize } from '../units.ts'
import { DEFAULT_IMAGE_TRANSFER, DEFAULT_POLICY, DEFAULT_SUBMISSIONS, POLICY_FILE, PolicyError, STRICT_TMP_BYTES, STRICT_USER, type WorkerPolicy } from './policy.ts'

// The policy file's schema and parser (`policy.json`), apart from the policy itself so that a
// node without a policy file never loads them.

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
