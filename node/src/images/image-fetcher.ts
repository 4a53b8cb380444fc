import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { CloudaiError, ImageMismatchError, ImageTransferBrokenError, ImageTransferError, toError } from '../errors.ts'
import { silentLogger } from '../logger.ts'
import { requestImage, type ImageOffer } from '../protocol/image-protocol.ts'
import type { StreamDialer } from '../protocol/peer-streams.ts'
import { TransferWaits } from '../protocol/transfer-waits.ts'
import { DEFAULT_IMAGE_TRANSFER, type ImageTransferPolicy } from '../worker/policy.ts'
import type { ImageEngine } from './engine-images.ts'
import { chainIds } from './layer-chain.ts'
import { guardImageArchive } from './load-guard.ts'

/** Progress reports at most this often: enough for a live line, few enough to store and send. */
export const IMAGE_PROGRESS_INTERVAL_MS = 250
/** A transfer that broke off is started again this many times in all, after these pauses: a task waits out a link's hiccup instead of failing at once. */
export const IMAGE_TRANSFER_ATTEMPTS = 3
export const IMAGE_TRANSFER_RETRY_DELAYS_MS = [1_000, 3_000]
/** A whole image over a slow LAN link fits; a transfer still going past this is ended. */
export const IMAGE_TRANSFER_TIMEOUT_MS = 30 * 60_000

export interface ImageFetchProgress {
  peer: string
  doneBytes: number
  /** The size of the layers that travel (all of the holder's image, or those the worker lacks); 0 when the holder could not tell. */
  totalBytes: number
  bytesPerSecond: number
}

/** Where a task's image is now: it was in the engine, or came from a peer; `absent` leaves it to a registry pull, saying why. */
export type ImageOrigin = { kind: 'engine' } | { kind: 'peer', peer: string } | { kind: 'absent', why: string }

export interface ImageNeed {
  imageId: string
  /** The task that names the image (the holder checks it is one of its own, sent to us). */
  taskId: string
  /** Its submitter: the peer asked for the image first. */
  submitter: string
  /** Members the submitter saw holding the image, asked in turn when the submitter cannot send it. */
  holders?: string[]
  /** The submitter's grant for the task and image, which those holders check. */
  grant?: string
}

/** One peer to ask for an image, and on whose behalf (a holder other than the submitter shows the submitter's grant). */
interface Source {
  peer: string
  grant?: string
}

export interface ImageFetcherInit {
  engine: ImageEngine
  dialer: StreamDialer
  /** This node's peer ID: never asked for an image (the engine was looked in first). */
  selfId: string
  policy: () => ImageTransferPolicy | undefined
  /** A refusal by this worker's policy, for the audit log. */
  onRefused?: (peer: string, imageId: string, reason: string) => void
  /** A task's image is in this engine now (found there or fetched): the node advertises it. */
  onPresent?: (imageId: string) => void
  /** Bytes of an image received from a peer, as they arrive (the daemon's metrics count them). */
  onReceived?: (bytes: number) => void
  /** Overrides IMAGE_TRANSFER_RETRY_DELAYS_MS (tests). */
  retryDelaysMs?: number[]
  log?: Logger
}

/** One image on its way in, shared by every task waiting for it. */
interface Transfer {
  done: Promise<ImageOrigin>
  listeners: Set<(progress: ImageFetchProgress) => void>
}

/**
 * The worker's image fetching: its own engine first, then the task's submitter over
 * `/cloudai/image/1.0.0`, leaving a registry pull to the executor when neither has it.
 * One transfer per image at a time: tasks that need an image already on its way wait for
 * that transfer and see its progress. What arrives is checked (`guardImageArchive`) as it
 * streams into the engine; an image that is not exactly the one asked for is not kept.
 */
export class ImageFetcher {
  private readonly init: ImageFetcherInit
  private readonly log: Logger
  private readonly transfers = new Map<string, Transfer>()

  constructor (init: ImageFetcherInit) {
    this.init = init
    this.log = init.log ?? silentLogger()
  }

  /** How many transfers are under way (for tests and status). */
  get inFlight (): number {
    return this.transfers.size
  }

  async ensure (need: ImageNeed, onProgress: (progress: ImageFetchProgress) => void): Promise<ImageOrigin> {
    if (await this.init.engine.inspect(need.imageId) !== undefined) {
      this.init.onPresent?.(need.imageId)
      return { kind: 'engine' }
    }
    const policy = this.init.policy() ?? DEFAULT_IMAGE_TRANSFER
    const candidates: Source[] = [{ peer: need.submitter }, ...(need.holders ?? []).filter(peer => peer !== need.submitter).map(peer => ({ peer, ...(need.grant != null ? { grant: need.grant } : {}) }))]
      .filter(source => source.peer !== this.init.selfId)
    if (candidates.length === 0) return { kind: 'absent', why: 'this node\'s engine lacks it' }
    if (!policy.accept) return this.refused(need, need.submitter, 'this node\'s policy takes no images from peers (imageTransfer.accept)')
    const sources = policy.servers == null ? candidates : candidates.filter(source => policy.servers!.includes(source.peer))
    if (sources.length === 0) return this.refused(need, need.submitter, `this node's policy takes images only from ${policy.servers!.length} listed peers (imageTransfer.servers), and ${candidates.map(source => source.peer).join(', ')} ${candidates.length === 1 ? 'is' : 'are'} not among them`)
    let transfer = this.transfers.get(need.imageId)
    if (transfer === undefined) {
      const listeners = new Set<(progress: ImageFetchProgress) => void>()
      const started: Transfer = { listeners, done: this.transferFromAny(need, sources, policy, progress => { for (const listener of listeners) listener(progress) }) }
      transfer = started
      this.transfers.set(need.imageId, started)
      void started.done.finally(() => { if (this.transfers.get(need.imageId) === started) this.transfers.delete(need.imageId) }).catch(() => {})
    }
    transfer.listeners.add(onProgress)
    try {
      return await transfer.done
    } finally {
      transfer.listeners.delete(onProgress)
    }
  }

  private refused (need: ImageNeed, peer: string, why: string): ImageOrigin {
    this.init.onRefused?.(peer, need.imageId, why)
    return { kind: 'absent', why }
  }

  /**
   * The submitter first, then each holder it named, until one sends the image; the
   * failures, each with its reason, make the `absent` origin (a registry is tried next).
   * Any failure moves on to the next source: a holder that lacks the image, is unreachable,
   * refuses, or sent a bad archive says nothing of the next one.
   */
  private async transferFromAny (need: ImageNeed, sources: Source[], policy: ImageTransferPolicy, report: (progress: ImageFetchProgress) => void): Promise<ImageOrigin> {
    const signal = AbortSignal.timeout(IMAGE_TRANSFER_TIMEOUT_MS)
    const failures: string[] = []
    for (const [index, source] of sources.entries()) {
      const failure = await this.transfer(need, source, index === sources.length - 1, policy, report, signal)
      if (failure === undefined) {
        this.init.onPresent?.(need.imageId)
        return { kind: 'peer', peer: source.peer }
      }
      failures.push(failure)
      if (signal.aborted) break
    }
    return { kind: 'absent', why: failures.join('; ') }
  }

  /**
   * Fetch from one source, again after a broken stream (or, from the last source, after a
   * failed dial too: with other sources left, one that cannot be reached is passed over at
   * once); undefined when the image arrived, else what went wrong.
   */
  private async transfer (need: ImageNeed, source: Source, last: boolean, policy: ImageTransferPolicy, report: (progress: ImageFetchProgress) => void, signal: AbortSignal): Promise<string | undefined> {
    const delays = this.init.retryDelaysMs ?? IMAGE_TRANSFER_RETRY_DELAYS_MS
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fetchFrom(source, need, policy.maxBytes, report, signal)
        return undefined
      } catch (err) {
        const error = toError(err)
        this.log.warn({ peer: source.peer, image: need.imageId, attempt, err: error.message }, 'fetching an image from a peer failed')
        // A refusal, a check that failed, a limit: asking again gets the same answer. A broken stream or a failed dial may not.
        const broken = error instanceof ImageTransferBrokenError || (last && !(error instanceof CloudaiError))
        if (!broken || attempt >= IMAGE_TRANSFER_ATTEMPTS || signal.aborted) {
          return `fetching it from ${source.peer}${source.grant != null ? ' (a holder the submitter named)' : ''} failed${attempt > 1 ? ` (${attempt} attempts)` : ''}: ${error.message}`
        }
        await new Promise(resolve => setTimeout(resolve, delays[Math.min(attempt - 1, delays.length - 1)] ?? 0))
      }
    }
  }

  private async fetchFrom (source: Source, need: ImageNeed, maxBytes: number, report: (progress: ImageFetchProgress) => void, signal: AbortSignal): Promise<void> {
    const peer = source.peer
    const phases = new TransferPhases()
    // What this engine holds is looked up while the request and the offer travel.
    const scanning = this.init.engine.heldChainIds()
    scanning.catch(() => {})
    const session = await requestImage(this.init.dialer, peerIdFromString(peer), { taskId: need.taskId, imageId: need.imageId, maxBytes, ...(source.grant != null ? { submitter: need.submitter, grant: source.grant } : {}) }, signal)
    const { offer } = session
    if (offer.sizeBytes > maxBytes) {
      const error = new ImageTransferError(`the image is ${offer.sizeBytes} bytes, more than this node's limit of ${maxBytes} (policy imageTransfer.maxSize)`)
      session.abort(error)
      throw error
    }
    phases.mark('offer')
    let held: Set<string>
    try {
      held = await scanning
    } catch (err) {
      session.abort(toError(err))
      throw err
    }
    phases.mark('held')
    const chain = chainIds(offer.diffIds)
    const heldLayers = chain.flatMap((chainId, index) => held.has(chainId) ? [index] : [])
    const totalBytes = bytesToTravel(offer, new Set(heldLayers))
    const started = performance.now()
    let doneBytes = 0
    let lastReport = 0
    const progress = (force: boolean): void => {
      const now = performance.now()
      if (!force && now - lastReport < IMAGE_PROGRESS_INTERVAL_MS) return
      lastReport = now
      const seconds = (now - started) / 1000
      report({ peer, doneBytes, totalBytes, bytesPerSecond: seconds > 0 ? Math.round(doneBytes / seconds) : 0 })
    }
    const onReceived = this.init.onReceived
    const waits = new TransferWaits()
    const counted = (async function * () {
      for await (const chunk of session.receive(heldLayers, maxBytes, signal, waits)) {
        if (doneBytes === 0) phases.mark('firstByte')
        doneBytes += chunk.byteLength
        onReceived?.(chunk.byteLength)
        progress(false)
        yield chunk
      }
      phases.mark('lastByte')
    })()
    await this.init.engine.load(guardImageArchive(counted, need.imageId), signal)
    phases.mark('loaded')
    progress(true)
    if (await this.init.engine.inspect(need.imageId) === undefined) {
      throw new ImageMismatchError(`the engine loaded the archive from ${peer}, but holds no image ${need.imageId} afterwards`)
    }
    phases.mark('verified')
    this.log.info({ peer, image: need.imageId, bytes: doneBytes, phasesMs: phases.durations(), waitsMs: waits.totals() }, 'fetched an image from a peer')
  }
}

/** The size of what travels: the whole image, or the layers the worker lacks when the holder said each layer's size; 0 when unknown. */
export function bytesToTravel (offer: ImageOffer, heldLayers: ReadonlySet<number>): number {
  if (heldLayers.size === 0) return offer.sizeBytes
  if (offer.layerSizes.length !== offer.diffIds.length) return 0
  return offer.layerSizes.reduce((sum, size, index) => heldLayers.has(index) ? sum : sum + size, 0)
}

/** How long each step of one transfer took, for the log: where a slow transfer spends its time. */
class TransferPhases {
  private last = performance.now()
  private readonly spent: Record<string, number> = {}

  mark (phase: string): void {
    const now = performance.now()
    this.spent[phase] = Math.round(now - this.last)
    this.last = now
  }

  durations (): Record<string, number> {
    return { ...this.spent }
  }
}
