import { isIPv4 } from 'node:net'

/**
 * Whether a request's Host header names this machine's loopback: `localhost`, `127.x.x.x` or
 * `[::1]`, with any port. A web page on another site can make a browser send requests to the
 * API under a name of its own that resolves to 127.0.0.1 (DNS rebinding); such a request
 * carries that name as its Host, and is refused here before anything else is looked at. An SSH
 * tunnel to the API keeps working: the browser at its end asks for localhost.
 */
export function isLoopbackHost (header: string | undefined): boolean {
  if (header == null || header.length > 64) return false
  const match = /^(\[::1\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.toLowerCase())
  if (match == null) return false
  const [, host, port] = match
  if (port != null && Number(port) > 65535) return false
  return host === 'localhost' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'))
}
