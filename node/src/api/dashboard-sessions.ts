import { randomBytes, timingSafeEqual } from 'node:crypto'

/** A login URL printed by `cloudai dashboard` works once, and only this soon. */
export const LOGIN_TOKEN_TTL_MS = 5 * 60_000
/** A browser logged in stays logged in for a working day; then `cloudai dashboard` again. */
export const SESSION_TTL_MS = 12 * 3600_000
/** Unused login URLs kept at once: each `cloudai dashboard` run makes one; past this, the oldest stops working. */
const MAX_LOGIN_TOKENS = 32
/** Browser sessions kept at once; past this, the oldest is logged out. */
const MAX_SESSIONS = 64

/** Secrets compared in constant time (their lengths are public: every secret here has the same). */
function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Forget the oldest entries of a map kept in insertion order until it holds `max`, and every expired one. */
function trim (map: Map<string, number>, max: number, now: number): void {
  for (const [key, expires] of map) if (expires <= now) map.delete(key)
  while (map.size > max) map.delete(map.keys().next().value!)
}

/**
 * The dashboard's logins: single-use login tokens (made for whoever holds the API's bearer
 * token, printed in a URL) exchanged for session ids that a browser keeps in an HttpOnly,
 * SameSite=Strict cookie. Everything is in memory: a restarted daemon logs every browser out.
 */
export class DashboardSessions {
  private readonly loginTokens = new Map<string, number>()
  private readonly sessions = new Map<string, number>()
  /** The cookie's name carries the API's port: browsers keep cookies per host, not per port, and two daemons on one machine must not log each other's browsers out. */
  readonly cookieName: string

  constructor (port: number) {
    this.cookieName = `cloudai_session_${port}`
  }

  /** A new single-use login token. */
  newLoginToken (now = Date.now()): { token: string, expiresAt: number } {
    const token = randomBytes(32).toString('base64url')
    const expiresAt = now + LOGIN_TOKEN_TTL_MS
    this.loginTokens.set(token, expiresAt)
    trim(this.loginTokens, MAX_LOGIN_TOKENS, now)
    return { token, expiresAt }
  }

  /** Exchange a login token for a new session id; undefined when the token is unknown, used or expired. */
  exchange (token: string, now = Date.now()): string | undefined {
    trim(this.loginTokens, MAX_LOGIN_TOKENS, now)
    for (const known of this.loginTokens.keys()) {
      if (!sameSecret(known, token)) continue
      this.loginTokens.delete(known)
      const session = randomBytes(32).toString('base64url')
      this.sessions.set(session, now + SESSION_TTL_MS)
      trim(this.sessions, MAX_SESSIONS, now)
      return session
    }
    return undefined
  }

  /** Whether the request's Cookie header holds a live session of ours. */
  hasSession (cookieHeader: string | undefined, now = Date.now()): boolean {
    const session = this.cookieValue(cookieHeader)
    if (session == null) return false
    for (const [known, expires] of this.sessions) {
      if (expires > now && sameSecret(known, session)) return true
    }
    return false
  }

  /** The Set-Cookie header value for a new session: never readable by scripts, never sent by another site's page. */
  cookie (session: string): string {
    return `${this.cookieName}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`
  }

  private cookieValue (header: string | undefined): string | undefined {
    if (header == null || header.length > 8192) return undefined
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim()
    }
    return undefined
  }
}
