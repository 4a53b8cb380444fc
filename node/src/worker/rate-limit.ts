/** Buckets idle this long are full again and dropped: the map holds only recent submitters. */
const IDLE_FORGET_MS = 60_000

interface Bucket {
  tokens: number
  at: number
}

/**
 * Tasks a peer may submit (docs/architecture.md, "Roles"): a token bucket per
 * submitter, `burst` deep, refilled at `perSecond`. One flooding peer gets refusals while
 * the others' tasks go on being admitted.
 */
export class SubmissionLimiter {
  private readonly perSecond: number
  private readonly burst: number
  private readonly buckets = new Map<string, Bucket>()

  constructor (limits: { perSecond: number, burst: number }) {
    this.perSecond = limits.perSecond
    this.burst = limits.burst
  }

  /** Take one submission for `peer`; false when its bucket is empty. */
  take (peer: string, now = Date.now()): boolean {
    if (this.buckets.size > 1000) this.forgetIdle(now)
    const bucket = this.buckets.get(peer) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / 1000 * this.perSecond)
    bucket.at = now
    this.buckets.set(peer, bucket)
    if (bucket.tokens < 1) return false
    bucket.tokens--
    return true
  }

  private forgetIdle (now: number): void {
    for (const [peer, bucket] of this.buckets) if (now - bucket.at > IDLE_FORGET_MS) this.buckets.delete(peer)
  }
}
