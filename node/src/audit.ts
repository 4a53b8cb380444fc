import { appendFileSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const AUDIT_FILE = 'audit.log'
/** Past this size the log is moved to `audit.log.1` (replacing an older one): a flood cannot fill the disk. */
export const AUDIT_MAX_BYTES = 10 * 1024 * 1024

export interface AuditEntry {
  /** Who was refused: a peer ID (or an address, before the peer is known). */
  peer: string
  /** What was refused: `connect`, `submit`, `attach`, `cancel`. */
  action: string
  /** A code (`NOT_MEMBER`, `POLICY`, `RATE_LIMITED`, `FORBIDDEN`) and the reason given. */
  code: string
  reason: string
  taskId?: string
}

/**
 * The node's record of every refusal (docs/architecture.md, "Roles"): one JSON object
 * per line in `<data-dir>/audit.log`, mode 0600, written synchronously so that nothing
 * refused is missing after a crash.
 */
export class AuditLog {
  private readonly path: string
  private size: number
  private readonly onRecord?: (entry: AuditEntry) => void

  /** `onRecord`: told of every refusal too (the metrics count them by reason). */
  constructor (dataDir: string, onRecord?: (entry: AuditEntry) => void) {
    this.path = join(dataDir, AUDIT_FILE)
    this.onRecord = onRecord
    this.size = (() => { try { return statSync(this.path).size } catch { return 0 } })()
  }

  record (entry: AuditEntry): void {
    this.onRecord?.(entry)
    const line = JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n'
    try {
      if (this.size + line.length > AUDIT_MAX_BYTES) {
        renameSync(this.path, `${this.path}.1`)
        this.size = 0
      }
      appendFileSync(this.path, line, { mode: 0o600 })
      this.size += Buffer.byteLength(line)
    } catch {
      // An audit log that cannot be written must not stop the node from refusing.
    }
  }
}
