import assert from 'node:assert/strict'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runCli, startDaemonProcess, type DaemonProcess } from '../helpers/cli.ts'
import { docker, ensureTestImage, IMAGE, removeTaskContainers, runCliBytes, taskContainers, type ProcessResult } from '../helpers/docker.ts'
import { mdnsTag, requireTestNamespace, tempDir, waitFor } from '../helpers/env.ts'

/**
 * The worker's policy and the container's isolation on the real engine: daemons as
 * processes, each with its own `policy.json` written before it starts, and tasks sent with
 * the CLI as a user types them. What a container can see and do is asserted from inside it.
 */

/**
 * In the local registry (pushed in `before`) but not under the allowed prefix, and removed
 * from the engine: were it pulled, the engine would hold it again afterwards.
 */
const OUTSIDE_IMAGE = '127.0.0.1:5000/other/busybox:1'
/** Shares the allowed prefix's first characters ("…/cloudai") but not the prefix ("…/cloudai/"). */
const LOOKALIKE_IMAGE = '127.0.0.1:5000/cloudai-sample-task:1'
const ALLOWED_PREFIX = '127.0.0.1:5000/cloudai/'
const STRICT_USER = '65534:65534'
const STRICT_TMP = '16m'
const BOUND_MS = 60_000
/** What `/` of the test image holds (`FROM scratch` + a static busybox), plus what the engine adds. */
const IMAGE_ROOT = new Set(['.dockerenv', 'bin', 'dev', 'etc', 'proc', 'root', 'sys', 'tmp'])

let dir: { path: string, remove: () => Promise<void> }
const daemons: DaemonProcess[] = []
const nodeIds: string[] = []
const dataDirs = { guarded: '', strict: '', plain: '' }

async function startWithPolicy (name: keyof typeof dataDirs, policy: unknown): Promise<void> {
  const dataDir = join(dir.path, name)
  dataDirs[name] = dataDir
  const init = await runCli(['--data-dir', dataDir, 'init', '--json'])
  assert.equal(init.code, 0, init.stderr)
  nodeIds.push(JSON.parse(init.stdout).peerId)
  if (policy != null) await writeFile(join(dataDir, 'policy.json'), JSON.stringify(policy), { mode: 0o600 })
  daemons.push(await startDaemonProcess(dataDir, ['--name', name, '--mdns-tag', mdnsTag(), '--cpu', '2']))
}

async function task (node: keyof typeof dataDirs, args: string[]): Promise<ProcessResult> {
  return await runCliBytes(['--data-dir', dataDirs[node], 'task', 'self', ...args], { timeoutMs: BOUND_MS })
}

/** Run `sh -c script` as a task on `node`; its exit code, stdout and stderr as text. */
async function inside (node: keyof typeof dataDirs, script: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const result = await task(node, ['--quiet', IMAGE, '--', 'sh', '-c', script])
  return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

function parseEvents (stdout: Buffer): any[] {
  return stdout.toString().split('\n').filter(line => line !== '').map(line => JSON.parse(line))
}

async function imageInEngine (image: string): Promise<boolean> {
  return await docker(['image', 'inspect', image]).then(() => true, () => false)
}

before(async () => {
  requireTestNamespace()
  await ensureTestImage()
  // A real image at OUTSIDE_IMAGE, so a pull would succeed if one were attempted; then gone from the engine.
  await docker(['tag', IMAGE, OUTSIDE_IMAGE])
  await docker(['push', OUTSIDE_IMAGE], BOUND_MS)
  await docker(['rmi', OUTSIDE_IMAGE])
  dir = await tempDir()
  await Promise.all([
    startWithPolicy('guarded', { networks: ['none'], images: [ALLOWED_PREFIX] }),
    startWithPolicy('strict', { strict: { user: STRICT_USER, tmp: STRICT_TMP } }),
    startWithPolicy('plain', undefined)
  ])
})

after(async () => {
  await Promise.all(daemons.map(async daemon => await daemon.stop('SIGKILL')))
  await removeTaskContainers(nodeIds)
  await docker(['rmi', OUTSIDE_IMAGE]).catch(() => '')
  await dir?.remove()
})

describe('a policy that allows only network none and images under 127.0.0.1:5000/cloudai/', () => {
  test('--network bridge is REJECTED with POLICY, exit 125, naming the network rule; nothing runs', async () => {
    const human = await task('guarded', [IMAGE, '--network', 'bridge', '--', 'true'])
    const stderr = human.stderr.toString()
    assert.equal(human.code, 125, stderr)
    assert.equal(human.stdout.length, 0)
    assert.match(stderr, /does not allow network "bridge"/)
    assert.match(stderr, /allowed: none/)

    const json = await task('guarded', [IMAGE, '--network', 'bridge', '--json', '--', 'true'])
    assert.equal(json.code, 125, json.stderr.toString())
    const events = parseEvents(json.stdout)
    assert.deepEqual(events.map(event => event.state), ['REJECTED'], JSON.stringify(events))
    assert.equal(events[0].error?.code, 'POLICY')
    assert.match(events[0].error?.message, /network "bridge"/)
    assert.deepEqual(await taskContainers([nodeIds[0]]), [])

    // The same task on network none passes the policy and runs.
    const allowed = await task('guarded', ['--quiet', IMAGE, '--network', 'none', '--', 'echo', 'ran'])
    assert.equal(allowed.code, 0, allowed.stderr.toString())
    assert.equal(allowed.stdout.toString(), 'ran\n')
  })

  test('an image outside the allowed prefixes is REJECTED with POLICY before any pull: no PULLING event, the engine does not have it afterwards', async () => {
    assert.equal(await imageInEngine(OUTSIDE_IMAGE), false, `${OUTSIDE_IMAGE} must not be in the engine before the test`)
    const result = await task('guarded', [OUTSIDE_IMAGE, '--json', '--', 'true'])
    assert.equal(result.code, 125, result.stderr.toString())
    const events = parseEvents(result.stdout)
    assert.deepEqual(events.map(event => event.state), ['REJECTED'], `a refused task does nothing else: ${JSON.stringify(events)}`)
    assert.equal(events[0].error?.code, 'POLICY')
    assert.ok(events[0].error?.message.includes(ALLOWED_PREFIX), events[0].error?.message)
    assert.ok(events[0].error?.message.includes(OUTSIDE_IMAGE), events[0].error?.message)
    assert.equal(await imageInEngine(OUTSIDE_IMAGE), false, `${OUTSIDE_IMAGE} was pulled although the policy forbids it`)

    const human = await task('guarded', [OUTSIDE_IMAGE, '--', 'true'])
    assert.equal(human.code, 125)
    assert.match(human.stderr.toString(), /accepts only images starting with "127\.0\.0\.1:5000\/cloudai\/"/)

    // A prefix is a prefix of the reference, not of a word: ".../cloudai-sample-task" is outside ".../cloudai/".
    const lookalike = await task('guarded', [LOOKALIKE_IMAGE, '--json', '--', 'true'])
    assert.equal(lookalike.code, 125, lookalike.stderr.toString())
    assert.deepEqual(parseEvents(lookalike.stdout).map(event => [event.state, event.error?.code]), [['REJECTED', 'POLICY']])

    // Every refusal is in the audit log, with the rule it broke.
    const audit = (await readFile(join(dataDirs.guarded, 'audit.log'), 'utf8')).split('\n').filter(line => line !== '').map(line => JSON.parse(line))
    const refused = audit.filter(entry => entry.code === 'POLICY' && entry.action === 'submit')
    assert.ok(refused.some(entry => entry.reason.includes(OUTSIDE_IMAGE)), JSON.stringify(audit))
    assert.ok(refused.some(entry => entry.reason.includes('network "bridge"')), JSON.stringify(audit))
    assert.deepEqual(await taskContainers([nodeIds[0]]), [])
  })
})

describe(`the strict profile (user ${STRICT_USER}, /tmp ${STRICT_TMP})`, () => {
  test('the root filesystem is read-only: touch /x fails', async () => {
    const result = await inside('strict', 'touch /x')
    assert.notEqual(result.code, 0, 'writing to / succeeded')
    assert.match(result.stderr, /Read-only file system/)
    // Not a property of the image: without the strict profile the same command works.
    assert.equal((await inside('plain', 'touch /x')).code, 0)
  })

  test('the task runs as the configured user, not root', async () => {
    const result = await inside('strict', 'id -u; id -g')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, '65534\n65534\n')
    assert.equal((await inside('plain', 'id -u')).stdout, '0\n', 'the default profile runs as the image\'s user (root here)')
  })

  test('/tmp is writable but capped: 8 MiB fits, 32 MiB fails', async () => {
    const small = await inside('strict', 'dd if=/dev/zero of=/tmp/small bs=1M count=8 2>/dev/null && wc -c < /tmp/small')
    assert.equal(small.code, 0, small.stderr)
    assert.equal(small.stdout.trim(), String(8 * 1024 * 1024))
    const big = await inside('strict', 'dd if=/dev/zero of=/tmp/big bs=1M count=32')
    assert.notEqual(big.code, 0, 'a 32 MiB file fitted in a 16 MiB /tmp')
    assert.match(big.stderr, /No space left on device/)
  })

  test('every capability is dropped: CapEff and CapBnd are zero', async () => {
    const strict = await inside('strict', 'cat /proc/self/status | grep Cap')
    assert.equal(strict.code, 0, strict.stderr)
    assert.match(strict.stdout, /^CapEff:\s+0000000000000000$/m)
    assert.match(strict.stdout, /^CapBnd:\s+0000000000000000$/m)
    // The default profile keeps Docker's defaults (minus NET_RAW), so the bound set is not empty there.
    const plain = await inside('plain', 'cat /proc/self/status | grep CapBnd')
    assert.doesNotMatch(plain.stdout, /0000000000000000/)
  })
})

describe('the default profile: no task sees the host', () => {
  test('no Docker socket inside the container', async () => {
    const result = await inside('plain', 'ls -l /var/run/docker.sock /run/docker.sock')
    assert.notEqual(result.code, 0, `the Docker socket is visible inside:\n${result.stdout}`)
    assert.match(result.stderr, /No such file or directory/)
  })

  test('the host\'s filesystem is not there: not /work, not the node\'s data dir, not the host\'s /etc/hostname', async () => {
    for (const path of ['/work', dataDirs.plain, '/var/lib/docker', '/usr', '/home']) {
      const result = await inside('plain', `ls -d ${path}`)
      assert.notEqual(result.code, 0, `${path} is visible inside the container`)
    }
    // `/` holds the image's entries and the engine's mount points, none of the host's.
    const listing = await inside('plain', 'ls -a /')
    assert.equal(listing.code, 0, listing.stderr)
    const entries = listing.stdout.split('\n').filter(name => name !== '' && name !== '.' && name !== '..')
    assert.deepEqual(entries.filter(name => !IMAGE_ROOT.has(name)), [], `the container's / has entries the image does not: ${entries.join(' ')}`)
    const hostOnly = (await readdir('/')).filter(name => !IMAGE_ROOT.has(name))
    assert.ok(hostOnly.length > 0, 'the host\'s / looks like the image\'s: this check would prove nothing')
    const hostName = (await readFile('/etc/hostname', 'utf8').catch(() => hostname())).trim()
    const seen = await inside('plain', 'cat /etc/hostname; hostname')
    assert.equal(seen.code, 0, seen.stderr)
    const [file, name] = seen.stdout.trim().split('\n')
    assert.notEqual(file, hostName, 'the container reads the host\'s /etc/hostname')
    assert.notEqual(name, hostname(), 'the container shares the host\'s UTS namespace')
    // Its own PID namespace: the command is PID 1 and only a handful of processes exist.
    const pids = await inside('plain', 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\\0" " "')
    const [count, pid1] = pids.stdout.trim().split('\n')
    assert.ok(Number(count) < 10, `the container sees ${count} processes`)
    assert.match(pid1, /^sh -c /)
  })

  test('no bind mount of a host path: the only disk-backed mounts are the engine\'s own resolv.conf, hostname and hosts', async () => {
    const dockerRoot = (await docker(['info', '--format', '{{.DockerRootDir}}'])).trim()
    const result = await inside('plain', 'cat /proc/self/mountinfo')
    assert.equal(result.code, 0, result.stderr)
    const virtual = new Set(['overlay', 'proc', 'tmpfs', 'devpts', 'sysfs', 'cgroup', 'cgroup2', 'mqueue'])
    const mounts = result.stdout.split('\n').filter(line => line !== '').map(line => {
      const [fields, after] = line.split(' - ')
      const [, , , root, mountPoint] = fields.split(' ')
      return { root, mountPoint, fsType: after.split(' ')[0], line }
    })
    assert.ok(mounts.some(mount => mount.mountPoint === '/' && mount.fsType === 'overlay'), result.stdout)
    const fromHost = mounts.filter(mount => !virtual.has(mount.fsType))
    const engineFiles = new Set(['/etc/resolv.conf', '/etc/hostname', '/etc/hosts'])
    const foreign = fromHost.filter(mount => !(engineFiles.has(mount.mountPoint) && mount.root.startsWith(`${dockerRoot}/containers/`)))
    assert.deepEqual(foreign.map(mount => mount.line), [], 'host paths mounted into the container')
    assert.ok(fromHost.length <= 3, result.stdout)
  })
})

// Each case on a data dir of its own, side by side: every one is a CLI that starts and stops.
describe('a bad policy.json stops cloudai start with the file and the field', { concurrency: true }, () => {
  const cases: Array<{ what: string, text: string, names: RegExp }> = [
    { what: 'an unknown network', text: JSON.stringify({ networks: ['host'] }), names: /networks\.0/ },
    { what: 'an unknown field (privileged)', text: JSON.stringify({ privileged: true }), names: /privileged/ },
    { what: 'a user that is not a name or uid', text: JSON.stringify({ strict: { user: 'root; rm -rf /' } }), names: /strict\.user/ },
    { what: 'a size that is not one', text: JSON.stringify({ maxTask: { memory: 'lots' } }), names: /maxTask\.memory/ },
    { what: 'a tmp size that is not one', text: JSON.stringify({ strict: { tmp: 'big' } }), names: /strict\.tmp/ },
    { what: 'a number where a list is due', text: JSON.stringify({ images: 5 }), names: /images/ },
    { what: 'text that is not JSON', text: '{ "networks": [none] }', names: /not valid JSON/ }
  ]
  for (const [i, { what, text, names }] of cases.entries()) {
    test(what, async () => {
      const dataDir = join(dir.path, `bad-${i}`)
      await rm(dataDir, { recursive: true, force: true })
      const init = await runCli(['--data-dir', dataDir, 'init', '--json'])
      assert.equal(init.code, 0, init.stderr)
      const path = join(dataDir, 'policy.json')
      await writeFile(path, text, { mode: 0o600 })
      const started = Date.now()
      const result = await runCli(['--data-dir', dataDir, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], { timeoutMs: 30_000 })
      const output = result.stdout + result.stderr
      assert.ok(Date.now() - started < 30_000, 'start did not stop on a bad policy')
      assert.notEqual(result.code, 0, `start ran with a bad policy:\n${output}`)
      assert.notEqual(result.code, null, `start was killed at the bound instead of stopping:\n${output}`)
      assert.ok(output.includes(path), `the message names the file ${path}:\n${output}`)
      assert.match(output, names, `the message names the file but not the field (${names.source}):\n${output}`)
      assert.equal(await readFile(join(dataDir, 'api')).then(() => true, () => false), false, 'a node that refused to start left an api file')
    })
  }
})

test('no task container is left behind', async () => {
  assert.ok(await waitFor(async () => (await taskContainers(nodeIds)).length === 0, 10_000, 200), (await taskContainers(nodeIds)).join(', '))
})
