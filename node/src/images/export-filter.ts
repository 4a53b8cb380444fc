import { chainIdOfLegacyLayer } from './layer-chain.ts'
import { rewriteTar } from './tar-rewrite.ts'

/** A layer directory's `json` is a few KiB; an export whose json is larger is sent untouched. */
const MAX_LAYER_JSON_BYTES = 1024 * 1024
const LAYER_FILE = /^([a-f0-9]{64})\/(json|layer\.tar)$/

/**
 * The holder's side: an engine's export of one image, with the `layer.tar` of every layer
 * whose chain ID is in `held` left out. The classic engine's load looks each layer up by
 * its chain ID first and opens the file only for a layer it lacks, so what it holds need
 * not travel (checked against Docker 20.10, overlay2). A layer not recognised is sent.
 */
export function exportWithoutHeldLayers (exported: AsyncIterable<Uint8Array>, chain: readonly string[], held: ReadonlySet<string>): AsyncIterable<Uint8Array> {
  const directoryChain = new Map<string, string>()
  return rewriteTar(exported, {
    plan: header => {
      const match = LAYER_FILE.exec(header.name)
      if (match == null || header.type !== 'file') return 'pass'
      if (match[2] === 'json') return header.size <= MAX_LAYER_JSON_BYTES ? { read: MAX_LAYER_JSON_BYTES } : 'pass'
      const chainId = directoryChain.get(match[1])
      return chainId !== undefined && held.has(chainId) ? 'drop' : 'pass'
    },
    rewrite: (header, body) => {
      const directory = header.name.slice(0, 64)
      const chainId = chainIdOfLegacyLayer(directory, body.toString('utf8'), chain)
      if (chainId !== undefined) directoryChain.set(directory, chainId)
      return body
    }
  })
}
