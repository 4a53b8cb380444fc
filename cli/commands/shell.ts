import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import type { PeerView } from '../../node/src/mesh/peer-view.ts'
import type { TaskView } from '../../node/src/store/task-views.ts'
import { findApi, type ApiClient, type ClientOptions } from '../client.ts'
import { EXIT, ExitError } from '../exit.ts'
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
const TAKES_TASK = new Set(['status', 'logs', 'cancel', 'results'])

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
    return ['self', 'auto', ...peers.filter(peer => peer.nameRefused == null).map(peer => peer.name)]
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
 * The lines read, in order, for one loop to take one at a time. readline reads on while a
 * command runs (so that Ctrl-C reaches it) and closes at end of input, however many lines
 * are still waiting: `for await` over it, or prompting after the close, loses them.
 */
function lineQueue (rl: Interface): { next: () => Promise<string | undefined>, waiting: () => boolean, ended: () => boolean } {
  const lines: string[] = []
  let ended = false
  let wake = (): void => {}
  rl.on('line', line => { lines.push(line); wake() })
  rl.on('close', () => { ended = true; wake() })
  return {
    next: async () => {
      while (lines.length === 0 && !ended) await new Promise<void>(resolve => { wake = resolve })
      return lines.shift()
    },
    waiting: () => lines.length > 0,
    ended: () => ended
  }
}

/** `exit` / `quit`, optionally with a code as in sh: the code to leave with, or why not. */
function exitCode (words: string[]): number | Error {
  if (words.length === 1) return EXIT.OK
  const code = Number(words[1])
  if (words.length > 2 || !/^\d+$/.test(words[1]) || code > 255) return new Error(`usage: ${words[0]} [code 0-255]`)
  return code
}

/**
 * `cloudai shell`: the original design's interactive master prompt. Every CLI command and
 * option works as typed after `cloudai` (the original `-cpu_cores 2.0 -mem 1.0` too), with
 * history, tab completion of commands, peer names and task ids, and a task's output
 * streaming in while it runs. Lines typed or pasted while a command runs wait their turn, so
 * `cloudai shell < script` runs a script line by line. Ctrl-C cancels the line (or detaches
 * from a running task, as in the CLI); Ctrl-D (end of input) or `exit [code]` leaves, the
 * former with the last command's exit code.
 */
export async function shell (options: ShellOptions, print: Printer): Promise<void> {
  const client = await findApi(options).catch(() => undefined)
  const name = client != null ? await client.request<{ name: string }>('GET', '/v1/id').then(id => id.name, () => undefined) : undefined
  const prompt = name != null ? `cloudai:${name}> ` : 'cloudai> '
  // With a script or a pipe on stdin there is no one to prompt: only the commands' output is printed.
  const interactive = process.stdin.isTTY === true
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt,
    completer: completer(options.commands, client),
    history: await loadHistory(options.dataDir),
    historySize: HISTORY_LINES,
    removeHistoryDuplicates: true
  })
  const input = lineQueue(rl)
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
  if (interactive) print.out(`cloudai shell${name != null ? ` on ${name}` : ''}: "help" lists the commands, Tab completes, Ctrl-D leaves.`)
  /** Runs one line and returns its exit code, or that the shell should leave with one. */
  const runLine = async (text: string): Promise<{ code: number, leave?: true }> => {
    await appendFile(join(options.dataDir, HISTORY_FILE), text + '\n', { mode: 0o600 }).catch(() => {})
    let words: string[]
    try {
      words = splitWords(text)
    } catch (err: any) {
      print.err(`cloudai: ${err.message}`)
      return { code: EXIT.USAGE }
    }
    if (words[0] === 'exit' || words[0] === 'quit') {
      const code = exitCode(words)
      if (code instanceof Error) {
        print.err(`cloudai: ${code.message}`)
        return { code: EXIT.USAGE }
      }
      return { code, leave: true }
    }
    if (words[0] === 'shell') {
      print.err('cloudai: you are in the shell already')
      return { code: EXIT.USAGE }
    }
    const argv = words[0] === 'help' ? [...words.slice(1), '--help'] : words
    running = true
    try {
      const code = await options.run([...options.globalArgs, ...argv])
      if (code !== 0) print.err(colors.dim(`(exit ${code})`))
      return { code }
    } finally {
      running = false
    }
  }
  let last: number = EXIT.OK
  for (;;) {
    const typedAhead = input.waiting()
    if (interactive && !typedAhead && !input.ended()) rl.prompt()
    const line = await input.next()
    if (line == null) break
    const text = line.trim()
    // A line typed while a command ran was echoed among its output: show it again where it runs.
    if (interactive && typedAhead) print.out(prompt + text)
    if (text === '') continue
    const result = await runLine(text)
    last = result.code
    if (result.leave === true) break
  }
  rl.close()
  if (last !== EXIT.OK) throw new ExitError(last)
}
