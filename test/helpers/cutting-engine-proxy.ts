import { createConnection, createServer, type Socket } from 'node:net'
import { join } from 'node:path'

/**
 * A Docker engine's socket, passed through byte for byte, except that an image export
 * the test arms is cut off part-way: its connection is closed after `afterBytes` of the
 * engine's answer, as when a holder's engine or link fails in the middle of a transfer.
 * A daemon given `host` as DOCKER_HOST uses the real engine for everything else.
 */
export interface CuttingEngineProxy {
  host: string
  /** Cut the next export of the image whose ID (64 hex digits) is `hex` after `afterBytes` of its answer. */
  cutNextExport(hex: string, afterBytes: number): void
  /** Exports cut so far. */
  readonly cuts: number
  close(): Promise<void>
}

/** Pass `from`'s bytes to `to` with backpressure; `onChunk` may stop a chunk (false) after destroying both. */
function forward (from: Socket, to: Socket, onChunk: (chunk: Buffer) => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (!onChunk(chunk)) return
    if (!to.write(chunk)) {
      from.pause()
      to.once('drain', () => { from.resume() })
    }
  })
  from.on('end', () => { to.end() })
  from.on('error', () => { to.destroy() })
  from.on('close', () => { if (!to.writableEnded) to.destroy() })
}

export async function startCuttingEngineProxy (dir: string, engineSocket = '/var/run/docker.sock'): Promise<CuttingEngineProxy> {
  const path = join(dir, 'cutting-engine.sock')
  let armed: { hex: string, afterBytes: number } | undefined
  let cuts = 0
  const sockets = new Set<Socket>()
  const server = createServer(client => {
    const engine = createConnection(engineSocket)
    sockets.add(client).add(engine)
    client.on('close', () => sockets.delete(client))
    engine.on('close', () => sockets.delete(engine))
    /** Bytes of the engine's answer still let through on this connection, once an armed export was asked for on it. */
    let left: number | undefined
    forward(client, engine, chunk => {
      if (armed !== undefined && left === undefined) {
        const request = chunk.toString('latin1')
        if (request.includes(armed.hex) && /\/images\/[^ ]+\/get/.test(request)) {
          left = armed.afterBytes
          armed = undefined
        }
      }
      return true
    })
    forward(engine, client, chunk => {
      if (left === undefined) return true
      left -= chunk.byteLength
      if (left > 0) return true
      cuts++
      client.destroy()
      engine.destroy()
      return false
    })
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, resolve) })
  return {
    host: `unix://${path}`,
    cutNextExport: (hex, afterBytes) => { armed = { hex, afterBytes } },
    get cuts () { return cuts },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
