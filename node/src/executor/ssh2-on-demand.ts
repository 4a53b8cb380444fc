/**
 * dockerode reaches the engine over its unix socket (or TCP); its docker-modem loads ssh2 as
 * it loads, for `ssh://` hosts, and ssh2 instantiates a WebAssembly Poly1305 with 16 MiB of
 * memory as it loads: an eighth of an idle daemon, for a transport it never uses. Importing
 * this module first hands docker-modem a stand-in `ssh2` whose Client loads the real one
 * the first time an ssh:// host is dialed.
 */
import { createRequire, registerHooks } from 'node:module'

const STAND_IN = new URL('./ssh2-stand-in.js', import.meta.url).href

registerHooks({
  resolve (specifier, context, nextResolve) {
    if (specifier === 'ssh2' && context.parentURL?.includes('/docker-modem/') === true) return { url: STAND_IN, shortCircuit: true }
    return nextResolve(specifier, context)
  }
})

/** The real ssh2, resolved from here (the hook above only answers docker-modem). */
export const loadSsh2 = (): { Client: new (...args: unknown[]) => object } => createRequire(import.meta.url)('ssh2')
