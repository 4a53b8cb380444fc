import { CloudaiError } from '../errors.ts'
import { NANO_PER_CPU, raisedToFloors, toNanoCpus } from '../resource-floors.ts'
import type { ResourceAmounts } from '../resources.ts'
import { formatBytes } from '../units.ts'

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
  /** The reservation's GPUs that came from the free pool and go back to it (a re-adopted container may hold GPUs the node no longer offers). */
  pooledGpus: string[]
}

/**
 * A node's resources and what accepted tasks hold of them (docs/architecture.md, "Roles"). Every task's
 * reservation is released exactly once; GPUs are handed out by device id from a free
 * pool, so two tasks never share one. A task holds at least the floors (resource-floors.ts),
 * as its container is held to them, so a swarm of tiny tasks cannot hold nothing.
 */
export class ResourceLedger {
  readonly capacity: ResourceAmounts
  private readonly capacityNanoCpu: number
  private readonly held = new Map<string, Held>()
  /** Device ids not held by any task, lowest first. */
  private readonly freeGpus: string[]
  private used = { nanoCpu: 0, memoryBytes: 0, storageBytes: 0, gpus: 0 }

  /** `gpuDeviceIds` defaults to `0 … capacity.gpus - 1`, as `nvidia-smi -L` numbers them. */
  constructor (capacity: ResourceAmounts, gpuDeviceIds?: string[]) {
    this.capacity = { ...capacity }
    this.capacityNanoCpu = toNanoCpus(capacity.cpu)
    this.freeGpus = gpuDeviceIds != null ? [...gpuDeviceIds] : Array.from({ length: capacity.gpus }, (_, i) => String(i))
    if (this.freeGpus.length !== capacity.gpus || new Set(this.freeGpus).size !== capacity.gpus) {
      throw new ReservationError(`the node has ${capacity.gpus} GPUs but ${this.freeGpus.length} distinct device ids were given`)
    }
  }

  /**
   * Why a task asking for `asked` can never run on this node, however empty, with the numbers
   * ("needs 64 GiB memory, node has 16 GiB"); undefined if it can.
   */
  neverFits (asked: ResourceAmounts): string | undefined {
    const needs = raisedToFloors(asked)
    const has = this.capacity
    const over: string[] = []
    if (toNanoCpus(needs.cpu) > this.capacityNanoCpu) over.push(`${needs.cpu} CPU, node has ${has.cpu}`)
    if (needs.memoryBytes > has.memoryBytes) over.push(`${formatBytes(needs.memoryBytes)} memory, node has ${formatBytes(has.memoryBytes)}`)
    if (needs.storageBytes > has.storageBytes) over.push(`${formatBytes(needs.storageBytes)} storage, node has ${formatBytes(has.storageBytes)}`)
    if (needs.gpus > has.gpus) over.push(`${needs.gpus} GPU, node has ${has.gpus}`)
    return over.length > 0 ? `needs ${over.join('; ')}` : undefined
  }

  /** Whether a task asking for `asked` fits beside what is held now. */
  fits (asked: ResourceAmounts): boolean {
    const needs = raisedToFloors(asked)
    return this.used.nanoCpu + toNanoCpus(needs.cpu) <= this.capacityNanoCpu &&
      this.used.memoryBytes + needs.memoryBytes <= this.capacity.memoryBytes &&
      this.used.storageBytes + needs.storageBytes <= this.capacity.storageBytes &&
      needs.gpus <= this.freeGpus.length
  }

  /**
   * Hold what a task asked for, raised to the floors, with the lowest free GPUs. Throws
   * ReservationError if it does not fit now or the task holds a reservation already.
   */
  reserve (taskId: string, asked: ResourceAmounts): Reservation {
    if (this.held.has(taskId)) throw new ReservationError(`task ${taskId} holds a reservation already`)
    const needs = raisedToFloors(asked)
    if (!this.fits(needs)) throw new ReservationError(`task ${taskId} does not fit beside the tasks running now`)
    const gpus = this.freeGpus.splice(0, needs.gpus)
    return this.hold(taskId, needs, gpus, gpus)
  }

  /**
   * Hold what the container of a task that outlived the node's last run holds (raised to the
   * floors, as it is held to them), the GPUs it was given included, whether or not it fits:
   * it runs already. A node restarted with less capacity is over-committed (`overCommit`)
   * until enough of them end, and admits nothing new meanwhile. Throws ReservationError if
   * the task holds a reservation already.
   */
  readopt (taskId: string, asked: ResourceAmounts, gpuDeviceIds: string[]): Reservation {
    if (this.held.has(taskId)) throw new ReservationError(`task ${taskId} holds a reservation already`)
    const pooled = gpuDeviceIds.filter(id => this.freeGpus.includes(id))
    for (const id of pooled) this.freeGpus.splice(this.freeGpus.indexOf(id), 1)
    return this.hold(taskId, raisedToFloors(asked), [...gpuDeviceIds], pooled)
  }

  private hold (taskId: string, needs: ResourceAmounts, gpuDeviceIds: string[], pooledGpus: string[]): Reservation {
    const reservation: Reservation = { taskId, resources: needs, gpuDeviceIds }
    const held: Held = { reservation, nanoCpu: toNanoCpus(needs.cpu), pooledGpus }
    this.held.set(taskId, held)
    this.used.nanoCpu += held.nanoCpu
    this.used.memoryBytes += needs.memoryBytes
    this.used.storageBytes += needs.storageBytes
    this.used.gpus += gpuDeviceIds.length
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
    this.used.gpus -= gpuDeviceIds.length
    this.freeGpus.push(...held.pooledGpus)
    this.freeGpus.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    return true
  }

  /** What the reservations hold beyond the capacity ("2 CPU held, node has 1"), or undefined while they fit in it. */
  overCommit (): string | undefined {
    const has = this.capacity
    const over: string[] = []
    if (this.used.nanoCpu > this.capacityNanoCpu) over.push(`${this.used.nanoCpu / NANO_PER_CPU} CPU held, node has ${has.cpu}`)
    if (this.used.memoryBytes > has.memoryBytes) over.push(`${formatBytes(this.used.memoryBytes)} memory held, node has ${formatBytes(has.memoryBytes)}`)
    if (this.used.storageBytes > has.storageBytes) over.push(`${formatBytes(this.used.storageBytes)} storage held, node has ${formatBytes(has.storageBytes)}`)
    if (this.used.gpus > has.gpus) over.push(`${this.used.gpus} GPU held, node has ${has.gpus}`)
    return over.length > 0 ? over.join('; ') : undefined
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
      gpus: this.used.gpus
    }
  }
}
