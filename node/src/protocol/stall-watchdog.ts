/**
 * A deadline that moves with progress: its signal aborts once `ms` pass without a call to
 * `progress()`. One timer for a whole transfer, refreshed per chunk, instead of a new
 * timeout signal (and a composite of it) for every chunk: a bulk stream of hundreds of
 * chunks a second paid for those in timers, listeners and garbage.
 */
export class StallWatchdog {
  private readonly controller = new AbortController()
  private readonly timer: NodeJS.Timeout
  readonly signal: AbortSignal

  constructor (ms: number, life?: AbortSignal) {
    this.timer = setTimeout(() => { this.controller.abort() }, ms)
    this.signal = life == null ? this.controller.signal : AbortSignal.any([this.controller.signal, life])
  }

  progress (): void {
    this.timer.refresh()
  }

  stop (): void {
    clearTimeout(this.timer)
  }
}
