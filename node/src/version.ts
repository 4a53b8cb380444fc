import { readFileSync } from 'node:fs'

/** The package version, read once from package.json (two levels above dist/node/src or node/src). */
export const VERSION: string = (() => {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8'))
      if (pkg.name === 'cloudai') return String(pkg.version)
    } catch {}
  }
  return '0.0.0'
})()
