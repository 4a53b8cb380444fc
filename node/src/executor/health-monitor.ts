import type { ExecutorHealth } from './docker-health.ts'
import type { Executor } from './executor.ts'

/** How often the executor's health is checked again while the node runs. */
const EXECUTOR_CHECK_INTERVAL_MS = 15_000

/**
 * What the node tells peers about its executor: whether it answers (and its version), and
 * whether it enforces storage limits; checked at start and every EXECUTOR_CHECK_INTERVAL_MS.
 */
export class HealthMonitor {
  health: ExecutorHealth = { healthy: false, detail: 'not checked yet' }
  storageEnforced = false
  private readonly executor: Executor
  private timer?: NodeJS.Timeout

  constructor (executor: Executor) {
    this.executor = executor
  }

  async start (): Promise<void> {
    await this.check()
    this.timer = setInterval(() => { void this.check() }, EXECUTOR_CHECK_INTERVAL_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  private async check (): Promise<void> {
    this.health = await this.executor.health()
    this.storageEnforced = this.health.healthy && await this.executor.storageEnforced()
  }
}
