import { tuneGarbageCollection } from '../node/src/gc-tuning.ts'
import { EXIT } from './exit.ts'
import { translateLegacyOptions } from './legacy-options.ts'
import { consolePrinter, type Printer } from './render.ts'
import { reportedExitCode } from './report-error.ts'
import { parseTaskInvocation, runTaskInvocation } from './task-invocation.ts'

/**
 * The CLI as cli.js runs it. A plain `cloudai task …` goes straight to the command, read from
 * the option table, so sending a task loads neither commander nor the rest of the command
 * table; everything else (and anything that line reader is unsure of) goes to main.ts.
 */
export async function run (argv: string[], print: Printer = consolePrinter): Promise<number> {
  // Before any transfer: the daemon and a CLI that downloads results move data by the gigabyte.
  tuneGarbageCollection()
  const invocation = parseTaskInvocation(translateLegacyOptions(argv))
  if (invocation === undefined) {
    const main = await import('./main.ts')
    return await main.run(argv, print)
  }
  try {
    await runTaskInvocation(invocation, print)
    return EXIT.OK
  } catch (err) {
    return reportedExitCode(err, print)
  }
}
