/** How often a worker that runs our tasks is asked for its Status (docs/architecture.md, "Roles": loss detection). */
export const DEFAULT_PROBE_INTERVAL_MS = 5_000
/** Failed probes in a row before its tasks' streams are given up as dead (a busy worker may miss one). */
export const PROBE_FAILURES_LOST = 2

export interface PeerWatchInit {
  /** Resolves if the peer answers in time, rejects otherwise. */
  probe: (peerId: string) => Promise<void>
  intervalMs?: number
}

interface Watched {
  listeners: Set<() => void>
  failures: number
  timer: NodeJS.Timeout
}

/**
 * Watches the workers that run this master's tasks. A stream to a killed process fails at
 * once, but a cut link fails nothing: a probe every few seconds notices the silence and
 * tells every follower of that peer to give up its stream and re-attach.
 */
export class PeerWatch {
  private readonly init: PeerWatchInit
  private readonly peers = new Map<string, Watched>()
  /** Peers with a probe in flight: kept apart from `peers`, whose entries come and go with the watchers. */
  private readonly probing = new Set<string>()

  constructor (init: PeerWatchInit) {
    this.init = init
  }

  /** Call `onSilent` when `peerId` stops answering; returns the function that stops watching. */
  watch (peerId: string, onSilent: () => void): () => void {
    let watched = this.peers.get(peerId)
    if (watched == null) {
      const timer = setInterval(() => { void this.check(peerId) }, this.init.intervalMs ?? DEFAULT_PROBE_INTERVAL_MS)
      timer.unref()
      watched = { listeners: new Set(), failures: 0, timer }
      this.peers.set(peerId, watched)
    }
    watched.listeners.add(onSilent)
    return () => {
      const current = this.peers.get(peerId)
      if (current == null) return
      current.listeners.delete(onSilent)
      if (current.listeners.size === 0) {
        clearInterval(current.timer)
        this.peers.delete(peerId)
      }
    }
  }

  stop (): void {
    for (const watched of this.peers.values()) clearInterval(watched.timer)
    this.peers.clear()
  }

  private async check (peerId: string): Promise<void> {
    if (!this.peers.has(peerId) || this.probing.has(peerId)) return
    this.probing.add(peerId)
    let answered = true
    try {
      await this.init.probe(peerId)
    } catch {
      answered = false
    } finally {
      this.probing.delete(peerId)
    }
    // Whoever watches now hears of this probe; nobody, if the watch ended meanwhile.
    const watched = this.peers.get(peerId)
    if (watched == null) return
    if (answered) {
      watched.failures = 0
      return
    }
    watched.failures++
    if (watched.failures >= PROBE_FAILURES_LOST) {
      watched.failures = 0
      for (const onSilent of [...watched.listeners]) onSilent()
    }
  }
}
