import type { ImageHost, OfferDecision } from '../protocol/image-protocol.ts'
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
    async offer (remote, taskId, imageId) {
      const task = init.store.task(taskId, 'submitted')
      const sentThere = task !== undefined && (task.peerId === remote || init.store.attempts(taskId).some(attempt => attempt.peerId === remote))
      if (task === undefined || !sentThere || task.spec.imageId !== imageId) {
        return refuse(remote, taskId, 'FORBIDDEN', `this node sent you no task ${taskId} that names image ${imageId}`)
      }
      if (isTerminal(task.state)) return refuse(remote, taskId, 'FORBIDDEN', `task ${taskId} has ended; its image is no longer served`)
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
