import type { ComponentLogger, Logger } from '@libp2p/interface'

const silent: Logger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: () => silent
})

/**
 * libp2p's debug loggers when `DEBUG` asks for them, else one logger that does nothing.
 * libp2p makes loggers for every stream it opens (several `debug` instances each, with a
 * terminal check), which is a measurable share of a short stream's cost: a probe, a task.
 */
export function libp2pLogger (debugNamespaces = process.env.DEBUG): { logger?: ComponentLogger } {
  if (debugNamespaces != null && debugNamespaces.trim() !== '') return {}
  return { logger: { forComponent: () => silent } }
}
