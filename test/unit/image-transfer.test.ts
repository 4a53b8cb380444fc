import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { extract as tarExtract, pack as tarPack } from 'tar-stream'
import { layerSizesFromHistory, type ImageEngine, type ImageFacts } from '../../node/src/images/engine-images.ts'
import { bytesToTravel, ImageFetcher, type ImageOrigin } from '../../node/src/images/image-fetcher.ts'
import { imageServer } from '../../node/src/images/image-server.ts'
import { chainIds } from '../../node/src/images/layer-chain.ts'
import { registerImageProtocol, requestImage, type ImageHost } from '../../node/src/protocol/image-protocol.ts'
import { TaskState } from '../../node/src/protocol/task-messages.ts'
import { DEFAULT_IMAGE_TRANSFER, type ImageTransferPolicy } from '../../node/src/worker/policy.ts'
import { MemoryNetwork, type MemoryPeer } from '../helpers/memory-peers.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { signImageGrant } from '../../node/src/images/image-grant.ts'
import { DEFAULT_POLICY, type WorkerPolicy } from '../../node/src/worker/policy.ts'
import { storedEvent, storedSpec, tempStore } from '../helpers/store.ts'

/**
 * The image transfer between a holder and a worker over in-memory streams, with an
 * in-memory engine on the worker that, like Docker's load, reads the whole archive before
 * it registers anything: an honest holder, hostile ones (cut short, altered, the wrong
 * image, endless, too large), one transfer for many tasks, and the refusals of both sides.
 * That a real engine takes the partial archives is proven by the docker layer.
 */

const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
const hex = (digest: string): string => digest.slice('sha256:'.length)

interface TestImage {
  id: string
  config: Buffer
  diffIds: string[]
  layers: Buffer[]
  dirs: string[]
}

function makeImage (layers: Buffer[]): TestImage {
  const diffIds = layers.map(layer => sha256(layer))
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: diffIds } }))
  return { id: sha256(config), config, diffIds, layers, dirs: layers.map(() => randomBytes(32).toString('hex')) }
}

interface ArchiveOptions {
  /** Replace one entry's body. */
  alter?: (name: string, body: Buffer) => Buffer
  tags?: string[]
  /** Leave out these layers' files. */
  without?: Set<number>
}

async function archive (image: TestImage, options: ArchiveOptions = {}): Promise<Buffer> {
  const pack = tarPack()
  const entries: Array<[string, Buffer]> = [[`${hex(image.id)}.json`, image.config]]
  image.layers.forEach((layer, index) => {
    entries.push([`${image.dirs[index]}/VERSION`, Buffer.from('1.0')], [`${image.dirs[index]}/json`, Buffer.from(`{"id":"${image.dirs[index]}"}`)])
    if (options.without?.has(index) !== true) entries.push([`${image.dirs[index]}/layer.tar`, layer])
  })
  entries.push(['manifest.json', Buffer.from(JSON.stringify([{ Config: `${hex(image.id)}.json`, RepoTags: options.tags ?? ['victim:latest'], Layers: image.dirs.map(dir => `${dir}/layer.tar`) }]))])
  entries.push(['repositories', Buffer.from('{"victim":{"latest":"x"}}')])
  for (const [name, body] of entries) pack.entry({ name, size: (options.alter?.(name, body) ?? body).byteLength }, options.alter?.(name, body) ?? body)
  pack.finalize()
  const parts: Buffer[] = []
  for await (const chunk of pack) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

/** The worker's engine: reads a loaded archive to its end, then registers the image its manifest names; a failed archive leaves nothing. */
class MemoryEngine implements ImageEngine {
  readonly images = new Map<string, ImageFacts & { repoTags: unknown, files: string[] }>()
  loads = 0
  /** Called with the bytes taken so far, before each chunk is parsed: a test may slow the engine down. */
  onChunk?: (bytesSoFar: number) => Promise<void>

  async inspect (reference: string): Promise<ImageFacts | undefined> {
    return this.images.get(reference)
  }

  async imageIds (): Promise<string[]> {
    return [...this.images.keys()].reverse()
  }

  async heldChainIds (): Promise<Set<string>> {
    return new Set([...this.images.values()].flatMap(image => chainIds(image.diffIds)))
  }

  async export (): Promise<AsyncIterable<Uint8Array>> {
    throw new Error('the worker engine exports nothing in these tests')
  }

  async load (stream: AsyncIterable<Uint8Array>): Promise<void> {
    this.loads++
    const files = new Map<string, Buffer>()
    const extract = tarExtract()
    const reading = (async () => {
      for await (const entry of extract) {
        const parts: Buffer[] = []
        for await (const chunk of entry) if (entry.header.name !== 'layer.tar' && parts.length < 64) parts.push(chunk as Buffer)
        files.set(entry.header.name, entry.header.name.endsWith('layer.tar') ? Buffer.alloc(0) : Buffer.concat(parts))
      }
    })()
    let taken = 0
    for await (const chunk of stream) {
      taken += (chunk as Buffer).byteLength
      await this.onChunk?.(taken)
      if (!extract.write(chunk)) await new Promise<void>(resolve => extract.once('drain', () => { resolve() }))
    }
    extract.end(undefined)
    await reading
    const manifest = JSON.parse(files.get('manifest.json')!.toString())[0]
    const config = JSON.parse(files.get(manifest.Config)!.toString())
    const id = `sha256:${manifest.Config.replace(/\.json$/, '')}`
    this.images.set(id, { id, diffIds: config.rootfs.diff_ids, sizeBytes: 0, repoTags: manifest.RepoTags, files: [...files.keys()] })
  }

  async remove (id: string): Promise<void> {
    this.images.delete(id)
  }
}

interface Pair {
  holder: MemoryPeer
  worker: MemoryPeer
  engine: MemoryEngine
  fetcher: ImageFetcher
  refusals: string[]
}

async function pair (host: (holder: MemoryPeer) => ImageHost, policy: Partial<ImageTransferPolicy> = {}): Promise<Pair> {
  const network = new MemoryNetwork()
  const holder = await network.peer()
  const worker = await network.peer()
  await registerImageProtocol(holder, host(holder))
  const engine = new MemoryEngine()
  const refusals: string[] = []
  const fetcher = new ImageFetcher({
    engine,
    dialer: worker,
    selfId: worker.peerId.toString(),
    policy: () => ({ ...DEFAULT_IMAGE_TRANSFER, ...policy }),
    onRefused: (peer, imageId, reason) => { refusals.push(`${peer} ${imageId} ${reason}`) },
    retryDelaysMs: [1]
  })
  return { holder, worker, engine, fetcher, refusals }
}

/** A holder that offers `image` and sends whatever `send` yields as its export. */
function holderSending (image: TestImage, send: (held: number[]) => AsyncIterable<Uint8Array>, sizeBytes = 1000, layerSizes: number[] = []): ImageHost & { exports: number } {
  const host = {
    exports: 0,
    offer: async () => ({ offer: { diffIds: image.diffIds, sizeBytes, layerSizes } }),
    export: async (_id: string, _offer: unknown, held: Promise<number[]>) => { host.exports++; return send(await held) }
  }
  return host
}

/** A ustar header by hand: a stream that starts an entry it never finishes. */
function tarHeader (name: string, size: number): Buffer {
  const header = Buffer.alloc(512)
  const field = (offset: number, length: number, value: string): void => { header.write(value, offset, length, 'ascii') }
  field(0, 100, name)
  field(100, 8, '0000644\0')
  field(108, 8, '0000000\0')
  field(116, 8, '0000000\0')
  field(124, 12, `${size.toString(8).padStart(11, '0')}\0`)
  field(136, 12, '00000000000\0')
  field(148, 8, '        ')
  field(156, 1, '0')
  field(257, 6, 'ustar\0')
  field(263, 2, '00')
  let sum = 0
  for (const byte of header) sum += byte
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return header
}

async function * chunksOf (bytes: Buffer, size = 16 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

async function fetchOnce (p: Pair, image: TestImage): Promise<ImageOrigin> {
  return await p.fetcher.ensure({ imageId: image.id, taskId: 'task-1', submitter: p.holder.peerId.toString() }, () => {})
}

function assertRefused (origin: ImageOrigin, pattern: RegExp): void {
  assert.equal(origin.kind, 'absent')
  assert.match((origin as { why: string }).why, pattern)
}

const layerA = randomBytes(40_000)
const layerB = randomBytes(70_000)

describe('image transfer: an honest holder', () => {
  test('the image arrives whole, with its ID, without the holder\'s tags or repositories file', async () => {
    const image = makeImage([layerA, layerB])
    const whole = await archive(image)
    const p = await pair(() => holderSending(image, () => chunksOf(whole)))
    const progress: number[] = []
    const origin = await p.fetcher.ensure({ imageId: image.id, taskId: 'task-1', submitter: p.holder.peerId.toString() }, report => { progress.push(report.doneBytes) })
    assert.deepEqual(origin, { kind: 'peer', peer: p.holder.peerId.toString() })
    const loaded = p.engine.images.get(image.id)
    assert.ok(loaded != null)
    assert.deepEqual(loaded.diffIds, image.diffIds)
    assert.equal(loaded.repoTags, null, 'a peer\'s archive does not tag the worker\'s images')
    assert.ok(!loaded.files.includes('repositories'))
    assert.equal(progress.at(-1), whole.byteLength, 'the last report counts every byte received')
  })

  test('the worker says which layers it holds, and the holder is asked only for the rest', async () => {
    const base = makeImage([layerA])
    const image = makeImage([layerA, layerB])
    const asked: number[][] = []
    const p = await pair(() => holderSending(image, held => { asked.push(held); return (async function * () { yield * chunksOf(archiveWithout) })() }, layerA.byteLength + layerB.byteLength, [layerA.byteLength, layerB.byteLength]))
    const archiveWithout = await archive(image, { without: new Set([0]) })
    p.engine.images.set(base.id, { id: base.id, diffIds: base.diffIds, sizeBytes: 0, repoTags: null, files: [] })
    const totals = new Set<number>()
    assert.equal((await p.fetcher.ensure({ imageId: image.id, taskId: 'task-1', submitter: p.holder.peerId.toString() }, report => { totals.add(report.totalBytes) })).kind, 'peer')
    assert.deepEqual(asked, [[0]])
    // Progress counts against what travels (the layer the worker lacked), not the whole image.
    assert.deepEqual([...totals], [layerB.byteLength])
  })

  test('progress without layer sizes: the whole image when it all travels, unknown (0) when some is left out', () => {
    const offer = { diffIds: ['a', 'b'], sizeBytes: 300, layerSizes: [] }
    assert.equal(bytesToTravel(offer, new Set()), 300)
    assert.equal(bytesToTravel(offer, new Set([0])), 0)
    assert.equal(bytesToTravel({ ...offer, layerSizes: [100, 200] }, new Set([1])), 100)
  })

  test('layer sizes from an engine\'s history: exact only when as many steps made a layer as the image has', () => {
    const history = [{ Size: 30 }, { Size: 0 }, { Size: 20 }, { Size: 10 }]
    assert.deepEqual(layerSizesFromHistory(history, 3), [10, 20, 30])
    // A step whose layer is empty cannot be told from a step without a layer.
    assert.equal(layerSizesFromHistory(history, 4), undefined)
    assert.equal(layerSizesFromHistory([{ Size: 'x' }, { Size: -1 }, { Size: 2 ** 60 }], 1), undefined)
  })

  test('ten tasks needing the image at once: one transfer, and each task is told where it came from', async () => {
    const image = makeImage([layerA, layerB])
    const whole = await archive(image)
    const host = holderSending(image, () => (async function * () {
      for await (const chunk of chunksOf(whole)) {
        await new Promise(resolve => setTimeout(resolve, 1))
        yield chunk
      }
    })())
    const p = await pair(() => host)
    const origins = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      await p.fetcher.ensure({ imageId: image.id, taskId: `task-${i}`, submitter: p.holder.peerId.toString() }, () => {})))
    assert.equal(host.exports, 1)
    assert.equal(p.engine.loads, 1)
    for (const origin of origins) assert.equal(origin.kind, 'peer')
    assert.equal(p.fetcher.inFlight, 0)
  })
})

describe('image transfer: a holder serving two workers at once', () => {
  test('both get their image, and the holder\'s bytes go to them in equal shares while both fetch (counted, not timed)', async () => {
    const MiB = 1024 * 1024
    const images = [makeImage([randomBytes(6 * MiB)]), makeImage([randomBytes(6 * MiB)])]
    const archives = await Promise.all(images.map(async image => await archive(image)))
    const network = new MemoryNetwork()
    const holder = await network.peer()
    /** Bytes each export has handed over so far; and when the first export ended, how much the other had. */
    const pulled = [0, 0]
    let otherAtFirstEnd: number | undefined
    await registerImageProtocol(holder, {
      offer: async (_remote, _taskId, imageId) => ({ offer: { diffIds: images.find(image => image.id === imageId)!.diffIds, sizeBytes: 0, layerSizes: [] } }),
      export: async (imageId) => {
        const which = images.findIndex(image => image.id === imageId)
        return (async function * () {
          for await (const chunk of chunksOf(archives[which], 64 * 1024)) {
            pulled[which] += chunk.byteLength
            yield chunk
          }
          otherAtFirstEnd ??= pulled[1 - which]
        })()
      }
    })
    const fetches = images.map(async image => {
      const worker = await network.peer()
      const engine = new MemoryEngine()
      const fetcher = new ImageFetcher({ engine, dialer: worker, selfId: worker.peerId.toString(), policy: () => DEFAULT_IMAGE_TRANSFER })
      const origin = await fetcher.ensure({ imageId: image.id, taskId: 'task-1', submitter: holder.peerId.toString() }, () => {})
      return { origin, held: engine.images.has(image.id) }
    })
    for (const { origin, held } of await Promise.all(fetches)) {
      assert.equal(origin.kind, 'peer')
      assert.ok(held)
    }
    // When the first export was done, the second had handed over nearly as much: the share
    // keeps them within a piece of each other, plus what one worker's credit let it run ahead.
    assert.ok(otherAtFirstEnd !== undefined && otherAtFirstEnd >= archives[0].byteLength - 2 * MiB, `when one export ended (${archives[0].byteLength} bytes), the other had handed over ${otherAtFirstEnd}`)
  })
})

describe('image transfer: hostile holders leave nothing in the engine', () => {
  const image = makeImage([layerA, layerB])

  test('an export cut short, with the end mark', async () => {
    const whole = await archive(image)
    const p = await pair(() => holderSending(image, () => chunksOf(whole.subarray(0, 50_000))))
    assertRefused(await fetchOnce(p, image), /Unexpected end|refused/)
    assert.equal(p.engine.images.size, 0)
  })

  test('an export cut short: the stream breaks off, every time it is tried again', async () => {
    const whole = await archive(image)
    const host = holderSending(image, () => (async function * () {
      yield whole.subarray(0, 50_000)
      throw new Error('the holder fails mid-way')
    })())
    const p = await pair(() => host)
    assertRefused(await fetchOnce(p, image), /\(3 attempts\): the image transfer broke off/)
    assert.equal(host.exports, 3)
    assert.equal(p.engine.images.size, 0)
  })

  test('a transfer that breaks off once is started again, and the task gets its image', async () => {
    const whole = await archive(image)
    const host = holderSending(image, () => (async function * () {
      if (host.exports === 1) {
        yield whole.subarray(0, 50_000)
        throw new Error('the link fails mid-way')
      }
      yield * chunksOf(whole)
    })())
    const p = await pair(() => host)
    assert.equal((await fetchOnce(p, image)).kind, 'peer')
    assert.equal(host.exports, 2)
    assert.ok(p.engine.images.has(image.id))
  })

  test('a layer altered on the way', async () => {
    const altered = await archive(image, { alter: (name, body) => name.endsWith('layer.tar') && body === layerB ? Buffer.concat([body.subarray(0, 100), Buffer.from('X'), body.subarray(101)]) : body })
    const p = await pair(() => holderSending(image, () => chunksOf(altered)))
    assertRefused(await fetchOnce(p, image), /altered on the way/)
    assert.equal(p.engine.images.size, 0)
  })

  test('an altered config (so a different image ID)', async () => {
    const altered = await archive(image, { alter: (name, body) => name.endsWith('.json') && body === image.config ? Buffer.from(body.toString().replace('amd64', 'arm64')) : body })
    const p = await pair(() => holderSending(image, () => chunksOf(altered)))
    assertRefused(await fetchOnce(p, image), /config's digest/)
    assert.equal(p.engine.images.size, 0)
  })

  test('another image than the one asked for', async () => {
    const other = makeImage([layerB])
    const wrong = await archive(other)
    const p = await pair(() => holderSending(image, () => chunksOf(wrong)))
    assertRefused(await fetchOnce(p, image), /unexpected file/)
    assert.equal(p.engine.images.size, 0)
    assert.equal(p.engine.images.has(other.id), false)
  })

  test('links and paths outside the image are refused', async () => {
    const pack = tarPack()
    pack.entry({ name: '../../etc/passwd', size: 4 }, Buffer.from('root'))
    pack.finalize()
    const parts: Buffer[] = []
    for await (const chunk of pack) parts.push(chunk as Buffer)
    const p = await pair(() => holderSending(image, () => chunksOf(Buffer.concat(parts))))
    assertRefused(await fetchOnce(p, image), /unexpected file/)
    assert.equal(p.engine.images.size, 0)
  })

  test('an endless export stops at the size limit; what is in flight stays bounded (flow control, nothing staged)', async t => {
    const limit = 32 * 1024 * 1024
    let produced = 0
    let maxInFlight = Number.NEGATIVE_INFINITY
    const p = await pair(() => holderSending(image, () => (async function * () {
      // A layer whose header claims 4 GiB, then zeros for ever.
      yield tarHeader(`${image.dirs[0]}/layer.tar`, 4 * 2 ** 30)
      const zeros = Buffer.alloc(64 * 1024)
      while (true) {
        // As an engine's export arrives: from I/O, a turn of the event loop at a time.
        await new Promise(resolve => setImmediate(resolve))
        produced += zeros.byteLength
        yield zeros
      }
    })()), { maxBytes: limit })
    // A worker engine slower than the holder: every chunk it takes costs it a turn of the event loop.
    p.engine.onChunk = async bytes => {
      maxInFlight = Math.max(maxInFlight, produced - bytes)
      await new Promise(resolve => setImmediate(resolve))
    }
    assertRefused(await fetchOnce(p, image), /more than 33554432 bytes/)
    assert.equal(p.engine.images.size, 0)
    assert.ok(produced >= limit, `the holder produced ${produced} bytes`)
    // The bound is the streams' own buffers (in-memory streams here, the muxer's window over libp2p), far below the image.
    t.diagnostic(`at most ${maxInFlight} bytes in flight`)
    assert.ok(maxInFlight < 4 * 1024 * 1024, `${maxInFlight} bytes were produced and not yet taken by the engine`)
  })

  test('an image larger than the limit is refused before any of it travels', async () => {
    const host = holderSending(image, () => chunksOf(Buffer.alloc(0)), 20 * 2 ** 30)
    const p = await pair(() => host, { maxBytes: 2 ** 30 })
    assertRefused(await fetchOnce(p, image), /more than the asking node's limit of 1073741824/)
    assert.equal(host.exports, 0)
  })
})

describe('image transfer: who may have and give images', () => {
  test('the holder serves only the worker of its own running task that names the image, and audits the rest', async () => {
    const image = makeImage([layerA])
    const store = tempStore()
    const audit: string[] = []
    const holderEngine = new MemoryEngine()
    holderEngine.images.set(image.id, { id: image.id, diffIds: image.diffIds, sizeBytes: 10, repoTags: null, files: [] })
    let workerId = ''
    const p = await pair(() => imageServer({ engine: holderEngine, store, onRefused: (peer, taskId, code, reason) => { audit.push(`${peer} ${taskId} ${code} ${reason}`) } }))
    workerId = p.worker.peerId.toString()
    const need = { imageId: image.id, taskId: 'theirs-1', submitter: p.holder.peerId.toString() }
    // No such task.
    assertRefused(await p.fetcher.ensure(need, () => {}), /sent you no task theirs-1/)
    // A task sent to someone else.
    store.createTask({ spec: storedSpec('theirs-1', { imageId: image.id }), role: 'submitted', peerId: p.holder.peerId.toString(), peerName: 'other' })
    assertRefused(await p.fetcher.ensure(need, () => {}), /sent you no task/)
    // A task sent to this worker that names another image.
    store.createTask({ spec: storedSpec('theirs-2', { imageId: sha256('another') }), role: 'submitted', peerId: workerId, peerName: 'worker' })
    assertRefused(await p.fetcher.ensure({ ...need, taskId: 'theirs-2' }, () => {}), /sent you no task theirs-2/)
    // A task of this worker's that has ended.
    store.createTask({ spec: storedSpec('theirs-3', { imageId: image.id }), role: 'submitted', peerId: workerId, peerName: 'worker' })
    store.recordEvent('submitted', 1, storedEvent('theirs-3', 1, TaskState.SUCCEEDED))
    assertRefused(await p.fetcher.ensure({ ...need, taskId: 'theirs-3' }, () => {}), /has ended/)
    assert.equal(audit.length, 4)
    for (const line of audit) assert.match(line, new RegExp(`^${workerId} theirs-\\d FORBIDDEN `))
    assert.equal(p.engine.images.size, 0)
  })

  test('a member other than the submitter serves the image on the submitter\'s grant, once the submitter cannot; a bad grant, a stranger\'s or a narrower policy is refused and audited', async () => {
    const image = makeImage([layerA])
    const whole = await archive(image)
    const network = new MemoryNetwork()
    const holder = await network.peer()
    // The submitter is not on the network at all: it went away after sending the task.
    const submitterKey = await generateKeyPair('Ed25519')
    const submitter = peerIdFromPrivateKey(submitterKey).toString()
    const holderEngine = new MemoryEngine()
    holderEngine.images.set(image.id, { id: image.id, diffIds: image.diffIds, sizeBytes: whole.byteLength, repoTags: null, files: [] })
    holderEngine.export = async () => chunksOf(whole)
    const audit: string[] = []
    let members = new Set([submitter])
    let holderPolicy: WorkerPolicy = DEFAULT_POLICY
    await registerImageProtocol(holder, imageServer({
      engine: holderEngine,
      store: tempStore(),
      selfId: holder.peerId.toString(),
      isMember: peerId => members.has(peerId),
      policy: () => holderPolicy,
      onRefused: (peer, taskId, code, reason) => { audit.push(`${taskId} ${code} ${reason}`) }
    }))
    const fetchVia = async (grant: string, taskId = 'their-1'): Promise<{ origin: ImageOrigin, engine: MemoryEngine }> => {
      const worker = await network.peer()
      const engine = new MemoryEngine()
      const fetcher = new ImageFetcher({ engine, dialer: worker, selfId: worker.peerId.toString(), policy: () => DEFAULT_IMAGE_TRANSFER, retryDelaysMs: [1] })
      const origin = await fetcher.ensure({ imageId: image.id, taskId, submitter, holders: [holder.peerId.toString()], grant }, () => {})
      return { origin, engine }
    }
    const grant = await signImageGrant(submitterKey, 'their-1', image.id)
    const served = await fetchVia(grant)
    assert.deepEqual(served.origin, { kind: 'peer', peer: holder.peerId.toString() })
    assert.ok(served.engine.images.has(image.id))
    assert.equal(audit.length, 0)

    const refusals: Array<[string, () => Promise<{ origin: ImageOrigin, engine: MemoryEngine }>, RegExp]> = [
      ['a grant for another task', async () => await fetchVia(grant, 'their-2'), /is not .* signature for task their-2/],
      ['a grant signed by another key', async () => await fetchVia(await signImageGrant(await generateKeyPair('Ed25519'), 'their-1', image.id)), /is not .* signature/],
      ['no grant at all', async () => await fetchVia(''), /is not .* signature/],
      ['a submitter the holder does not know as a member', async () => { members = new Set(); return await fetchVia(grant) }, /not a member this node knows/],
      ['a holder whose policy limits images', async () => { members = new Set([submitter]); holderPolicy = { ...DEFAULT_POLICY, images: ['registry.lan/'] }; return await fetchVia(grant) }, /limits images by name/],
      ['a holder whose policy takes tasks only from others', async () => { holderPolicy = { ...DEFAULT_POLICY, submitters: ['12D3KooWSomeoneElse'] }; return await fetchVia(grant) }, /does not take tasks from/]
    ]
    for (const [what, attempt, why] of refusals) {
      const { origin, engine } = await attempt()
      assert.equal(origin.kind, 'absent', what)
      // The submitter was asked first (once: it cannot be reached, and there is another source), and why it failed is said too.
      assert.match((origin as { why: string }).why, new RegExp(`^fetching it from ${submitter} failed: .*; fetching it from ${holder.peerId.toString()} \\(a holder the submitter named\\) failed: .*FORBIDDEN`), what)
      assert.match(audit.at(-1) ?? '', why, what)
      assert.equal(engine.images.size, 0, what)
    }
    assert.equal(audit.length, refusals.length)
    // A request whose submitter or grant is far too long is not read as one: the stream is reset.
    const asker = await network.peer()
    for (const junk of [{ submitter: 'x'.repeat(200), grant: grant }, { submitter, grant: 'A'.repeat(300) }]) {
      await assert.rejects(requestImage(asker, holder.peerId, { taskId: 'their-1', imageId: image.id, maxBytes: 0, ...junk }, AbortSignal.timeout(5_000)))
    }
    assert.equal(audit.length, refusals.length, 'nothing was offered or audited for them')
  })

  test('a worker whose policy takes no images from peers, or not from this one, asks nobody and says why', async () => {
    const image = makeImage([layerA])
    const whole = await archive(image)
    const cases: Array<[Partial<ImageTransferPolicy>, RegExp]> = [[{ accept: false }, /takes no images from peers/], [{ servers: ['12D3KooWSomeoneElse'] }, /only from 1 listed peers/]]
    for (const [policy, why] of cases) {
      const host = holderSending(image, () => chunksOf(whole))
      const p = await pair(() => host, policy)
      assertRefused(await fetchOnce(p, image), why)
      assert.equal(host.exports, 0)
      assert.equal(p.refusals.length, 1, 'the refusal is audited')
      assert.equal(p.engine.images.size, 0)
    }
  })
})
