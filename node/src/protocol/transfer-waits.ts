/**
 * Where one bulk transfer waited, hop by hop: each side adds the time it spent waiting on
 * each thing it depends on (the engine's export, the asker's credit, a turn at the outlet,
 * the muxer taking a write, the next frame from the network, its own engine taking a
 * chunk). Logged once per transfer, it says which hop holds the bytes back; it costs one
 * clock reading per wait.
 */
export class TransferWaits {
  private readonly spent = new Map<string, number>()

  /** The time since `since` (a `performance.now()` reading) counts as waiting on `hop`; returns now. */
  add (hop: string, since: number): number {
    const now = performance.now()
    this.spent.set(hop, (this.spent.get(hop) ?? 0) + now - since)
    return now
  }

  /** Each hop's total in whole milliseconds. */
  totals (): Record<string, number> {
    const totals: Record<string, number> = {}
    for (const [hop, ms] of this.spent) totals[hop] = Math.round(ms)
    return totals
  }
}
