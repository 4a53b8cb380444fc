import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { ImageTransferError } from '../errors.ts'
import { rewriteTar, type TarRewriter } from './tar-rewrite.ts'

/** An image config is a few KiB; a manifest of one image with the most layers an engine allows (127) is too. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024
const MAX_MANIFEST_BYTES = 1024 * 1024
const MAX_SMALL_FILE_BYTES = 1024 * 1024
/** The overlay2 driver stacks at most 128 layers. */
const MAX_LAYERS = 128
const HEX64 = '[a-f0-9]{64}'
const LAYER_DIRECTORY = new RegExp(`^${HEX64}/$`)
const LAYER_SMALL_FILE = new RegExp(`^${HEX64}/(VERSION|json)$`)
const LAYER_TAR = new RegExp(`^${HEX64}/layer\\.tar$`)

function refuse (what: string): never {
  throw new ImageTransferError(`the peer's image archive was refused: ${what}`)
}

/**
 * The worker's side: a peer's export of image `imageId`, checked and rewritten before the
 * engine sees it, entry by entry as it streams. Only the one image's files get through:
 * its config, whose sha256 must be the ID asked for (so the engine's own check of every
 * layer against the config's diff IDs makes the whole image exactly the one named); layer
 * directories; and a manifest naming that config, rewritten without tags (a peer's archive
 * must not re-tag the worker's images). Links, devices, other paths, the legacy
 * `repositories` file and a second image are refused; an archive without the config or the
 * manifest fails at its end, so the engine never completes a load of it.
 */
export function guardImageArchive (archive: AsyncIterable<Uint8Array>, imageId: string): Readable {
  const configName = `${imageId.slice('sha256:'.length)}.json`
  let configSeen = false
  let manifestSeen = false
  const rewriter: TarRewriter = {
    plan: header => {
      const name = header.name
      if (header.type === 'directory') {
        if (!LAYER_DIRECTORY.test(name)) refuse(`unexpected directory "${name.slice(0, 120)}"`)
        return 'pass'
      }
      if (header.type !== 'file') refuse(`"${name.slice(0, 120)}" is a ${String(header.type)}, not a file`)
      if (name === configName) return { read: MAX_CONFIG_BYTES }
      if (name === 'manifest.json') return { read: MAX_MANIFEST_BYTES }
      if (name === 'repositories') return 'drop'
      if (LAYER_SMALL_FILE.test(name)) return { read: MAX_SMALL_FILE_BYTES }
      if (LAYER_TAR.test(name)) return 'pass'
      refuse(`unexpected file "${name.slice(0, 120)}"`)
    },
    rewrite: (header, body) => {
      if (header.name === configName) {
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
        if (digest !== imageId) refuse(`its config's digest is ${digest}, not the ${imageId} asked for`)
        configSeen = true
        return body
      }
      if (header.name === 'manifest.json') {
        manifestSeen = true
        return Buffer.from(JSON.stringify(checkedManifest(body, configName)))
      }
      return body
    },
    finish: () => {
      if (!configSeen) refuse(`it lacks the image's config (${configName})`)
      if (!manifestSeen) refuse('it lacks manifest.json')
    }
  }
  return rewriteTar(archive, rewriter)
}

interface ManifestEntry { Config: string, RepoTags: null, Layers: string[] }

function checkedManifest (body: Buffer, configName: string): ManifestEntry[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    refuse('manifest.json is not JSON')
  }
  if (!Array.isArray(parsed) || parsed.length !== 1) refuse('manifest.json must describe exactly one image')
  const entry = parsed[0] as { Config?: unknown, Layers?: unknown }
  if (entry?.Config !== configName) refuse(`manifest.json names config ${String(entry?.Config).slice(0, 80)}, not ${configName}`)
  const layers = entry.Layers
  if (!Array.isArray(layers) || layers.length > MAX_LAYERS || !layers.every(layer => typeof layer === 'string' && LAYER_TAR.test(layer))) {
    refuse(`manifest.json's Layers must be at most ${MAX_LAYERS} "<64 hex>/layer.tar" paths`)
  }
  return [{ Config: configName, RepoTags: null, Layers: layers as string[] }]
}
