import type { Placement } from '../../node/src/master/placement.ts'
import { formatBytes } from '../../node/src/units.ts'
import { requireApi } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
import { printJson, shortId, table, type Printer } from '../render.ts'
import type { TaskOptions } from './task.ts'

function load (used: number, total: number, format: (n: number) => string = String): string {
  return `${format(used)}/${format(total)}`
}

/** `task auto … --explain`: the candidates, their probed status, and the choice with its reason. Nothing is sent. */
export async function explain (target: string, options: TaskOptions, print: Printer): Promise<void> {
  if (target !== 'auto') throw new ExitError(EXIT.USAGE, `--explain shows how "auto" places a task; "${target}" is not "auto"`)
  const client = await requireApi(options)
  // A refusal's exit code (125, or 2 for a bad request) comes from the error table, in run().
  const placement = await client.request<Placement>('POST', '/v1/placement', {
    ...options.request, count: options.count ?? 1, policy: options.placement.policy, constraints: options.placement.constraints
  })
  if (options.json === true) {
    printJson(print, placement)
    return
  }
  const bytes = (n: number): string => formatBytes(n).replace(' ', '')
  print.out(`Probed ${placement.probed.length} candidate(s), best first (${options.placement.policy ?? 'spread'}):`)
  print.out(table(['Name', 'ID', 'CPU used/total', 'Memory used/total', 'GPU used/total', 'Running', 'Queued', 'Fits now', 'Score'],
    placement.probed.map(peer => [
      peer.name, shortId(peer.peerId),
      load(peer.allocated.cpu, peer.capacity.cpu),
      load(peer.allocated.memoryBytes, peer.capacity.memoryBytes, bytes),
      load(peer.allocated.gpus, peer.capacity.gpus),
      String(peer.running), String(peer.queued), peer.fitsNow ? 'yes' : 'no', peer.score.toFixed(3)
    ])))
  if (placement.excluded.length > 0) {
    print.out('Left out:')
    for (const peer of placement.excluded) print.out(`  ${peer.name} (${shortId(peer.peerId)}): ${peer.reason}`)
  }
  print.out('Choice:')
  placement.choices.forEach((choice, i) => { print.out(`  ${placement.choices.length > 1 ? `copy ${i + 1}: ` : ''}${choice.name} (${shortId(choice.peerId)}): ${choice.reason}`) })
}
