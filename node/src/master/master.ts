import type { Libp2p } from '@libp2p/interface'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { silentLogger } from '../logger.ts'
import { requestStatus } from '../protocol/node-protocol.ts'
import { encodeSpec, TaskState, validateSpec, type TaskSpec } from '../protocol/task-messages.ts'
import type { TaskStore } from '../store/store.ts'
import type { CancelOutcome, Worker } from '../worker/worker.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { DEFAULT_LOST_AFTER_MS, Follower, type FollowerContext } from './follower.ts'
import { PeerWatch } from './peer-watch.ts'
import { explainUnknownPeer, resolvePeer, type PeerCandidate, type RefusingMachine, type ResolvedPeer } from './resolve-peer.ts'

export type TaskRequest = Omit<TaskSpec, 'id' | 'attempt'>

export interface SubmittedTask {
  taskId: string
  peerId: string
  peerName: string
}

export interface MasterInit {
  libp2p: Libp2p
  worker: Worker
  store: TaskStore
  self: () => PeerCandidate
  /** Reachable members, for resolving a target. */
  peers: () => PeerCandidate[]
  /** Machines that refused the handshake, to explain a target that is not found. */
  refused?: () => RefusingMachine[]
  /** How long a worker may be unreachable before its tasks are LOST (default 30 s). */
  lostAfterMs?: number
  /** How often a worker running our tasks is probed (default 5 s). */
  probeIntervalMs?: number
  log?: Logger
}

/** Task ids are made by the master: time-ordered for people, random enough to be unique across the mesh. */
export function newTaskId (): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
}

/**
 * The master role for the tasks this node submits: resolve the target, name and record the
 * task, send it, and follow it to its end whether or not anyone is watching (DESIGN.md §5).
 */
export class Master {
  private readonly init: MasterInit
  private readonly following = new Map<string, Follower>()
  private readonly watch: PeerWatch
  private readonly stopping = new AbortController()

  constructor (init: MasterInit) {
    this.init = init
    this.watch = new PeerWatch({
      intervalMs: init.probeIntervalMs,
      probe: async peerId => { await requestStatus(init.libp2p, peerIdFromString(peerId), { signal: this.stopping.signal }) }
    })
  }

  private context (): FollowerContext {
    const self = this.init.self()
    return {
      libp2p: this.init.libp2p,
      store: this.init.store,
      worker: this.init.worker,
      watch: this.watch,
      selfId: self.peerId,
      selfName: self.name,
      lostAfterMs: this.init.lostAfterMs ?? DEFAULT_LOST_AFTER_MS,
      log: this.init.log ?? silentLogger(),
      stopped: this.stopping.signal
    }
  }

  /**
   * Record the task, then send it. If it cannot be sent, it is recorded as REJECTED with
   * the reason, and the error is thrown.
   */
  async submit (target: string, request: TaskRequest): Promise<SubmittedTask> {
    let peer: ResolvedPeer
    try {
      peer = resolvePeer(target, this.init.self(), this.init.peers())
    } catch (err: any) {
      throw explainUnknownPeer(err, this.init.refused?.() ?? [])
    }
    // Validated here as the worker will, so a bad request fails with its reason before anything is sent.
    const spec: TaskSpec = validateSpec(encodeSpec({ ...request, id: newTaskId(), attempt: 1 }))
    const { store } = this.init
    store.createTask({ spec, role: 'submitted', peerId: peer.peerId, peerName: peer.name })
    const follower = new Follower(this.context(), { spec, peerId: peer.peerId, peerName: peer.name }, 0)
    try {
      await follower.submit()
    } catch (err: any) {
      store.recordEvent('submitted', spec.attempt, {
        taskId: spec.id, seq: 1, timeMs: Date.now(), state: TaskState.REJECTED, error: { code: 'PEER_UNREACHABLE', message: `could not send the task to ${peer.name}: ${err?.message ?? err}` }
      })
      throw err
    }
    this.track(follower)
    return { taskId: spec.id, peerId: peer.peerId, peerName: peer.name }
  }

  /** Follow again the tasks this node had sent and not seen end before it stopped. */
  resume (): void {
    const selfId = this.init.self().peerId
    for (const record of this.init.store.unfinished('submitted')) {
      if (this.following.has(record.taskId)) continue
      // A task on this node shares its events with the worker's record, which may be ahead of
      // ours: read them all again, so our record catches up with every state they passed.
      const lastSeq = record.peerId === selfId ? 0 : record.lastSeq
      const follower = new Follower(this.context(), { spec: record.spec, peerId: record.peerId, peerName: record.peerName }, lastSeq)
      this.track(follower)
      follower.resume()
    }
  }

  /** Since when the worker of a task we follow has been unreachable, if it is. */
  unreachableSince (taskId: string): number | undefined {
    return this.following.get(taskId)?.unreachableSince
  }

  /** Cancel a task this node submitted. Undefined if this node is not following it (it ended, or is not ours). */
  async cancel (taskId: string): Promise<CancelOutcome | undefined> {
    return await this.following.get(taskId)?.cancel()
  }

  stop (): void {
    this.stopping.abort()
    this.watch.stop()
  }

  private track (follower: Follower): void {
    const taskId = follower.task.spec.id
    this.following.set(taskId, follower)
    // Forgotten once it ended (the store keeps the rest), so a long-lived master holds only what runs.
    void follower.done.then(() => { this.following.delete(taskId) })
  }
}
