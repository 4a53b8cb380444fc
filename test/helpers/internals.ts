import type { CloudaiNode } from '../../node/src/node.ts'
import type { CandidateSet } from '../../node/src/mesh/candidate-set.ts'
import type { TaskStore } from '../../node/src/store/store.ts'
import type { Worker } from '../../node/src/worker/worker.ts'

/**
 * White-box access for tests that check what no user-facing surface shows (a worker's
 * ledger, a task's cancel signal, a crashed node's store left open): the node's private
 * parts, which `CloudaiNode` deliberately does not expose.
 */
export function workerOf (node: CloudaiNode): Worker {
  return (node as unknown as { worker: Worker }).worker
}

export function storeOf (node: CloudaiNode): TaskStore {
  return (node as unknown as { store: TaskStore }).store
}

/** A node's membership, for the sizes of what it holds of peers that are not members (a flood's footprint). */
export function membershipOf (node: CloudaiNode): { candidates: CandidateSet } {
  return (node as unknown as { membership: { candidates: CandidateSet } }).membership
}
