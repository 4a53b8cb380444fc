/**
 * Turns at one shared outlet (a holder's sending of image exports), taken in order of
 * asking: while several transfers are ready to send, they alternate piece by piece, and
 * since every piece but an export's last is the same size (IMAGE_CHUNK_BYTES), alternating
 * pieces is sharing bytes equally. A transfer that is not ready (waiting for its asker's
 * credit) asks for no turn, so the others use the outlet meanwhile, and one that comes
 * (back) waits behind at most one piece of each other transfer.
 */
export class FairShare {
  private busy = false
  private readonly waiting: Array<() => void> = []

  /** Wait for a turn; call `release` once the piece is handed on (also when that failed). */
  async acquire (signal: AbortSignal): Promise<void> {
    // An abort that came before the call fires no event: without this it would wait for a turn.
    signal.throwIfAborted()
    if (!this.busy) {
      this.busy = true
      return
    }
    await new Promise<void>((resolve, reject) => {
      const go = (): void => { signal.removeEventListener('abort', onAbort); resolve() }
      const onAbort = (): void => {
        const at = this.waiting.indexOf(go)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(go)
    })
  }

  /** The turn is over: the longest waiting goes next. */
  release (): void {
    const next = this.waiting.shift()
    if (next === undefined) this.busy = false
    else next()
  }
}
