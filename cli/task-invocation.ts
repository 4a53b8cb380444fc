import { resolveDataDir } from '../node/src/data-dir.ts'
import { EXIT, ExitError } from './exit.ts'
import type { Printer } from './render.ts'
import { collect, GLOBAL_OPTIONS, keyValue, optionKey, takesValue, TASK_OPTIONS, type OptionSpec } from './task-options.ts'

/** A `task` command line, read: what commander's action for `task` receives. */
export interface TaskInvocation {
  peer: string
  image: string
  command: string[]
  /** The task's options by key (`retryOnExit`), defaults included, as commander gives them. */
  options: Record<string, any>
  /** `--data-dir` and `--api`, as given. */
  dataDir?: string
  api?: string
}

const BY_FLAG = new Map<string, { spec: OptionSpec, global: boolean }>([
  ...TASK_OPTIONS.map(spec => [spec.flags.split(' ')[0], { spec, global: false }] as const),
  ...GLOBAL_OPTIONS.map(spec => [spec.flags.split(' ')[0], { spec, global: true }] as const)
])

/**
 * Read a plain `cloudai task …` command line without commander, whose loading is a sizeable
 * share of the command's start-up. Returns undefined for anything else, or anything it is not
 * sure to read as commander would (help, an unknown or short option, a value that does not
 * parse, a missing argument, a value that starts with a dash): commander then reads it, and
 * says what is wrong. A test holds this to commander's reading of the same line.
 */
export function parseTaskInvocation (argv: readonly string[]): TaskInvocation | undefined {
  const options: Record<string, any> = {}
  for (const spec of TASK_OPTIONS) if (spec.default !== undefined) options[optionKey(spec)] = spec.default
  const globals: Record<string, string> = {}
  const operands: string[] = []
  let commandSeen = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      if (!commandSeen) return undefined
      operands.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-')) {
      if (commandSeen) operands.push(arg)
      else if (arg === 'task') commandSeen = true
      else return undefined
      continue
    }
    const eq = arg.indexOf('=')
    const flag = eq >= 0 ? arg.slice(0, eq) : arg
    const known = BY_FLAG.get(flag)
    // Before `task`, a task option is an unknown option of the program to commander.
    if (known == null || (!known.global && !commandSeen)) return undefined
    const { spec } = known
    const key = optionKey(spec)
    if (!takesValue(spec)) {
      if (eq >= 0) return undefined
      options[key] = true
      continue
    }
    let text: string | undefined
    if (eq >= 0) {
      text = arg.slice(eq + 1)
    } else {
      text = argv[++i]
      if (text === undefined || text.startsWith('-')) return undefined
    }
    if (known.global) {
      globals[key] = text
      continue
    }
    try {
      if (spec.choices != null && !spec.choices.includes(text)) return undefined
      if (spec.repeat === 'list') options[key] = collect(text, options[key])
      else if (spec.repeat === 'keyValue') options[key] = keyValue(text, options[key])
      else options[key] = spec.parse != null ? spec.parse(text) : text
    } catch {
      return undefined
    }
  }
  if (!commandSeen || operands.length < 2) return undefined
  const [peer, image, ...command] = operands
  return { peer, image, command, options, ...globals }
}

/** Run a `task` command line as read by either reader. */
export async function runTaskInvocation (invocation: TaskInvocation, print: Printer): Promise<void> {
  const { peer, image, command, options: opts } = invocation
  const { task } = await import('./commands/task.ts')
  const { filesRequest } = await import('./file-options.ts')
  let files: ReturnType<typeof filesRequest>
  try {
    files = filesRequest(opts.input, opts.output, opts.outputLimit)
  } catch (err: any) {
    throw new ExitError(EXIT.USAGE, err?.message ?? String(err))
  }
  await task(peer, {
    dataDir: resolveDataDir(invocation.dataDir),
    api: invocation.api,
    outputLocals: files.outputLocals,
    detach: opts.detach,
    json: opts.json,
    quiet: opts.quiet,
    mdnsTag: opts.mdnsTag,
    count: opts.count,
    explain: opts.explain,
    placement: { retries: opts.retries, retryOnExit: opts.retryOnExit === true, policy: opts.policy, constraints: opts.constraint ?? {} },
    request: {
      image,
      command,
      env: opts.env ?? {},
      resources: { cpu: opts.cpu, memoryBytes: opts.memory, storageBytes: opts.storage, gpus: opts.gpus },
      network: opts.network,
      timeoutMs: opts.timeout,
      labels: opts.label ?? {},
      ...(files.files != null ? { files: files.files } : {})
    }
  }, print)
}
