import { createHash } from 'node:crypto'

/**
 * Which layers two engines share. An engine keys a layer by its chain ID, which names the
 * layer together with every layer under it: the first layer's chain ID is its diff ID, each
 * next one is sha256("<chain below> <diff id>"). A worker holds layer i of an image exactly
 * when it holds the chain ID at i.
 */
export function chainIds (diffIds: readonly string[]): string[] {
  const chain: string[] = []
  for (const diffId of diffIds) {
    const below = chain.at(-1)
    chain.push(below === undefined ? diffId : `sha256:${createHash('sha256').update(`${below} ${diffId}`).digest('hex')}`)
  }
  return chain
}

/** Go's encoding/json escapes these inside strings; JSON.stringify does not. */
function goJson (value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * The chain ID of the layer an engine's export holds in the directory whose `json` file is
 * `text`, or undefined when it cannot be told (then the layer is simply sent).
 *
 * Why this works: the export (the classic engine's `docker save` format) names each layer's
 * directory by a legacy ID, the sha256 of that `json` without its `id` and `parent`, plus
 * `layer_id` (the chain ID) and `parent` ("sha256:<parent's legacy ID>"), keys sorted; the
 * layers below the top one also lack `os`, which the engine adds after hashing. The
 * manifest that maps directories to layers comes last in the archive, too late to leave a
 * layer out, so each directory is recognised from its own `json`, which comes before its
 * `layer.tar`. Trying each chain ID of the image against the directory's name is exact: a
 * match is a sha256 match.
 */
export function chainIdOfLegacyLayer (directory: string, text: string, chain: readonly string[]): string | undefined {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (json == null || typeof json !== 'object' || Array.isArray(json)) return undefined
  const { id, parent, ...rest } = json
  if (id !== directory) return undefined
  for (let index = 0; index < chain.length; index++) {
    const fields: Record<string, unknown> = { ...rest, layer_id: chain[index] }
    if (typeof parent === 'string' && parent !== '') fields.parent = `sha256:${parent}`
    if (index < chain.length - 1) delete fields.os
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(fields).sort()) sorted[key] = fields[key]
    if (createHash('sha256').update(goJson(sorted)).digest('hex') === directory) return chain[index]
  }
  return undefined
}
