import type { ImageHost, OfferDecision, OnBehalfOf } from '../protocol/image-protocol.ts'
import type { WorkerPolicy } from '../worker/policy.ts'
import { verifyImageGrant } from './image-grant.ts'
import { isTerminal } from '../protocol/task-messages.ts'
import type { TaskStore } from '../store/store.ts'
import type { ImageEngine } from './engine-images.ts'
import { exportWithoutHeldLayers } from './export-filter.ts'
import { chainIds } from './layer-chain.ts'

/** Exports this node runs at once; each reads its engine and fills a link, so a few suffice and a crowd of askers waits its turn. */
export const MAX_CONCURRENT_EXPORTS = 4

export interface ImageServerInit {
  engine: ImageEngine
  store: TaskStore
  /** This node's peer ID: a grant from itself is not another member's. */
  selfId?: string
  /** Whether a peer is a member this node knows (it proved the cluster key): only a member's grant counts. */
  isMember?: (peerId: string) => boolean
  /** This node's worker policy: it serves another member's task only where it would run that member's tasks itself. */
  policy?: () => WorkerPolicy | undefined
  /** A refusal, for the audit log. */
  onRefused?: (peer: string, taskId: string, code: string, reason: string) => void
  /** A transfer starts: the image, to whom, and how many of its layers the asker holds already. */
  onServe?: (peer: string, imageId: string, heldLayers: number, layers: number) => void
}

/**
 * The holder's side of `/cloudai/image/1.0.0`: this node serves an image only to the
 * worker of one of its own tasks that names it, while that task has not ended (so only to
 * a member it chose, for an image its user asked to run there).
 */
export function imageServer (init: ImageServerInit): ImageHost {
  let exporting = 0
  const refuse = (remote: string, taskId: string, code: string, message: string): OfferDecision => {
    init.onRefused?.(remote, taskId, code, message)
    return { refusal: { code, message } }
  }
  return {
    async offer (remote, taskId, imageId, onBehalfOf) {
      if (onBehalfOf !== undefined && onBehalfOf.submitter !== init.selfId) {
        const why = await grantProblem(init, taskId, imageId, onBehalfOf)
        if (why !== undefined) return refuse(remote, taskId, 'FORBIDDEN', why)
      } else {
        const task = init.store.task(taskId, 'submitted')
        const sentThere = task !== undefined && (task.peerId === remote || init.store.attempts(taskId).some(attempt => attempt.peerId === remote))
        if (task === undefined || !sentThere || task.spec.imageId !== imageId) {
          return refuse(remote, taskId, 'FORBIDDEN', `this node sent you no task ${taskId} that names image ${imageId}`)
        }
        if (isTerminal(task.state)) return refuse(remote, taskId, 'FORBIDDEN', `task ${taskId} has ended; its image is no longer served`)
      }
      if (exporting >= MAX_CONCURRENT_EXPORTS) return refuse(remote, taskId, 'BUSY', `this node is sending ${exporting} images already; try again shortly`)
      const facts = await init.engine.inspect(imageId)
      if (facts === undefined) return refuse(remote, taskId, 'NOT_FOUND', `this node's engine no longer holds image ${imageId}`)
      // Lets the worker show the size of what travels when it holds some layers already.
      const layerSizes = await init.engine.layerSizes?.(imageId, facts.diffIds).catch(() => undefined)
      return { offer: { diffIds: facts.diffIds, sizeBytes: facts.sizeBytes, layerSizes: layerSizes ?? [] } }
    },
    async export (imageId, offer, heldLayers, signal, remote) {
      // The offer's facts (inspected a moment ago) name the layers: no second inspect.
      const chain = chainIds(offer.diffIds)
      exporting++
      let released = false
      const release = (): void => { if (!released) { released = true; exporting-- } }
      signal.addEventListener('abort', release, { once: true })
      // Started before the asker says which layers it holds: the engine stages the export meanwhile.
      const exported = init.engine.export(imageId, signal)
      exported.catch(() => {})
      let held: Set<string>
      try {
        held = new Set((await heldLayers).map(index => chain[index]))
        init.onServe?.(remote, imageId, held.size, chain.length)
        const stream = await exported
        return held.size === 0 ? stream : exportWithoutHeldLayers(stream, chain, held)
      } catch (err) {
        release()
        throw err
      }
    }
  }
}

/**
 * Why this node will not serve `imageId` for another member's task, or undefined when it
 * will. The grant proves that member `submitter` named the image for task `taskId`; the
 * asker is a member (only members connect). What makes serving safe: this node serves
 * another member's task only when its policy would run that member's tasks with any image
 * — then the submitter could read the image here anyway, by running it on this node, so
 * sending it to the submitter's worker discloses nothing more. A node whose policy limits
 * submitters (to others) or images serves only its own tasks.
 */
async function grantProblem (init: ImageServerInit, taskId: string, imageId: string, { submitter, grant }: OnBehalfOf): Promise<string | undefined> {
  const policy = init.policy?.()
  if (init.isMember == null || !init.isMember(submitter)) return `${submitter.slice(0, 80)} is not a member this node knows, so its grant counts for nothing here`
  if (policy?.images != null) return 'this node\'s policy limits images by name (images), so it serves images only for its own tasks'
  if (policy?.submitters != null && !policy.submitters.includes(submitter)) return `this node's policy does not take tasks from ${submitter} (submitters), so it serves no image for that member's tasks`
  if (!await verifyImageGrant(submitter, taskId, imageId, grant)) return `the grant is not ${submitter}'s signature for task ${taskId} and image ${imageId}`
  return undefined
}
