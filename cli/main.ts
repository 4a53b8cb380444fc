import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { resolveDataDir } from '../node/src/data-dir.ts'
import { DEFAULT_API_ADDRESS, DEFAULT_KEEP_BYTES, DEFAULT_KEEP_FOR_MS, DEFAULT_LISTEN, DEFAULT_MDNS_TAG, DEFAULT_PAGE_TASKS, MAX_PAGE_TASKS } from '../node/src/defaults.ts'
import { parseCores, parseCount, parseDuration, parseSize } from '../node/src/units.ts'
import { TASK_STATE_NAMES } from '../node/src/task-states.ts'
import { VERSION } from '../node/src/version.ts'
import { translateLegacyOptions } from './legacy-options.ts'
import { EXIT } from './exit.ts'
import { consolePrinter, type Printer } from './render.ts'
import { collect, GLOBAL_OPTIONS, keyValue as keyValueText, TASK_OPTIONS, type OptionSpec } from './task-options.ts'
import { runTaskInvocation, type TaskInvocation } from './task-invocation.ts'
import { reportedExitCode } from './report-error.ts'

// Each command's module is loaded when it runs: `task` through a daemon needs no libp2p or
// dockerode, and loading them all took half a second of every command's start-up.

/** Wrap a parser so its error becomes a commander usage error (exit 2). */
function arg<T> (parse: (text: string) => T): (text: string) => T {
  return text => {
    try {
      return parse(text)
    } catch (err: any) {
      throw new InvalidArgumentError(err?.message ?? String(err))
    }
  }
}


/** A task state, in any case. */
function parseState (text: string): string {
  const state = text.toUpperCase()
  if (!(TASK_STATE_NAMES as readonly string[]).includes(state)) throw new Error(`"${text}" is not a task state: use one of ${TASK_STATE_NAMES.join(', ')}`)
  return state
}

/** A page size: at least one task, at most MAX_PAGE_TASKS (`--before` pages on). */
function parsePageSize (text: string): number {
  const count = parseCount(text, 'limit')
  if (count < 1 || count > MAX_PAGE_TASKS) throw new Error(`"${text}" is not a page size: use 1 to ${MAX_PAGE_TASKS}, and --before <task> for the next page`)
  return count
}

/** A repeatable `key=value` option; a malformed one is a usage error. */
const keyValue = (value: string, previous?: Record<string, string>): Record<string, string> => arg(text => keyValueText(text, previous))(value)

/** commander's option for a row of the option tables (task-options.ts). */
function optionOf (spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description)
  if (spec.choices != null) option.choices(spec.choices)
  if (spec.default !== undefined) option.default(spec.default, spec.defaultDescription)
  if (spec.parse != null) option.argParser(arg(spec.parse))
  if (spec.repeat === 'list') option.argParser(collect)
  if (spec.repeat === 'keyValue') option.argParser(keyValue)
  return option
}

/**
 * Build the command table. `print` is injected so tests can run commands in-process, and
 * `runTask` so a test can see how a `task` command line was read.
 */
export function buildProgram (print: Printer = consolePrinter, runTask: (invocation: TaskInvocation, print: Printer) => Promise<void> = runTaskInvocation): Command {
  const program = new Command('cloudai')
    .description('A zero-configuration compute mesh: every machine runs the same program and runs containers for its peers.')
    .version(VERSION)
  for (const spec of GLOBAL_OPTIONS) program.addOption(optionOf(spec))
  program
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: text => { print.out(text.trimEnd()) }, writeErr: text => { print.err(text.trimEnd()) } })

  const globals = (cmd: Command): { dataDir: string, api?: string } => {
    const opts = cmd.optsWithGlobals()
    return { dataDir: resolveDataDir(opts.dataDir), api: opts.api }
  }

  program.command('init')
    .description('create this node\'s identity and a cluster key, and print how to share the key')
    .option('--json', 'print one JSON object')
    .action(async (opts, cmd) => {
      const { init } = await import('./commands/init.ts')
      await init({ dataDir: globals(cmd).dataDir, json: opts.json }, print)
    })

  program.command('start')
    .description('run the node (worker, master and local API) until Ctrl-C')
    .option('--name <name>', 'the name peers see (default: the hostname)')
    .option('--listen <multiaddr>', `libp2p listen address, repeatable (default: ${DEFAULT_LISTEN})`, collect)
    .option('--api <addr>', `where the local API listens, loopback only (default: ${DEFAULT_API_ADDRESS})`)
    .option('--mdns-tag <tag>', 'mDNS service tag: only nodes with the same tag find each other', DEFAULT_MDNS_TAG)
    .option('--no-mdns', 'do not use mDNS (use --bootstrap or connect)')
    .option('--bootstrap <multiaddr>', 'a peer to dial at start and whenever disconnected, repeatable', collect)
    .option('--open', 'run without a cluster key: anyone on the LAN can join (not recommended)')
    .addOption(new Option('--cpu <cores>', 'CPU cores to offer (default: all)').argParser(arg(parseCores)))
    .addOption(new Option('--memory <size>', 'memory to offer, e.g. 8g (default: all)').argParser(arg(text => parseSize(text))))
    .addOption(new Option('--storage <size>', 'disk to offer, e.g. 100g (default: free space in the data dir)').argParser(arg(text => parseSize(text))))
    .addOption(new Option('--gpus <n>', 'GPUs to offer (default: nvidia-smi -L)').argParser(arg(text => parseCount(text, 'GPU count'))))
    .option('--label <key=value>', 'a label peers see, repeatable', keyValue)
    .addOption(new Option('--status-interval <duration>', 'how often every member is asked for its Status (load, health); shorter keeps the dashboard\'s mesh fresher, at a request per member each time').default(10_000, '10s').argParser(arg(parseDuration)))
    .option('--metrics-listen <addr>', 'also serve GET /metrics WITHOUT a token at this address (e.g. 0.0.0.0:9464, for a Prometheus elsewhere); by default /metrics is on the API, behind its token')
    .addOption(new Option('--lost-after <duration>', 'how long a worker running this node\'s tasks may stay unreachable before they are LOST').default(30_000, '30s').argParser(arg(parseDuration)))
    .addOption(new Option('--log-limit <size>', 'output kept per task; past it, the rest is dropped and the task says so').default(16 * 1024 ** 2, '16m').argParser(arg(text => parseSize(text))))
    .addOption(new Option('--keep-for <duration>', 'finished tasks are removed from the history this long after they ended').default(DEFAULT_KEEP_FOR_MS, '30d').argParser(arg(parseDuration)))
    .addOption(new Option('--keep-size <size>', 'past this size, the oldest finished tasks are removed from the history').default(DEFAULT_KEEP_BYTES, '1g').argParser(arg(text => parseSize(text))))
    .action(async (opts, cmd) => {
      const { dataDir } = globals(cmd)
      const { start } = await import('./commands/start.ts')
      await start({
        dataDir,
        name: opts.name,
        listen: opts.listen,
        apiAddress: opts.api ?? cmd.parent?.opts().api,
        metricsAddress: opts.metricsListen,
        refreshIntervalMs: opts.statusInterval,
        mdnsTag: opts.mdns === false ? false : opts.mdnsTag,
        bootstrap: opts.bootstrap,
        open: opts.open === true,
        labels: opts.label,
        lostAfterMs: opts.lostAfter,
        logLimitBytes: opts.logLimit,
        retention: { olderThanMs: opts.keepFor, keepBytes: opts.keepSize },
        capacity: {
          ...(opts.cpu != null ? { cpu: opts.cpu } : {}),
          ...(opts.memory != null ? { memoryBytes: opts.memory } : {}),
          ...(opts.storage != null ? { storageBytes: opts.storage } : {}),
          ...(opts.gpus != null ? { gpus: opts.gpus } : {})
        }
      }, print)
    })

  const task = program.command('task')
    .description('send a container task to a peer and stream it; exits with its exit code')
    .argument('<peer>', 'a peer ID, a unique part of one, a node name, or "self"')
    .argument('<image>', 'an image the worker can pull, e.g. 127.0.0.1:5000/cloudai/busybox:1')
    .argument('[command...]', 'the command (after --), instead of the image default')
  for (const spec of TASK_OPTIONS) task.addOption(optionOf(spec))
  task.action(async (peer: string, image: string, command: string[], opts, cmd) => {
    const { dataDir, api } = cmd.optsWithGlobals()
    await runTask({ peer, image, command, options: opts, ...(dataDir != null ? { dataDir } : {}), ...(api != null ? { api } : {}) }, print)
  })

  program.command('results <task> [dest]')
    .description('fetch a finished task\'s outputs (again) from the worker that kept them, into dest (default ./cloudai-results/<task-id>)')
    .option('--json', 'print progress and the outputs as JSON lines')
    .action(async (task: string, dest: string | undefined, opts, cmd) => {
      const { results } = await import('./commands/results.ts')
      await results(task, dest, { ...globals(cmd), json: opts.json }, print)
    })

  program.command('tasks')
    .description('task history, a page at a time: what this node sent and what it ran, newest first')
    .addOption(new Option('--limit <n>', `tasks per page (default ${DEFAULT_PAGE_TASKS}, at most ${MAX_PAGE_TASKS})`).argParser(arg(parsePageSize)))
    .addOption(new Option('--state <state>', `only tasks in this state (${TASK_STATE_NAMES.join(', ')})`).argParser(arg(parseState)))
    .option('--before <task>', 'the next page: the tasks listed after this one (an id or a unique prefix)')
    .option('--json', 'print a JSON array')
    .action(async (opts, cmd) => {
      const { tasks } = await import('./commands/tasks.ts')
      await tasks({ ...globals(cmd), json: opts.json, limit: opts.limit, state: opts.state, before: opts.before }, print)
    })

  program.command('prune')
    .description('remove now the finished tasks the history does not keep, with their events and output (through the daemon by its --keep-for and --keep-size; without one, what ended over 30 days ago)')
    .addOption(new Option('--older-than <duration>', 'remove finished tasks that ended longer ago than this, e.g. 7d (default: the daemon\'s --keep-for)').argParser(arg(parseDuration)))
    .addOption(new Option('--keep-size <size>', 'then the oldest finished tasks while the history is larger than this (default: the daemon\'s --keep-size; none without a daemon)').argParser(arg(text => parseSize(text))))
    .option('--json', 'print one JSON object')
    .action(async (opts, cmd) => {
      const { prune } = await import('./commands/prune.ts')
      await prune({ ...globals(cmd), json: opts.json, olderThanMs: opts.olderThan, keepBytes: opts.keepSize }, print)
    })

  program.command('status <task>')
    .description('one task\'s state, peer, timings, resources and events (by id or a unique prefix)')
    .option('--json', 'print one JSON object')
    .action(async (task, opts, cmd) => {
      const { status } = await import('./commands/status.ts')
      await status(task, { ...globals(cmd), json: opts.json }, print)
    })

  program.command('logs <task>')
    .description('a task\'s output: stdout and stderr as the container wrote them')
    .option('-f, --follow', 'keep following until the task ends; then exit with its exit code')
    .addOption(new Option('--tail <n>', 'only the last n lines').argParser(arg(text => parseCount(text, 'line count'))))
    .option('--json', 'print one event per line (JSON)')
    .action(async (task, opts, cmd) => {
      const { logs } = await import('./commands/logs.ts')
      await logs(task, { ...globals(cmd), follow: opts.follow, tail: opts.tail, json: opts.json }, print)
    })

  program.command('cancel <task>')
    .description('stop a task wherever it runs (SIGTERM, then SIGKILL after 10 s) and wait until it has ended')
    .option('--json', 'print one JSON object')
    .action(async (task, opts, cmd) => {
      const { cancel } = await import('./commands/cancel.ts')
      await cancel(task, { ...globals(cmd), json: opts.json }, print)
    })

  program.command('id')
    .description('this node\'s peer ID, name and addresses')
    .option('--json', 'print one JSON object')
    .action(async (opts, cmd) => {
      const { id } = await import('./commands/id.ts')
      await id({ ...globals(cmd), json: opts.json }, print)
    })

  program.command('dashboard')
    .description('print a URL that logs a browser into this node\'s dashboard, once')
    .option('--open', 'open the URL in this machine\'s browser too')
    .option('--json', 'print one JSON object')
    .action(async (opts, cmd) => {
      const { dashboard } = await import('./commands/dashboard.ts')
      await dashboard({ ...globals(cmd), open: opts.open, json: opts.json }, print)
    })

  program.command('peers')
    .description('known peers: name, ID, address, free/total resources, load, latency')
    .option('--json', 'print a JSON array')
    .action(async (opts, cmd) => {
      const { peers } = await import('./commands/peers.ts')
      await peers({ ...globals(cmd), json: opts.json }, print)
    })

  program.command('connect <multiaddr>')
    .description('add a peer that mDNS cannot see, e.g. /ip4/10.0.0.7/tcp/7421')
    .option('--json', 'print the peer as one JSON object')
    .action(async (addr, opts, cmd) => {
      const { connect } = await import('./commands/connect.ts')
      await connect(addr, { ...globals(cmd), json: opts.json }, print)
    })

  program.command('key')
    .description('manage the cluster key')
    .command('rotate')
    .description('replace the cluster key with a new one (the old one is kept as swarm.key.old) and print how to roll it out')
    .option('--json', 'print one JSON object')
    .action(async (opts, cmd) => {
      const { rotate } = await import('./commands/key.ts')
      await rotate({ ...globals(cmd), json: opts.json }, print)
    })

  program.command('shell')
    .description('an interactive prompt (cloudai> ) for all of these commands, with history and tab completion')
    .action(async (_opts, cmd) => {
      const { dataDir, api } = globals(cmd)
      const { shell } = await import('./commands/shell.ts')
      await shell({
        dataDir,
        api,
        globalArgs: ['--data-dir', dataDir, ...(api != null ? ['--api', api] : [])],
        run: async argv => await run(argv, print),
        commands: program.commands.map(command => command.name()).filter(name => name !== 'shell')
      }, print)
    })

  return program
}

/** Run the CLI and return the exit code; errors are printed here, once. */
export async function run (argv: string[], print: Printer = consolePrinter): Promise<number> {
  try {
    await buildProgram(print).parseAsync(translateLegacyOptions(argv), { from: 'user' })
    return EXIT.OK
  } catch (err: any) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
    }
    return reportedExitCode(err, print)
  }
}
