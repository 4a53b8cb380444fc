import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import type { PeerView } from '../../node/src/mesh/peer-view.ts'
import type { TaskView } from '../../node/src/store/task-views.ts'
import { findApi, type ApiClient, type ClientOptions } from '../client.ts'
import { colors, type Printer } from '../render.ts'
import { splitWords } from '../shell-words.ts'

/** Lines kept in `<data-dir>/shell_history` and offered by the up arrow. */
export const HISTORY_LINES = 1000
const HISTORY_FILE = 'shell_history'
/** Task ids offered by tab completion: the most recent ones. */
const COMPLETED_TASKS = 50
const SHELL_ONLY = ['help', 'exit', 'quit']
/** Commands whose first argument is a peer, and those whose first argument is a task. */
const TAKES_PEER = new Set(['task'])
const TAKES_TASK = new Set(['status', 'logs', 'cancel'])

export interface ShellOptions extends ClientOptions {
  /** The global options given to `cloudai shell`, passed on to every command typed in it. */
  globalArgs: string[]
  /** Runs one command line as `cloudai …` does, returning its exit code. */
  run: (argv: string[]) => Promise<number>
  /** The command names, for `help` and completion. */
  commands: string[]
}

async function loadHistory (dataDir: string): Promise<string[]> {
  const text = await readFile(join(dataDir, HISTORY_FILE), 'utf8').catch(() => '')
  // readline wants the newest first.
  return text.split('\n').filter(line => line.trim() !== '').slice(-HISTORY_LINES).reverse()
}

/** What tab completion offers for the word being typed, given the words before it. */
async function candidates (words: string[], commands: string[], client: ApiClient | undefined): Promise<string[]> {
  if (words.length === 0) return [...commands, ...SHELL_ONLY]
  if (words.length !== 1 || client == null) return []
  if (TAKES_PEER.has(words[0])) {
    const peers = await client.request<PeerView[]>('GET', '/v1/peers').catch(() => [])
    return ['self', 'auto', ...peers.map(peer => peer.name)]
  }
  if (TAKES_TASK.has(words[0])) {
    const tasks = await client.request<TaskView[]>('GET', `/v1/tasks?limit=${COMPLETED_TASKS}`).catch(() => [])
    return tasks.map(task => task.taskId)
  }
  return []
}

function completer (commands: string[], client: ApiClient | undefined) {
  return (line: string, callback: (err: Error | null, result: [string[], string]) => void): void => {
    const typing = /\S*$/.exec(line)?.[0] ?? ''
    let before: string[]
    try {
      before = splitWords(line.slice(0, line.length - typing.length))
    } catch {
      callback(null, [[], typing])
      return
    }
    candidates(before, commands, client).then(
      all => { callback(null, [all.filter(word => word.startsWith(typing)), typing]) },
      () => { callback(null, [[], typing]) })
  }
}

/**
 * `cloudai shell`: the original design's interactive master prompt. Every CLI command and
 * option works as typed after `cloudai` (the original `-cpu_cores 2.0 -mem 1.0` too), with
 * history, tab completion of commands, peer names and task ids, and a task's output
 * streaming in while it runs. Ctrl-C cancels the line (or detaches from a running task, as
 * in the CLI); Ctrl-D or `exit` leaves.
 */
export async function shell (options: ShellOptions, print: Printer): Promise<void> {
  const client = await findApi(options).catch(() => undefined)
  const name = client != null ? await client.request<{ name: string }>('GET', '/v1/id').then(id => id.name, () => undefined) : undefined
  const prompt = name != null ? `cloudai:${name}> ` : 'cloudai> '
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt,
    completer: completer(options.commands, client),
    history: await loadHistory(options.dataDir),
    historySize: HISTORY_LINES,
    removeHistoryDuplicates: true
  })
  let running = false
  rl.on('SIGINT', () => {
    // While a command runs, Ctrl-C is its (a task detaches); at the prompt, it drops the line.
    if (running) {
      process.emit('SIGINT')
      return
    }
    rl.write('', { ctrl: true, name: 'u' })
    process.stdout.write('^C\n')
    rl.prompt()
  })
  if (client == null) print.err(colors.yellow('no daemon runs for this data dir: commands that need one will say so ("cloudai start" in another terminal)'))
  print.out(`cloudai shell${name != null ? ` on ${name}` : ''}: "help" lists the commands, Tab completes, Ctrl-D leaves.`)
  rl.prompt()
  for await (const line of rl) {
    const text = line.trim()
    if (text === '') {
      rl.prompt()
      continue
    }
    await appendFile(join(options.dataDir, HISTORY_FILE), text + '\n', { mode: 0o600 }).catch(() => {})
    let words: string[]
    try {
      words = splitWords(text)
    } catch (err: any) {
      print.err(`cloudai: ${err.message}`)
      rl.prompt()
      continue
    }
    if (words[0] === 'exit' || words[0] === 'quit') break
    if (words[0] === 'shell') {
      print.err('cloudai: you are in the shell already')
      rl.prompt()
      continue
    }
    const argv = words[0] === 'help' ? [...words.slice(1), '--help'] : words
    // The prompt keeps reading keys while the command runs, so that Ctrl-C reaches it.
    running = true
    try {
      const code = await options.run([...options.globalArgs, ...argv])
      if (code !== 0) print.err(colors.dim(`(exit ${code})`))
    } finally {
      running = false
    }
    rl.prompt()
  }
  rl.close()
}
