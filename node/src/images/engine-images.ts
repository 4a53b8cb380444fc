import type Docker from 'dockerode'
import type { Readable } from 'node:stream'
import { statusCodeOf } from '../executor/docker-errors.ts'
import { readableChunks } from '../protocol/readable-chunks.ts'
import { BatchedUpload } from './batched-upload.ts'
import { chainIds } from './layer-chain.ts'

/** A worker states what it holds from this many of its newest images: a bound on the engine calls one transfer costs. */
export const MAX_IMAGES_SCANNED = 500
/** The engine's answer to a load is a few lines; more than this is not an answer. */
const MAX_LOAD_REPLY_BYTES = 1024 * 1024
/** Inspects of a scan in flight at once: a worker with hundreds of images scans them in a fraction of the time, without a burst the engine queues. */
const INSPECTS_AT_ONCE = 8

export interface ImageFacts {
  id: string
  diffIds: string[]
  sizeBytes: number
}

/** One entry of an engine's history of an image (`GET /images/{id}/history`), newest first. */
interface HistoryEntry { Size?: unknown }

/**
 * What the image transfer needs of an engine: look an image up, export one, load one,
 * remove one. The Docker engine through dockerode; a test may give another.
 */
export interface ImageEngine {
  /** The image's facts by name or ID, or undefined when the engine lacks it. */
  inspect(reference: string): Promise<ImageFacts | undefined>
  /** Each layer's size, at the places of `diffIds`, or undefined when the engine cannot tell (progress only). */
  layerSizes?(id: string, diffIds: readonly string[]): Promise<number[] | undefined>
  /** The IDs of the engine's images, newest first. */
  imageIds(): Promise<string[]>
  /** The chain IDs of every layer of the engine's newest images (at most MAX_IMAGES_SCANNED). */
  heldChainIds(): Promise<Set<string>>
  /** The engine's export of one image (`docker save` format), as it streams. */
  export(id: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>
  /** Load an archive; resolves once the engine finished, rejects with its error (or the archive's). */
  load(archive: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void>
  /** Remove an image; gone already is fine. */
  remove(id: string): Promise<void>
}

export function dockerImageEngine (docker: Docker): ImageEngine {
  /** Each listed image's chain IDs (at most MAX_IMAGES_SCANNED entries: pruned to the engine's list on every scan). */
  const layersOf = new Map<string, string[]>()
  return {
    async inspect (reference) {
      try {
        const info = await docker.getImage(reference).inspect()
        return { id: info.Id, diffIds: info.RootFS?.Layers ?? [], sizeBytes: info.Size }
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined
        throw err
      }
    },
    async layerSizes (id, diffIds) {
      const history = await docker.getImage(id).history().catch(() => undefined) as HistoryEntry[] | undefined
      return Array.isArray(history) ? layerSizesFromHistory(history, diffIds.length) : undefined
    },
    async imageIds () {
      return (await docker.listImages()).sort((a, b) => b.Created - a.Created).map(image => image.Id)
    },
    async heldChainIds () {
      const images = (await docker.listImages()).sort((a, b) => b.Created - a.Created).slice(0, MAX_IMAGES_SCANNED)
      // An image ID names its layers for good: each is inspected once in the node's life, not once per transfer.
      const listed = new Set(images.map(image => image.Id))
      for (const id of layersOf.keys()) if (!listed.has(id)) layersOf.delete(id)
      const unknown = images.map(image => image.Id).filter(id => !layersOf.has(id))
      for (let at = 0; at < unknown.length; at += INSPECTS_AT_ONCE) {
        await Promise.all(unknown.slice(at, at + INSPECTS_AT_ONCE).map(async id => {
          const info = await docker.getImage(id).inspect().catch(() => undefined)
          if (info != null) layersOf.set(id, chainIds(info.RootFS?.Layers ?? []))
        }))
      }
      const held = new Set<string>()
      for (const id of listed) for (const chainId of layersOf.get(id) ?? []) held.add(chainId)
      return held
    },
    async export (id, signal) {
      const stream = await docker.getImage(id).get() as unknown as Readable
      // The transfer may have ended while the engine started the export.
      if (signal.aborted) stream.destroy()
      else signal.addEventListener('abort', () => { stream.destroy() }, { once: true })
      return readableChunks(stream)
    },
    async load (archive, signal) {
      // The archive's failure must end the upload: a pipe would leave the engine waiting for the rest.
      const upload = new AbortController()
      const stop = (): void => { upload.abort() }
      signal.addEventListener('abort', stop, { once: true })
      let archiveError: Error | undefined
      // In batches: one write to the engine's socket per half MiB, not one per network message.
      const body = new BatchedUpload(archive)
      body.once('error', err => { archiveError = err; upload.abort() })
      try {
        const reply = await docker.loadImage(body, { quiet: true, abortSignal: upload.signal }) as unknown as Readable
        let text = ''
        for await (const chunk of reply) {
          text += String(chunk)
          if (text.length > MAX_LOAD_REPLY_BYTES) throw new Error('the engine\'s reply to the load is too long')
        }
        if (archiveError != null) throw archiveError
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue
          let message: { error?: string, errorDetail?: { message?: string } }
          try {
            message = JSON.parse(line)
          } catch {
            continue
          }
          if (message.error != null || message.errorDetail?.message != null) throw new Error(`the engine refused the image: ${message.errorDetail?.message ?? message.error}`)
        }
      } catch (err) {
        throw archiveError ?? err
      } finally {
        signal.removeEventListener('abort', stop)
      }
    },
    async remove (id) {
      try {
        await docker.getImage(id).remove({ noprune: false })
      } catch (err) {
        if (statusCodeOf(err) !== 404) throw err
      }
    }
  }
}

/**
 * The engine's history has an entry per build step, newest first, with the size of the
 * layer the step made and 0 for a step that made none. A step's layer of 0 bytes cannot
 * be told from a step without one: the sizes are known only when exactly as many entries
 * have a size as the image has layers.
 */
export function layerSizesFromHistory (history: readonly HistoryEntry[], layers: number): number[] | undefined {
  const sizes = history.map(entry => entry.Size).filter((size): size is number => typeof size === 'number' && Number.isSafeInteger(size) && size > 0).reverse()
  return sizes.length === layers ? sizes : undefined
}
