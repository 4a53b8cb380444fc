import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DashboardSessions, LOGIN_TOKEN_TTL_MS, SESSION_TTL_MS } from '../../node/src/api/dashboard-sessions.ts'
import { isLoopbackHost } from '../../node/src/api/host-check.ts'

describe('the Host check', () => {
  test('loopback names and addresses, with or without a port, are accepted', () => {
    for (const host of ['localhost', 'localhost:7420', 'LOCALHOST:1', '127.0.0.1', '127.0.0.1:7420', '127.1.2.3:80', '[::1]', '[::1]:7420']) {
      assert.equal(isLoopbackHost(host), true, host)
    }
  })

  test('any other name, a missing or malformed header, or a hostile one is refused', () => {
    const hostile = [
      undefined, '', 'evil.example', 'evil.example:7420', 'localhost.evil.example', '127.0.0.1.evil.example', 'evil.127.0.0.1',
      '10.0.0.1', '0.0.0.0', '128.0.0.1', '[::2]', '[::1', '::1', '[::1]:99999', '127.0.0.1:99999', '127.0.0.1:', 'localhost:80:80',
      'localhost:abc', ' localhost', 'localhost ', 'loca\u200bhost', 'localhost\u0000', '127.0.0.1/x', 'user@localhost',
      '127.000.000.001', 'l'.repeat(100_000), `localhost:${'1'.repeat(1000)}`
    ]
    for (const host of hostile) assert.equal(isLoopbackHost(host), false, JSON.stringify(host?.slice(0, 40)))
  })
})

describe('dashboard logins', () => {
  const session = (sessions: DashboardSessions, now = 0): string => {
    const { token } = sessions.newLoginToken(now)
    const id = sessions.exchange(token, now)
    assert.ok(id != null)
    return id
  }

  test('a login token is exchanged once, for a session the cookie then proves', () => {
    const sessions = new DashboardSessions(7420)
    const { token, expiresAt } = sessions.newLoginToken(1_000)
    assert.equal(expiresAt, 1_000 + LOGIN_TOKEN_TTL_MS)
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    const id = sessions.exchange(token, 2_000)
    assert.ok(id != null)
    assert.equal(sessions.exchange(token, 2_001), undefined, 'the second use is refused')
    assert.equal(sessions.hasSession(`cloudai_session_7420=${id}`, 3_000), true)
    assert.equal(sessions.hasSession(`a=b; cloudai_session_7420=${id}; c=d`, 3_000), true)
    const cookie = sessions.cookie(id)
    assert.match(cookie, /HttpOnly/)
    assert.match(cookie, /SameSite=Strict/)
    assert.match(cookie, /Path=\//)
  })

  test('expired tokens and sessions are refused', () => {
    const sessions = new DashboardSessions(1)
    const { token } = sessions.newLoginToken(0)
    assert.equal(sessions.exchange(token, LOGIN_TOKEN_TTL_MS), undefined)
    const id = session(sessions, 0)
    assert.equal(sessions.hasSession(`cloudai_session_1=${id}`, SESSION_TTL_MS - 1), true)
    assert.equal(sessions.hasSession(`cloudai_session_1=${id}`, SESSION_TTL_MS), false)
  })

  test('wrong, forged, another port\'s, oversized and malformed cookies are refused', () => {
    const sessions = new DashboardSessions(7420)
    const id = session(sessions)
    const other = new DashboardSessions(7421)
    const hostile = [
      undefined, '', 'cloudai_session_7420', 'cloudai_session_7420=', `cloudai_session_7421=${id}`, `cloudai_session_742=${id}`,
      `cloudai_session_7420=${id}x`, `cloudai_session_7420=${id.slice(1)}`, `xcloudai_session_7420=${id}`,
      `cloudai_session_7420=${'a'.repeat(10_000)}`, `${'a=b;'.repeat(3000)}cloudai_session_7420=${id}`, ';;;===;;;', '\u0000'
    ]
    for (const header of hostile) assert.equal(sessions.hasSession(header, 1), false, JSON.stringify(header?.slice(0, 60)))
    assert.equal(other.hasSession(`cloudai_session_7420=${id}`, 1), false)
    for (const token of ['', 'x', 'a'.repeat(43), id, 'a'.repeat(100_000)]) assert.equal(sessions.exchange(token, 1), undefined)
  })

  test('what is kept is bounded: the oldest unused login tokens and sessions give way', () => {
    const sessions = new DashboardSessions(1)
    const tokens = Array.from({ length: 40 }, () => sessions.newLoginToken(0).token)
    assert.equal(sessions.exchange(tokens[0], 1), undefined, 'the oldest of 40 was dropped (32 are kept)')
    assert.notEqual(sessions.exchange(tokens[39], 1), undefined)
    const ids = Array.from({ length: 70 }, () => session(sessions, 2))
    assert.equal(sessions.hasSession(`cloudai_session_1=${ids[0]}`, 3), false, 'the oldest of 70 sessions was logged out (64 are kept)')
    assert.equal(sessions.hasSession(`cloudai_session_1=${ids[69]}`, 3), true)
  })
})
