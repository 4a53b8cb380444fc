import { createHash, randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { SwarmKeyError } from '../errors.ts'
import { writeFileAtomic } from '../files.ts'

/** The file name of the cluster key inside the data dir (kubo's name for the same format). */
export const SWARM_KEY_FILE = 'swarm.key'
/** The mesh's one shared secret: its owner alone may read it (loadSwarmKey refuses anything looser). */
export const SWARM_KEY_MODE = 0o600

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
/** 32 bytes of key, written as 64 hex characters (the format of kubo's swarm.key). */
const KEY_HEX_LENGTH = 64

export interface SwarmKey {
  /** The key file's bytes in the canonical form `private-network.ts` reads. */
  psk: Uint8Array
  /** A short, non-secret digest, so people can check two machines hold the same key. */
  fingerprint: string
}

function canonicalKeyFile (hex: string): string {
  return `${HEADER}\n${ENCODING}\n${hex.toLowerCase()}\n`
}

function fingerprintOf (hex: string): string {
  const digest = createHash('sha256').update(hex.toLowerCase()).digest('hex')
  return digest.slice(0, 16).replace(/(.{4})(?!$)/g, '$1:')
}

/** Create a fresh random cluster key file (mode 0600). Refuses to overwrite one. */
export async function createSwarmKey (path: string): Promise<SwarmKey> {
  const hex = randomBytes(KEY_HEX_LENGTH / 2).toString('hex')
  await writeFileAtomic(path, canonicalKeyFile(hex), { mode: SWARM_KEY_MODE, overwrite: false })
  return { psk: new TextEncoder().encode(canonicalKeyFile(hex)), fingerprint: fingerprintOf(hex) }
}

/**
 * Load and validate a cluster key. The format alone allows weak keys (all zeros, a wrong
 * header, CRLF line ends), so every property is checked here, each with its own
 * reason and a message that says how to fix it.
 */
export async function loadSwarmKey (path: string): Promise<SwarmKey> {
  let mode: number
  try {
    mode = (await stat(path)).mode
  } catch (err: any) {
    if (err?.code === 'ENOENT') {
      throw new SwarmKeyError('missing', `no cluster key at ${path}: run "cloudai init" to create one, or copy swarm.key from a machine already in the mesh (or start with --open for an unprotected mesh)`)
    }
    throw new SwarmKeyError('unreadable', `cannot read the cluster key at ${path}: ${err?.message ?? err}`)
  }
  if ((mode & 0o077) !== 0) {
    throw new SwarmKeyError('permissions', `the cluster key ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}): run "chmod 600 ${path}"`)
  }

  const text = await readFile(path, 'utf8')
  if (text.includes('\r')) {
    throw new SwarmKeyError('header', `the cluster key ${path} has Windows (CRLF) line ends: convert it with "dos2unix ${path}" or copy it again as a binary file`)
  }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  if (lines[0] !== HEADER) {
    throw new SwarmKeyError('header', `the cluster key ${path} does not start with "${HEADER}": it is not a swarm key; create one with "cloudai init"`)
  }
  if (lines[1] !== ENCODING) {
    throw new SwarmKeyError('encoding', `the cluster key ${path} must use "${ENCODING}" on its second line`)
  }
  const hex = lines[2] ?? ''
  if (lines.length !== 3 || hex.length !== KEY_HEX_LENGTH) {
    throw new SwarmKeyError('length', `the cluster key ${path} must hold exactly ${KEY_HEX_LENGTH} hex characters on its third line and nothing after it (found ${hex.length} characters${lines.length > 3 ? ' and extra lines' : ''})`)
  }
  if (!/^[0-9a-fA-F]+$/.test(hex)) {
    throw new SwarmKeyError('hex', `the cluster key ${path} contains characters that are not hexadecimal`)
  }
  if (/^(..)\1*$/.test(hex.toLowerCase())) {
    throw new SwarmKeyError('weak', `the cluster key ${path} is one byte repeated (${hex.slice(0, 2)}…): anyone could guess it; create a random one with "cloudai init"`)
  }
  return { psk: new TextEncoder().encode(canonicalKeyFile(hex)), fingerprint: fingerprintOf(hex) }
}
