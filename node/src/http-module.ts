import type * as Http from 'node:http'
import type * as Https from 'node:https'

// node:http and node:https taken as CommonJS modules, not through `import … from 'node:http'`.
// An ES import of a built-in builds a facade of every export, which reads http's lazy
// WebSocket, CloseEvent and MessageEvent getters: they load Node's bundled fetch (undici),
// ~40 ms of a command's start-up and ~3 MiB of a daemon's heap that nothing here uses.

/** node:http, without loading undici. */
export const http: typeof Http = process.getBuiltinModule('node:http')

/** node:https, loaded when first asked for (only an `--api https://…` needs it). */
export function https (): typeof Https {
  return process.getBuiltinModule('node:https')
}
