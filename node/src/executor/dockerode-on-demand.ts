/**
 * dockerode reaches the engine over its unix socket (or TCP), yet two modules it loads as it
 * loads are for things the daemon never does unless asked:
 *   - docker-modem loads ssh2, for `ssh://` hosts, and ssh2 instantiates a WebAssembly
 *     Poly1305 with 16 MiB of memory as it loads;
 *   - dockerode loads its BuildKit session (`lib/session.js`, for `buildImage` with BuildKit),
 *     which loads gRPC and protobufjs and parses protocol definitions: tens of milliseconds of
 *     every daemon's start-up and megabytes of its idle memory.
 * Importing this module first (docker-client.ts does) hands each a stand-in that loads the
 * real module the first time it is used.
 */
import { createRequire, registerHooks } from 'node:module'

const SSH2_STAND_IN = new URL('./ssh2-stand-in.js', import.meta.url).href
const SESSION_STAND_IN = new URL('./buildkit-session-stand-in.js', import.meta.url).href

registerHooks({
  resolve (specifier, context, nextResolve) {
    const parent = context.parentURL ?? ''
    if (specifier === 'ssh2' && parent.includes('/docker-modem/')) return { url: SSH2_STAND_IN, shortCircuit: true }
    if (specifier === './session' && parent.includes('/dockerode/lib/')) return { url: SESSION_STAND_IN, shortCircuit: true }
    return nextResolve(specifier, context)
  }
})

const require = createRequire(import.meta.url)

/** The real ssh2, resolved from here (the hook above only answers docker-modem). */
export const loadSsh2 = (): { Client: new (...args: unknown[]) => object } => require('ssh2')

/** dockerode's real BuildKit session helper. */
export const loadBuildkitSession = (): (...args: unknown[]) => unknown => require('dockerode/lib/session.js')
