import { CloudaiError } from '../errors.ts'
import type { ResourceAmounts } from '../resources.ts'
import { formatBytes } from '../units.ts'

/**
 * CPU is counted in whole nano-CPUs (Docker's `NanoCpus` unit), so reserving and releasing
 * 0.1 core many times never drifts: 0.1 + 0.2 is not 0.3 in floating point.
 */
const NANO_PER_CPU = 1e9

/** A reservation was asked for that does not fit now, or for a task that already holds one. */
export class ReservationError extends CloudaiError {
  override readonly code = 'RESERVATION'
  constructor (message = 'the reservation does not fit') {
    super(message)
  }
}

/** What one accepted task holds: its amounts, and the GPUs that are its alone. */
export interface Reservation {
  taskId: string
  resources: ResourceAmounts
  gpuDeviceIds: string[]
}

interface Held {
  reservation: Reservation
  nanoCpu: number
}

function nanoCpu (cpu: number): number {
  const nano = Math.round(cpu * NANO_PER_CPU)
  // Any positive request holds something, so a swarm of tiny tasks cannot hold nothing.
  return cpu > 0 ? Math.max(1, nano) : nano
}

/**
 * A node's resources and what accepted tasks hold of them (docs/architecture.md, "Roles"). Every task's
 * reservation is released exactly once; GPUs are handed out by device id from a free
 * pool, so two tasks never share one.
 */
export class ResourceLedger {
  readonly capacity: ResourceAmounts
  private readonly capacityNanoCpu: number
  private readonly held = new Map<string, Held>()
  /** Device ids not held by any task, lowest first. */
  private readonly freeGpus: string[]
  private used = { nanoCpu: 0, memoryBytes: 0, storageBytes: 0 }

  /** `gpuDeviceIds` defaults to `0 … capacity.gpus - 1`, as `nvidia-smi -L` numbers them. */
  constructor (capacity: ResourceAmounts, gpuDeviceIds?: string[]) {
    this.capacity = { ...capacity }
    this.capacityNanoCpu = nanoCpu(capacity.cpu)
    this.freeGpus = gpuDeviceIds != null ? [...gpuDeviceIds] : Array.from({ length: capacity.gpus }, (_, i) => String(i))
    if (this.freeGpus.length !== capacity.gpus || new Set(this.freeGpus).size !== capacity.gpus) {
      throw new ReservationError(`the node has ${capacity.gpus} GPUs but ${this.freeGpus.length} distinct device ids were given`)
    }
  }

  /**
   * Why a task needing `needs` can never run on this node, however empty, with the numbers
   * ("needs 64 GiB memory, node has 16 GiB"); undefined if it can.
   */
  neverFits (needs: ResourceAmounts): string | undefined {
    const has = this.capacity
    const over: string[] = []
    if (nanoCpu(needs.cpu) > this.capacityNanoCpu) over.push(`${needs.cpu} CPU, node has ${has.cpu}`)
    if (needs.memoryBytes > has.memoryBytes) over.push(`${formatBytes(needs.memoryBytes)} memory, node has ${formatBytes(has.memoryBytes)}`)
    if (needs.storageBytes > has.storageBytes) over.push(`${formatBytes(needs.storageBytes)} storage, node has ${formatBytes(has.storageBytes)}`)
    if (needs.gpus > has.gpus) over.push(`${needs.gpus} GPU, node has ${has.gpus}`)
    return over.length > 0 ? `needs ${over.join('; ')}` : undefined
  }

  /** Whether `needs` fits beside what is held now. */
  fits (needs: ResourceAmounts): boolean {
    return this.used.nanoCpu + nanoCpu(needs.cpu) <= this.capacityNanoCpu &&
      this.used.memoryBytes + needs.memoryBytes <= this.capacity.memoryBytes &&
      this.used.storageBytes + needs.storageBytes <= this.capacity.storageBytes &&
      needs.gpus <= this.freeGpus.length
  }

  /**
   * Hold `needs` for a task. Throws ReservationError if it does not fit now or the task holds
   * a reservation already. `gpuDeviceIds` asks for those GPUs (a re-adopted container has
   * them already); the lowest free ones are taken otherwise.
   */
  reserve (taskId: string, needs: ResourceAmounts, gpuDeviceIds?: string[]): Reservation {
    if (this.held.has(taskId)) throw new ReservationError(`task ${taskId} holds a reservation already`)
    if (!this.fits(needs)) throw new ReservationError(`task ${taskId} does not fit beside the tasks running now`)
    const wanted = gpuDeviceIds?.length === needs.gpus && gpuDeviceIds.every(id => this.freeGpus.includes(id)) ? gpuDeviceIds : undefined
    const gpus = wanted != null ? wanted.map(id => this.freeGpus.splice(this.freeGpus.indexOf(id), 1)[0]) : this.freeGpus.splice(0, needs.gpus)
    const reservation: Reservation = { taskId, resources: { ...needs }, gpuDeviceIds: gpus }
    const held: Held = { reservation, nanoCpu: nanoCpu(needs.cpu) }
    this.held.set(taskId, held)
    this.used.nanoCpu += held.nanoCpu
    this.used.memoryBytes += needs.memoryBytes
    this.used.storageBytes += needs.storageBytes
    return reservation
  }

  /** Give back what a task holds. True the first time; every later call (or a task that held nothing) is a no-op. */
  release (taskId: string): boolean {
    const held = this.held.get(taskId)
    if (held == null) return false
    this.held.delete(taskId)
    const { resources, gpuDeviceIds } = held.reservation
    this.used.nanoCpu -= held.nanoCpu
    this.used.memoryBytes -= resources.memoryBytes
    this.used.storageBytes -= resources.storageBytes
    this.freeGpus.push(...gpuDeviceIds)
    this.freeGpus.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    return true
  }

  reservation (taskId: string): Reservation | undefined {
    return this.held.get(taskId)?.reservation
  }

  /** What all reservations hold together. */
  allocated (): ResourceAmounts {
    return {
      cpu: this.used.nanoCpu / NANO_PER_CPU,
      memoryBytes: this.used.memoryBytes,
      storageBytes: this.used.storageBytes,
      gpus: this.capacity.gpus - this.freeGpus.length
    }
  }
}
