import { exitCodeOf } from '../node/src/error-codes.ts'
import { codeOf } from '../node/src/errors.ts'
import { ExitError } from './exit.ts'
import type { Printer } from './render.ts'

/** Print a command's error once, as the CLI shows it, and return the exit code it means. */
export function reportedExitCode (err: any, print: Printer): number {
  if (err instanceof ExitError) {
    if (err.message !== '') print.err(`cloudai: ${err.message}`)
    return err.code
  }
  print.err(`cloudai: ${err?.message ?? String(err)}`)
  if (process.env.CLOUDAI_DEBUG != null) print.err(String(err?.stack))
  return exitCodeOf(codeOf(err))
}
