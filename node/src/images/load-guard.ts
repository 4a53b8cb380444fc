import { createHash } from 'node:crypto'
import { ImageTransferError } from '../errors.ts'
import { rewriteTar, TarFormatError, type TarRewriter } from './tar-rewrite.ts'

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
export function guardImageArchive (archive: AsyncIterable<Uint8Array>, imageId: string): AsyncIterable<Uint8Array> {
  const configName = `${imageId.slice('sha256:'.length)}.json`
  let config: Buffer | undefined
  let layers: string[] | undefined
  /** Each layer file's sha256, checked at the end against the config's diff IDs (the config may come after the layers). */
  const layerDigests = new Map<string, string>()
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
      if (LAYER_TAR.test(name)) return 'digest'
      refuse(`unexpected file "${name.slice(0, 120)}"`)
    },
    rewrite: (header, body) => {
      if (header.name === configName) {
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
        if (digest !== imageId) refuse(`its config's digest is ${digest}, not the ${imageId} asked for`)
        config = body
        return body
      }
      if (header.name === 'manifest.json') {
        const manifest = checkedManifest(body, configName)
        layers = manifest[0].Layers
        return Buffer.from(JSON.stringify(manifest))
      }
      return body
    },
    passed: (header, sha256) => { layerDigests.set(header.name, `sha256:${sha256}`) },
    finish: () => {
      if (config === undefined) refuse(`it lacks the image's config (${configName})`)
      if (layers === undefined) refuse('it lacks manifest.json')
      checkLayers(config, layers, layerDigests)
    }
  }
  return refusingMalformed(rewriteTar(archive, rewriter))
}

/** A malformed archive (cut short, a corrupt header) is the peer's archive refused, like any other rule it breaks. */
async function * refusingMalformed (archive: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield * archive
  } catch (err) {
    if (err instanceof TarFormatError) refuse(err.message)
    throw err
  }
}

/**
 * Every layer the archive carries is the one the config names at its place: a layer file
 * altered on the way fails here, before the engine has the whole archive. (Layers left out,
 * which the worker holds, are checked by the engine against the same config.)
 */
function checkLayers (config: Buffer, layers: string[], digests: Map<string, string>): void {
  let diffIds: unknown
  try {
    diffIds = JSON.parse(config.toString('utf8'))?.rootfs?.diff_ids
  } catch {
    refuse('its config is not JSON')
  }
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length) refuse('its config and manifest.json disagree on the number of layers')
  layers.forEach((layer, index) => {
    const digest = digests.get(layer)
    if (digest !== undefined && digest !== diffIds[index]) refuse(`layer ${index + 1} (${layer}) has digest ${digest}, not the config's ${String(diffIds[index]).slice(0, 80)}: it was altered on the way`)
  })
  for (const name of digests.keys()) {
    if (!layers.includes(name)) refuse(`it carries a layer file manifest.json does not name (${name})`)
  }
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
