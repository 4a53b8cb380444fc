// Loaded by the CLI for every task it shows: no runtime imports, so it costs the start-up nothing.

export type OutputStreamName = 'stdout' | 'stderr'

/**
 * An event's output in JSON: one stream's bytes (base64), or, for output that switched
 * streams, `segments` in the order they were written (and no `stream`/`data`, so that no
 * reader takes them all for one stream's).
 */
export type TaskOutputJson =
  | { stream: OutputStreamName, data: string, segments?: undefined }
  | { segments: Array<{ stream: OutputStreamName, data: string }>, stream?: undefined, data?: undefined }

/** The pieces of an event's output in JSON, in order, as bytes. */
export function jsonOutputPieces (log: TaskOutputJson): Array<{ stream: OutputStreamName, data: Buffer }> {
  if (log.segments != null) return log.segments.map(segment => ({ stream: segment.stream, data: Buffer.from(segment.data, 'base64') }))
  return [{ stream: log.stream, data: Buffer.from(log.data, 'base64') }]
}
