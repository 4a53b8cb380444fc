/** `npm run bench -- --quick` sets this: fewer repetitions and smaller transfers, the same rows. */
export const QUICK_ENV = 'CLOUDAI_BENCH_QUICK'

export function isQuick (): boolean {
  return process.env[QUICK_ENV] === '1'
}
