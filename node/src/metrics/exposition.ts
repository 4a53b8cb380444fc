/**
 * libp2p names some of its metrics against Prometheus' conventions, which Prometheus' own
 * checker (`promtool check metrics`) refuses: gauges named like counters (`…_total`), and
 * gauges in milliseconds. In its exposition such a gauge family is renamed (`_total`
 * dropped; `_milliseconds` → `_seconds`, its values divided by 1,000); nothing else changes.
 */
export function conventionalGauges (exposition: string): string {
  const renames = new Map<string, { name: string, scale: number }>()
  for (const [, family] of exposition.matchAll(/^# TYPE (\S+) gauge$/gm)) {
    if (family.endsWith('_total')) renames.set(family, { name: family.slice(0, -'_total'.length), scale: 1 })
    else if (family.endsWith('_milliseconds')) renames.set(family, { name: `${family.slice(0, -'_milliseconds'.length)}_seconds`, scale: 1 / 1000 })
  }
  if (renames.size === 0) return exposition
  return exposition.split('\n').map(line => {
    const comment = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line)
    if (comment != null) {
      const rename = renames.get(comment[2])
      return rename != null ? `# ${comment[1]} ${rename.name}${comment[3]}` : line
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)(.*)$/.exec(line)
    const rename = sample != null ? renames.get(sample[1]) : undefined
    if (sample == null || rename == null) return line
    const value = rename.scale === 1 ? sample[3] : String(Number(sample[3]) * rename.scale)
    return `${rename.name}${sample[2] ?? ''} ${value}${sample[4]}`
  }).join('\n')
}
