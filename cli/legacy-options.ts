/**
 * The original master prompt spelled resources as single-dash words with sizes in GB:
 * `task worker-1 <image> -cpu_cores 2.0 -mem 1.0 -storage 1.0 -gpu_cores 1`. commander only
 * knows `--long` options, so those spellings are rewritten before parsing (never after `--`).
 */
const LEGACY: Record<string, { option: string, unit: string }> = {
  '-cpu_cores': { option: '--cpu', unit: '' },
  '-mem': { option: '--memory', unit: 'g' },
  '-storage': { option: '--storage', unit: 'g' },
  '-gpu_cores': { option: '--gpus', unit: '' }
}

export function translateLegacyOptions (argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') return [...out, ...argv.slice(i)]
    const legacy = LEGACY[arg]
    if (legacy != null && i + 1 < argv.length) {
      const value = argv[++i]
      out.push(legacy.option, /^\d+(\.\d+)?$/.test(value) ? value + legacy.unit : value)
    } else {
      out.push(arg)
    }
  }
  return out
}
