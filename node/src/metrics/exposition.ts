/**
 * libp2p names some of its gauges like counters (`…_total`), which Prometheus' own checker
 * (`promtool check metrics`) refuses and which a query would take for counters. In its
 * exposition such a gauge family is renamed without the suffix; nothing else is changed.
 */
export function withoutGaugeTotals (exposition: string): string {
  const renamed = new Set<string>()
  for (const match of exposition.matchAll(/^# TYPE (\S+)_total gauge$/gm)) renamed.add(match[1])
  if (renamed.size === 0) return exposition
  return exposition.split('\n').map(line => {
    const match = /^(# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)_total([ {].*)?$/.exec(line)
    if (match == null || !renamed.has(match[2])) return line
    return `${match[1] ?? ''}${match[2]}${match[3] ?? ''}`
  }).join('\n')
}
