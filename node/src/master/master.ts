import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { randomBytes } from 'node:crypto'
import { localSession, submitToPeer, type TaskSession } from '../protocol/task-protocol.ts'
import { encodeSpec, validateSpec, type TaskSpec } from '../protocol/task-messages.ts'
import type { Worker } from '../worker/worker.ts'
import { resolvePeer, type PeerCandidate } from './resolve-peer.ts'

export type TaskRequest = Omit<TaskSpec, 'id' | 'attempt'>

export interface SubmittedTask {
  taskId: string
  peerId: string
  peerName: string
  session: TaskSession
}

export interface MasterInit {
  libp2p: Libp2p
  worker: Worker
  self: () => PeerCandidate
  /** Reachable members, for resolving a target. */
  peers: () => PeerCandidate[]
}

/** Task ids are made by the master: time-ordered for people, random enough to be unique across the mesh. */
export function newTaskId (): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
}

/** The master role for the tasks this node submits: resolve the target, name the task, open its stream. */
export class Master {
  private readonly init: MasterInit

  constructor (init: MasterInit) {
    this.init = init
  }

  async submit (target: string, request: TaskRequest, signal?: AbortSignal): Promise<SubmittedTask> {
    const peer = resolvePeer(target, this.init.self(), this.init.peers())
    // Validated here as the worker will, so a bad request fails with its reason before anything is sent.
    const spec: TaskSpec = validateSpec(encodeSpec({ ...request, id: newTaskId(), attempt: 1 }))
    const session = peer.self
      ? localSession(this.init.worker.submit(spec, peer.peerId).task)
      : await submitToPeer(this.init.libp2p, peerIdFromString(peer.peerId), spec, signal)
    return { taskId: spec.id, peerId: peer.peerId, peerName: peer.name, session }
  }
}
