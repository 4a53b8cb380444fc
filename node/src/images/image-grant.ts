import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'

/** A grant is an Ed25519 signature (64 bytes), base64: a little room for other key types. */
export const MAX_IMAGE_GRANT_LENGTH = 256
/** Members a submitter names as holders of a task's image. */
export const MAX_IMAGE_HOLDERS = 8

/** What a grant signs: a fixed context (so no other signature of the key can pass for one), the task and the image. */
function grantText (taskId: string, imageId: string): Uint8Array {
  return new TextEncoder().encode(`cloudai image grant v1\n${taskId}\n${imageId}\n`)
}

/**
 * A submitter's word that image `imageId` is named by its task `taskId`: a member that
 * holds the image may serve it to the task's worker on the strength of it, the submitter
 * being unable to (docs/architecture.md, "Images between peers").
 */
export async function signImageGrant (key: PrivateKey, taskId: string, imageId: string): Promise<string> {
  return Buffer.from(await key.sign(grantText(taskId, imageId))).toString('base64')
}

/** Whether `grant` is `submitter`'s signature for the task and image; false for anything malformed. */
export async function verifyImageGrant (submitter: string, taskId: string, imageId: string, grant: string): Promise<boolean> {
  if (grant.length === 0 || grant.length > MAX_IMAGE_GRANT_LENGTH) return false
  try {
    const key = peerIdFromString(submitter).publicKey
    if (key == null) return false
    return await key.verify(grantText(taskId, imageId), Buffer.from(grant, 'base64'))
  } catch {
    return false
  }
}
