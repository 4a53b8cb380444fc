import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/**
 * Yamux here answers every data frame it receives with a window-update frame: one more muxer
 * frame, one more encryption and one more socket write per frame, which on a task stream (many
 * small frames) cost as much as the data itself. This makes an established stream send its
 * update only once the peer has used half the window (as go-yamux does): the peer always has
 * at least half a window to send on, so a bulk stream still never waits for an update, and
 * what it may send stays within the window, as the read buffer's bound needs. Streams being
 * opened or accepted (their update carries the SYN/ACK flags) and paused ones (which send none)
 * are left to yamux. Patched once, on the stream class: the muxer's options offer no hook.
 */
interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate: () => void
}

const prototype = YamuxStream.prototype as unknown as WindowFields & { [PATCHED]?: true }
const PATCHED = Symbol.for('cloudai.yamux-window-updates')

if (prototype[PATCHED] !== true) {
  const sendWindowUpdate = prototype.sendWindowUpdate
  prototype.sendWindowUpdate = function (this: WindowFields): void {
    if (this.state === StreamState.Established && this.recvWindowCapacity * 2 >= this.recvWindow) return
    sendWindowUpdate.call(this)
  }
  prototype[PATCHED] = true
}
