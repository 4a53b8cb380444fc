import type { PeerId, PrivateKey } from '@libp2p/interface'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { ensureDataDir } from './data-dir.ts'
import { DEFAULT_KEEP_BYTES, DEFAULT_KEEP_FOR_MS, DEFAULT_LISTEN, DEFAULT_MDNS_TAG } from './defaults.ts'
import { Docker } from './executor/docker-client.ts'
import { createDockerExecutor } from './executor/docker.ts'
import { dockerImageEngine, type ImageEngine } from './images/engine-images.ts'
import { ImageFetcher } from './images/image-fetcher.ts'
import { HeldImages } from './images/held-images.ts'
import { MAX_IMAGE_HOLDERS, signImageGrant } from './images/image-grant.ts'
import { imageServer } from './images/image-server.ts'
import { registerImageProtocol } from './protocol/image-protocol.ts'
import type { Executor } from './executor/executor.ts'
import { HealthMonitor } from './executor/health-monitor.ts'
import { Master } from './master/master.ts'
import type { CandidateStatus } from './master/placement.ts'
import { resolvePeer, type PeerCandidate } from './master/resolve-peer.ts'
import { silentLogger } from './logger.ts'
import type { CandidateTiming } from './mesh/candidate-set.ts'
import { IDENTITY_FILE, loadOrCreateIdentity } from './mesh/identity.ts'
import { createMesh, type Mesh } from './mesh/libp2p.ts'
import { Membership, type Member } from './mesh/membership.ts'
import type { RefusedPeer } from './mesh/refused-peers.ts'
import { relayedPeerView, toPeerView, type PeerView } from './mesh/peer-view.ts'
import { SWARM_KEY_FILE, loadSwarmKey } from './mesh/swarm-key.ts'
import type { PeerStatus } from './protocol/node-messages.ts'
import { registerNodeProtocol } from './protocol/node-protocol.ts'
import { registerTasksProtocol } from './protocol/tasks-protocol.ts'
import { fetchInputsFromPeer, registerFilesProtocol } from './protocol/files-protocol.ts'
import { OutputStore } from './files/output-store.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import type { TaskSpec, TaskState } from './protocol/task-messages.ts'
import { detectResources, type ResourceAmounts } from './resources.ts'
import { TaskService } from './tasks/task-service.ts'
import type { WorkerTask } from './worker/worker-task.ts'
import { Worker } from './worker/worker.ts'
import type { RetentionRules } from './store/retention.ts'
import { TaskStore } from './store/store.ts'
import { AuditLog, type AuditEntry } from './audit.ts'
import type { Registry } from 'prom-client'
import { loadPolicy, type WorkerPolicy } from './worker/policy.ts'
import { printable } from './printable.ts'
import { NotSubmitterError } from './errors.ts'
import { VERSION } from './version.ts'
import { STATUS_CHECK_INTERVAL_MS, StatusFeed } from './protocol/status-feed.ts'

/**
 * How often mDNS asks the LAN who is there (the library's default is 10 s). A starting node
 * asks at once and everyone answers, and peer exchange plus the Status refresh keep the
 * member list current, so repeated queries only heal partitions; each one costs every node
 * on the LAN an answer.
 */
export const DEFAULT_MDNS_INTERVAL_MS = 30_000

export interface NodeOptions {
  dataDir: string
  /** Human name advertised to peers; default: the hostname. */
  name?: string
  listen?: string[]
  /** Run without a cluster key (anyone on the LAN can join): `--open`. */
  open?: boolean
  /** mDNS service tag; `false` disables mDNS. */
  mdnsTag?: string | false
  mdnsIntervalMs?: number
  bootstrap?: string[]
  /** Replace detected capacity figures (`--cpu`, `--memory`, `--storage`, `--gpus`). */
  capacity?: Partial<ResourceAmounts>
  labels?: Record<string, string>
  inboundConnectionThreshold?: number
  refreshIntervalMs?: number
  /** How long peers only heard of are kept and retried (simulations shorten it). */
  candidateTiming?: CandidateTiming
  log?: Logger
  /** What runs containers; the Docker engine by default (the simulated one in simulations). */
  executor?: Executor
  /**
   * The engine images travel from and to (`/cloudai/image/1.0.0`); by default the Docker
   * engine when the executor is the default one, none otherwise (`false`: none).
   */
  imageEngine?: ImageEngine | false
  /** Called when a task arrives for this node (the daemon prints the "TASK RECEIVED" box). */
  onTaskReceived?: (spec: TaskSpec, submitter: string) => void
  /** Called when a task on this node changes state. */
  onTaskState?: (task: WorkerTask, state: TaskState) => void
  /** How long a worker running this node's tasks may be unreachable before they are LOST (`--lost-after`). */
  lostAfterMs?: number
  /** How often such a worker is probed. */
  probeIntervalMs?: number
  /** Output kept per task (`--log-limit`, default 16 MiB). */
  logLimitBytes?: number
  /** What this worker accepts; default: the data dir's policy.json, else every member's task. */
  policy?: WorkerPolicy
  /** Told of every refusal this node audits (the daemon's metrics count them). */
  onRefusal?: (entry: AuditEntry) => void
  /** Told of the bytes of every image received from a peer (the daemon's metrics count them). */
  onImageBytes?: (bytes: number) => void
  /** Where libp2p's own metrics go (the daemon's `/metrics`); none are collected without it. */
  libp2pMetrics?: Registry
  /** Which finished tasks the history keeps (`--keep-for`, `--keep-size`; default 30 days and 1 GiB); a daemon applies them. */
  retention?: Partial<RetentionRules>
}

/** What `cloudai id` shows. */
export interface NodeInfo {
  peerId: string
  name: string
  addrs: string[]
  version: string
  capacity: ResourceAmounts
  open: boolean
  keyFingerprint?: string
  executorHealthy: boolean
  executorDetail: string
}

export interface CloudaiNode {
  readonly peerId: PeerId
  readonly name: string
  readonly libp2p: Mesh
  readonly log: Logger
  /** The node's tasks: send, follow, cancel, and the history. */
  readonly tasks: TaskService
  start(): Promise<void>
  stop(): Promise<void>
  info(): NodeInfo
  status(): PeerStatus
  peers(): PeerView[]
  /** Machines discovered lately that refused the handshake (another cluster key?). */
  refused(): RefusedPeer[]
  connect(addr: string): Promise<PeerView>
}

class Node implements CloudaiNode {
  readonly peerId: PeerId
  readonly name: string
  readonly libp2p: Mesh
  readonly log: Logger
  readonly tasks: TaskService
  private readonly worker: Worker
  private readonly master: Master
  private readonly store: TaskStore
  private readonly audit: AuditLog
  private readonly health: HealthMonitor
  private readonly membership: Membership
  /** This node's status changes, for the status links. */
  private readonly statusFeed: StatusFeed
  private readonly capacity: ResourceAmounts
  private readonly options: NodeOptions
  private readonly keyFingerprint?: string
  private readonly imageEngine?: ImageEngine
  /** The image IDs this node advertises (absent without an image engine). */
  private readonly heldImages?: HeldImages
  private readonly outputStore: OutputStore

  constructor (libp2p: Mesh, store: TaskStore, audit: AuditLog, options: NodeOptions, capacity: ResourceAmounts, log: Logger, keyFingerprint?: string, identityKey?: PrivateKey) {
    this.libp2p = libp2p
    this.peerId = libp2p.peerId
    this.name = options.name ?? hostname()
    this.options = options
    this.capacity = capacity
    this.log = log
    this.keyFingerprint = keyFingerprint
    this.store = store
    this.audit = audit
    const executor = options.executor ?? createDockerExecutor()
    this.imageEngine = options.imageEngine === false ? undefined : (options.imageEngine ?? (options.executor == null ? dockerImageEngine(new Docker()) : undefined))
    const imageEngine = this.imageEngine
    const heldImages = imageEngine != null ? new HeldImages(async () => await imageEngine.imageIds()) : undefined
    this.heldImages = heldImages
    this.health = new HealthMonitor(executor)
    this.outputStore = new OutputStore(join(options.dataDir, 'outputs'))
    this.worker = new Worker({
      executor,
      capacity,
      nodeId: this.peerId.toString(),
      store,
      logLimitBytes: options.logLimitBytes,
      policy: options.policy,
      onReceived: options.onTaskReceived,
      onState: options.onTaskState,
      onOrphan: taskId => { log.warn({ task: taskId }, 'removed a container of this node that no task claims') },
      onOverCommit: detail => { log.warn({ overCommit: detail }, `over-committed: the tasks still running from before the restart hold more than this node now offers (${detail}); no new task starts until enough of them end`) },
      onRefused: (submitter, taskId, code, reason) => { this.audit.record({ peer: submitter, action: 'submit', code, reason, taskId }) },
      ...(imageEngine != null
        ? {
            images: new ImageFetcher({
              engine: imageEngine,
              dialer: libp2p,
              selfId: this.peerId.toString(),
              policy: () => options.policy?.imageTransfer,
              log,
              onRefused: (peer, imageId, reason) => { this.audit.record({ peer, action: 'image-fetch', code: 'POLICY', reason: `${imageId}: ${reason}` }) },
              onPresent: imageId => { heldImages?.touch(imageId) },
              ...(options.onImageBytes != null ? { onReceived: options.onImageBytes } : {})
            })
          }
        : {}),
      files: {
        store: this.outputStore,
        fetchInputs: async ({ taskId, attempt, submitter }) => submitter === this.peerId.toString()
          ? await this.master.inputs(submitter, taskId, attempt)
          : await fetchInputsFromPeer(this.libp2p, peerIdFromString(submitter), taskId, attempt)
      }
    })
    this.master = new Master({
      libp2p,
      worker: this.worker,
      store,
      self: () => ({ peerId: this.peerId.toString(), name: this.name }),
      selfStatus: () => this.candidateStatus(),
      peers: () => this.targets(),
      reach: async target => await this.reachRelayed(target),
      candidates: () => [this.candidateStatus(), ...this.membership.list().filter(member => member.reachable).map(member => candidateOf(member, this.membership.isLinked(member.peerId.toString())))],
      refused: () => this.membership.refused(),
      lostAfterMs: options.lostAfterMs,
      logLimitBytes: options.logLimitBytes,
      probeIntervalMs: options.probeIntervalMs,
      ...(imageEngine != null
        ? {
            imageIdOf: async (image: string) => {
              const id = (await imageEngine.inspect(image))?.id
              if (id !== undefined) heldImages?.touch(id)
              return id
            },
            ...(identityKey != null
              ? {
                  imageSources: async (taskId: string, imageId: string) => {
                    const holders = this.membership.list()
                      .filter(member => member.reachable && (member.status.imageIds ?? []).includes(imageId))
                      .slice(0, MAX_IMAGE_HOLDERS).map(member => member.peerId.toString())
                    return { holders, grant: holders.length > 0 ? await signImageGrant(identityKey, taskId, imageId) : '' }
                  }
                }
              : {})
          }
        : {}),
      log
    })
    // Tests that refresh quickly see changes as quickly.
    this.statusFeed = new StatusFeed(() => this.status(), Math.min(STATUS_CHECK_INTERVAL_MS, options.refreshIntervalMs ?? STATUS_CHECK_INTERVAL_MS))
    this.membership = new Membership({
      libp2p,
      log,
      feed: this.statusFeed,
      selfName: this.name,
      refreshIntervalMs: options.refreshIntervalMs,
      candidateTiming: options.candidateTiming,
      bootstrap: (options.bootstrap ?? []).map(addr => multiaddr(addr)),
      // The policy's members, when it names them: a hint of anyone else is not listed.
      ...(options.policy?.members != null ? { mayJoin: isIn(new Set(options.policy.members)) } : {}),
      onJoin: member => { log.info({ peer: member.peerId.toString(), name: printable(member.status.name) }, 'peer joined') },
      onLeave: (member, reason) => { log.info({ peer: member.peerId.toString(), name: printable(member.status.name), reason }, 'peer unreachable') }
    })
    this.tasks = new TaskService(store, this.master, this.worker, { olderThanMs: DEFAULT_KEEP_FOR_MS, keepBytes: DEFAULT_KEEP_BYTES, ...options.retention })
  }

  async start (): Promise<void> {
    await this.health.start()
    // Before anything new is admitted: what ran here before holds its share of the ledger.
    await this.worker.recover()
    await registerNodeProtocol(this.libp2p, {
      status: async () => this.status(),
      attach: (remote, taskId) => this.audited(remote, 'attach', taskId, () => this.worker.taskFor(taskId, remote.toString())),
      cancel: (remote, taskId) => this.audited(remote, 'cancel', taskId, () => this.worker.cancel(taskId, remote.toString())),
      onBadRequest: (remote, err) => { this.log.debug({ peer: remote.toString(), err: err.message }, 'node protocol request failed') },
      links: this.membership.linkHost(this.statusFeed)
    })
    await this.countKeptOutputs()
    await registerFilesProtocol(this.libp2p, {
      inputs: async (remote, taskId, attempt) => await this.master.inputs(remote, taskId, attempt),
      outputs: async (remote, taskId) => await this.worker.outputs(taskId, remote),
      onBadRequest: (remote, err) => { this.log.debug({ peer: remote.toString(), err: err.message }, 'files protocol request failed') }
    })
    await registerTasksProtocol(this.libp2p, {
      host: this.worker,
      nameOf: peerId => this.membership.list().find(member => member.peerId.toString() === peerId)?.status.name ?? '',
      onBadStream: (remote, err) => { this.log.warn({ peer: remote.toString(), err: err.message }, 'a task stream failed, or a task sent on it was refused') }
    })
    if (this.imageEngine != null) {
      await registerImageProtocol(this.libp2p, {
        ...imageServer({
          engine: this.imageEngine,
          store: this.store,
          selfId: this.peerId.toString(),
          isMember: peerId => this.membership.list().some(member => member.peerId.toString() === peerId),
          policy: () => this.options.policy,
          onRefused: (peer, taskId, code, reason) => { this.audit.record({ peer, action: 'image-serve', code, reason, taskId }) },
          onServe: (peer, imageId, held, layers) => {
            this.heldImages?.touch(imageId)
            this.log.info({ peer, image: imageId, layersLeftOut: held, layers }, 'sending an image to a peer')
          }
        }),
        onFailure: (remote, err) => { this.log.warn({ peer: remote, err: err.message }, 'an image transfer to a peer ended early') },
        onSent: (peer, imageId, bytes, waitsMs) => { this.log.info({ peer, image: imageId, bytes, waitsMs }, 'sent an image to a peer') }
      })
    }
    this.heldImages?.start()
    await this.libp2p.start()
    this.membership.start()
    this.master.resume()
  }

  /**
   * The outputs kept beside the store count towards the history's size and leave with their
   * task; ones whose task the history no longer holds (pruned while the node was down) go now.
   */
  private async countKeptOutputs (): Promise<void> {
    this.store.onTaskDeleted(taskId => {
      this.outputStore.remove(taskId).catch((err: unknown) => { this.log.warn({ task: taskId, err: String(err) }, 'could not remove the outputs of a task that left the history') })
    })
    for (const taskId of await this.outputStore.taskIds()) {
      if (this.store.task(taskId, 'executed') == null) await this.outputStore.remove(taskId)
      else this.store.keepBeside(taskId, await this.outputStore.bytesOf(taskId))
    }
  }

  /** Run a request for `remote`; a refusal of its rights over a task goes to the audit log. */
  private audited<T> (remote: PeerId, action: string, taskId: string, serve: () => T): T {
    try {
      return serve()
    } catch (err) {
      if (err instanceof NotSubmitterError) this.audit.record({ peer: remote.toString(), action, code: err.code, reason: err.message, taskId })
      throw err
    }
  }

  /**
   * Stopping cancels what runs here (the masters see CANCELLED), so no container is left
   * behind by a node that chose to stop; one that crashed re-adopts its containers instead.
   * The worker goes first, so that this node's own followers record how its tasks ended.
   */
  async stop (): Promise<void> {
    this.health.stop()
    this.heldImages?.stop()
    this.membership.stop()
    this.statusFeed.stop()
    await this.worker.cancelAll()
    this.master.stop()
    await this.libp2p.stop()
    this.store.close()
  }

  info (): NodeInfo {
    return {
      peerId: this.peerId.toString(),
      name: this.name,
      addrs: this.libp2p.getMultiaddrs().map(addr => addr.toString()),
      version: VERSION,
      capacity: this.capacity,
      open: this.keyFingerprint == null,
      ...(this.keyFingerprint != null ? { keyFingerprint: this.keyFingerprint } : {}),
      executorHealthy: this.health.health.healthy,
      executorDetail: this.health.health.detail
    }
  }

  status (): PeerStatus {
    return {
      name: this.name,
      version: VERSION,
      ...this.load(),
      storageEnforced: this.health.storageEnforced,
      members: this.membership.hints(),
      // Without the /p2p suffix, as identify would tell them: the peer knows whose they are.
      listenAddrs: this.libp2p.getMultiaddrs().map(addr => addr.decapsulateCode(CODE_P2P))
    }
  }

  /** What this node offers and holds now, and whether its engine answers: its Status and placement's view of it share these. */
  private load (): Omit<CandidateStatus, 'peerId' | 'name' | 'seenAt'> {
    return {
      capacity: this.capacity,
      allocated: this.worker.allocated(),
      running: this.worker.active().length,
      queued: this.worker.queued(),
      labels: this.options.labels ?? {},
      executorHealthy: this.health.health.healthy,
      executorDetail: this.health.health.detail,
      imageIds: this.heldImages?.list() ?? []
    }
  }

  /** The reachable members as a target names them: ID, name, and why the name is refused (no whole peer view per task sent). */
  private targets (): PeerCandidate[] {
    const refusals = this.membership.nameRefusals()
    return this.membership.list().filter(member => member.reachable).map(member => {
      const peerId = member.peerId.toString()
      const nameRefused = refusals.get(peerId)
      return { peerId, name: member.status.name, ...(nameRefused != null ? { nameRefused } : {}) }
    })
  }

  /**
   * The peer `target` names among those known only via a member's hint, probed now: true once
   * it is a member of this node's own (then it resolves as any member does).
   */
  private async reachRelayed (target: string): Promise<boolean> {
    const relayed = this.membership.relayedList().map(entry => ({ peerId: entry.peerId, candidate: { peerId: entry.peerId.toString(), name: entry.status.name } }))
    let named: PeerCandidate
    try {
      named = resolvePeer(target, { peerId: this.peerId.toString(), name: this.name }, relayed.map(entry => entry.candidate))
    } catch {
      return false
    }
    const peerId = relayed.find(entry => entry.candidate.peerId === named.peerId)?.peerId
    return peerId != null && (await this.membership.probe(peerId))?.reachable === true
  }

  /** What placement needs of this node's status, now: no member hints (a Status answer's costliest part). */
  private candidateStatus (): CandidateStatus {
    return { peerId: this.peerId.toString(), name: this.name, ...this.load(), seenAt: Date.now() }
  }

  /** The members, then those known only from a member's hint (`via`), by name. */
  peers (): PeerView[] {
    const refusals = this.membership.nameRefusals()
    return [
      ...this.membership.list().map(member => toPeerView(member, refusals.get(member.peerId.toString()))),
      ...this.membership.relayedList().map(relayedPeerView)
    ].sort((a, b) => a.name.localeCompare(b.name))
  }

  refused (): RefusedPeer[] {
    return this.membership.refused()
  }

  async connect (addr: string): Promise<PeerView> {
    const member = await this.membership.connect(multiaddr(addr))
    return toPeerView(member, this.membership.nameRefusals().get(member.peerId.toString()))
  }
}

function isIn (set: Set<string>): (peerId: string) => boolean {
  return peerId => set.has(peerId)
}

/** A reachable member as placement sees it: its last Status, when it came and whether a link keeps it current, without building a whole peer view. */
function candidateOf (member: Member, linked: boolean): CandidateStatus {
  const { status } = member
  return {
    peerId: member.peerId.toString(),
    name: status.name,
    capacity: status.capacity,
    allocated: status.allocated,
    running: status.running,
    queued: status.queued,
    labels: status.labels,
    executorHealthy: status.executorHealthy,
    executorDetail: status.executorDetail,
    imageIds: status.imageIds,
    seenAt: member.lastSeen,
    linked
  }
}

/**
 * Assemble a node from its data dir: identity, cluster key (unless open), libp2p,
 * resources. Fails before anything listens when the key is missing or weak.
 */
export async function createNode (options: NodeOptions): Promise<CloudaiNode> {
  const log = options.log ?? silentLogger()
  await ensureDataDir(options.dataDir)
  const swarmKey = options.open === true ? undefined : await loadSwarmKey(join(options.dataDir, SWARM_KEY_FILE))
  const { key } = await loadOrCreateIdentity(join(options.dataDir, IDENTITY_FILE))
  const capacity = await detectResources(options.dataDir, options.capacity)
  const policy = options.policy ?? await loadPolicy(options.dataDir)
  const audit = new AuditLog(options.dataDir, options.onRefusal)
  const members = policy.members != null ? new Set(policy.members) : undefined
  const libp2p = await createMesh({
    privateKey: key,
    listen: options.listen ?? [DEFAULT_LISTEN],
    psk: swarmKey?.psk,
    mdnsTag: options.mdnsTag === false ? undefined : (options.mdnsTag ?? DEFAULT_MDNS_TAG),
    mdnsIntervalMs: options.mdnsIntervalMs ?? DEFAULT_MDNS_INTERVAL_MS,
    inboundConnectionThreshold: options.inboundConnectionThreshold,
    metrics: options.libp2pMetrics,
    ...(members != null
      ? {
          isMember: (peerId: string) => members.has(peerId),
          onNotMember: (peerId: string) => { audit.record({ peer: peerId, action: 'connect', code: 'NOT_MEMBER', reason: 'not in the policy\'s members' }) }
        }
      : {})
  })
  return new Node(libp2p, TaskStore.open(options.dataDir), audit, { ...options, policy }, capacity, log, swarmKey?.fingerprint, key)
}
