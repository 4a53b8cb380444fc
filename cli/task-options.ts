import { DEFAULT_MDNS_TAG } from '../node/src/defaults.ts'
import { parseCores, parseCount, parseDuration, parseSize } from '../node/src/units.ts'

// The options of `cloudai task`, and the global ones, as data: main.ts builds commander's
// options from them (help, usage errors), and task-invocation.ts reads a plain `task`
// command line with them without loading commander. One table, so the two cannot differ.

/** One option as commander's `new Option(flags, description)` takes it, with what it is given. */
export interface OptionSpec {
  /** `--name <value>` for an option with a value, `--name` for a switch. */
  flags: string
  description: string
  /** The value when the option is not given (already parsed). */
  default?: unknown
  /** How help shows the default, when not as the value itself. */
  defaultDescription?: string
  /** The value from its text; throws an Error saying what is wrong. */
  parse?: (text: string) => unknown
  choices?: readonly string[]
  /** A repeatable option: every value in a list, or every `key=value` in an object. */
  repeat?: 'list' | 'keyValue'
}

/** A repeatable `key=value` option (labels, environment variables). */
export function keyValue (value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new Error(`"${value}" is not key=value`)
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) }
}

export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** `--retry-on-exit` → `retryOnExit`, as commander names an option's value. */
export function optionKey (spec: OptionSpec): string {
  const long = /^--([a-z0-9-]+)/.exec(spec.flags)?.[1] ?? ''
  return long.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())
}

export function takesValue (spec: OptionSpec): boolean {
  return spec.flags.includes('<')
}

/** The program's own options, given before or after the command. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--data-dir <dir>', description: 'where this node keeps its identity, key and state (default: $CLOUDAI_HOME or ~/.cloudai)' },
  { flags: '--api <addr>', description: 'the local daemon API to use (default: $CLOUDAI_API, else the data dir\'s api file)' }
]

export const TASK_OPTIONS: OptionSpec[] = [
  { flags: '--cpu <cores>', description: 'CPU cores', default: 1, parse: parseCores },
  { flags: '--memory <size>', description: 'memory limit, e.g. 512m, 1.5g', default: 512 * 1024 ** 2, defaultDescription: '512m', parse: text => parseSize(text) },
  { flags: '--storage <size>', description: 'disk space to reserve', default: 1024 ** 3, defaultDescription: '1g', parse: text => parseSize(text) },
  { flags: '--gpus <n>', description: 'GPUs', default: 0, parse: text => parseCount(text, 'GPU count') },
  { flags: '--env <key=value>', description: 'an environment variable, repeatable', repeat: 'keyValue' },
  { flags: '--network <mode>', description: 'container network', choices: ['none', 'bridge'], default: 'none' },
  { flags: '--timeout <duration>', description: 'kill the task after this long, e.g. 90s, 10m', parse: parseDuration },
  { flags: '--label <key=value>', description: 'a label on the task, repeatable', repeat: 'keyValue' },
  { flags: '--retries <n>', description: 'place the task again elsewhere up to n times if its node fails it (lost, refused, engine failure)', default: 0, parse: text => parseCount(text, 'retries') },
  { flags: '--retry-on-exit', description: 'with --retries, a non-zero exit is retried too' },
  { flags: '--policy <policy>', description: 'how "auto" chooses among the peers that fit', choices: ['spread', 'binpack'], default: 'spread' },
  { flags: '--constraint <key=value>', description: 'for "auto": only peers with this label, repeatable', repeat: 'keyValue' },
  { flags: '--count <n>', description: 'run n copies, each its own task, placed together', default: 1, parse: text => parseCount(text, 'count') },
  { flags: '--explain', description: 'with "auto": show the candidates, their status and the choice, and send nothing' },
  { flags: '--detach', description: 'print the task id and return; the task runs on' },
  { flags: '--json', description: 'print one event per line (JSON) instead of the output' },
  { flags: '--quiet', description: 'only the container\'s output: no boxes, states or progress' },
  { flags: '--mdns-tag <tag>', description: 'mDNS tag for the embedded node used when no daemon runs', default: DEFAULT_MDNS_TAG },
  { flags: '--input <src[:dst]>', description: 'a file or directory here, copied into the container at dst before it starts (default /in/<name>), repeatable', repeat: 'list' },
  { flags: '--output <path[:local]>', description: 'a container path collected after the task ends, landing at local (default ./cloudai-results/<task-id>/<name>), repeatable', repeat: 'list' },
  { flags: '--output-limit <size>', description: 'the most the outputs may hold together; past it, what fits is kept and the task says so', parse: text => parseSize(text) }
]
