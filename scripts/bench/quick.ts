/** `npm run bench -- --quick` sets this: fewer repetitions and smaller transfers, the same rows. */
export const QUICK_ENV = 'CLOUDAI_BENCH_QUICK'

export function isQuick (): boolean {
  // The argument itself, not only the environment run.ts sets: benchmark modules read this as
  // they load, before run.ts's own code runs.
  return process.argv.includes('--quick') || process.env[QUICK_ENV] === '1'
}
