import { startDaemon } from '../../node/src/daemon.ts'
import { createLogger } from '../../node/src/logger.ts'
import type { NodeOptions } from '../../node/src/node.ts'
import { box, colors, formatResources, type Printer } from '../render.ts'

export interface StartOptions extends NodeOptions {
  apiAddress?: string
  /** `--metrics-listen`: serve /metrics without a token here too. */
  metricsAddress?: string
}

/** Run the daemon until SIGINT/SIGTERM, then shut down cleanly (a second signal forces exit). */
export async function start (options: StartOptions, print: Printer): Promise<void> {
  const log = createLogger()
  if (options.open === true) {
    print.err(colors.red(colors.bold('WARNING: --open: this node runs WITHOUT a cluster key. Anyone on this LAN can join the mesh and run containers here.')))
  }
  const daemon = await startDaemon({
    ...options,
    log,
    onTaskReceived: (spec, submitter) => {
      print.out(box('TASK RECEIVED FROM MASTER', [
        ['Task', spec.id],
        ['From', submitter],
        ['Image', spec.image],
        ['Command', spec.command.length > 0 ? spec.command.join(' ') : '(image default)'],
        ['Target', 'this node'],
        ['Resources', formatResources(spec.resources)]
      ]))
    },
    onTaskState: (task, state) => { print.out(`task ${task.spec.id}: ${state}`) }
  })
  const info = daemon.node.info()
  print.out(box('CLOUDAI NODE STARTED', [
    ['Name', info.name],
    ['Peer ID', info.peerId],
    ...info.addrs.map((addr, i): [string, string] => [i === 0 ? 'Addresses' : '         ', addr]),
    ['Resources', formatResources(info.capacity)],
    ['Executor', info.executorDetail],
    ['Cluster key', info.keyFingerprint != null ? `fingerprint ${info.keyFingerprint}` : 'none (--open)'],
    ['API', daemon.api.url],
    ['Dashboard', 'cloudai dashboard (prints a login URL)'],
    ['Metrics', daemon.metricsServer != null ? `${daemon.metricsServer.url} (NO TOKEN)` : `${daemon.api.url}/metrics (with the API token)`]
  ]))
  if (daemon.metricsServer != null) {
    print.err(colors.red(colors.bold(`WARNING: --metrics-listen: ${daemon.metricsServer.url} answers ANYONE who can reach it, without a token. It shows counts, amounts and durations (no task ids, commands or output).`)))
  }
  print.out('Press Ctrl-C to stop.')

  await new Promise<void>(resolve => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        print.err(`${signal} again: exiting without a clean shutdown`)
        process.exit(130)
      }
      stopping = true
      print.err(`${signal}: shutting down…`)
      daemon.stop().then(resolve, err => {
        log.error({ err }, 'shutdown failed')
        resolve()
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  print.out('stopped')
}
