import { execFile, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { requireTestNamespace, tempDir, waitFor } from './env.ts'

const exec = promisify(execFile)
const PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`

/** A Docker engine of the test's own, beside the machine's: one engine cannot prove that an image travelled. */
export interface SecondEngine {
  /** `unix://…/docker.sock`: DOCKER_HOST for a daemon or docker command that uses this engine. */
  host: string
  /** Run the docker CLI against this engine (bounded); rejects on a non-zero exit. */
  docker(args: string[], timeoutMs?: number): Promise<string>
  /** Copy images from the machine's engine into this one (`docker save | docker load`). */
  loadFromMain(images: string[]): Promise<void>
  /** Whether this engine holds the image (by name or ID). */
  has(image: string): Promise<boolean>
  /** Stop it by its pid (SIGTERM, then SIGKILL after 15 s) and remove its directories. */
  stop(): Promise<void>
}

/**
 * Start a second dockerd with its own data root, exec root, pid file and socket, no bridge
 * and no iptables, inside the test's network namespace: it reaches no registry on the
 * host's loopback, so whatever it holds came through the test (or through cloudai).
 */
export async function startSecondEngine ({ requireNamespace = true }: { requireNamespace?: boolean } = {}): Promise<SecondEngine> {
  // The benchmarks run in a namespace of scripts/bench.sh's, which the test marker does not name.
  if (requireNamespace) requireTestNamespace()
  // dockerd with --bridge=none deletes the docker0 interface of the network namespace it
  // starts in: here, the machine's engine would lose its default bridge network. (/proc/self/net
  // shows this process's namespace; /sys/class/net shows the one /sys was mounted in.)
  if (/^\s*docker0:/m.test(readFileSync('/proc/self/net/dev', 'utf8'))) throw new Error('a second engine must start in a network namespace without docker0 (the machine\'s engine\'s bridge), or it deletes that bridge: run it under npm test or npm run bench')
  // Short: a unix socket path must fit in 108 bytes.
  const dir = await tempDir('cai-eng-')
  const socket = join(dir.path, 'docker.sock')
  const host = `unix://${socket}`
  const log = openSync(join(dir.path, 'dockerd.log'), 'a')
  const child = spawn('dockerd', [
    '--data-root', join(dir.path, 'root'), '--exec-root', join(dir.path, 'exec'), '--pidfile', join(dir.path, 'pid'),
    '-H', host, '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false'
  ], { stdio: ['ignore', log, log], env: { ...process.env, PATH } })
  closeSync(log)
  const docker = async (args: string[], timeoutMs = 60_000): Promise<string> => {
    const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PATH, DOCKER_HOST: host } })
    return stdout
  }
  const pid = child.pid
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const stop = async (): Promise<void> => {
    if (pid !== undefined && child.exitCode == null && child.signalCode == null) {
      process.kill(pid, 'SIGTERM')
      const timer = setTimeout(() => { if (child.exitCode == null) process.kill(pid, 'SIGKILL') }, 15_000)
      await exited
      clearTimeout(timer)
    }
    await dir.remove()
  }
  const up = await waitFor(async () => child.exitCode == null && await docker(['version', '--format', '{{.Server.Version}}'], 2_000).then(() => true, () => false), 20_000, 100)
  if (!up) {
    const output = await readFile(join(dir.path, 'dockerd.log'), 'utf8').catch(() => '')
    await stop()
    throw new Error(`the second dockerd did not start:\n${output.slice(-2000)}`)
  }
  return {
    host,
    docker,
    has: async image => await docker(['image', 'inspect', image]).then(() => true, () => false),
    loadFromMain: async images => {
      await exec('bash', ['-c', 'set -o pipefail; docker save "$@" | DOCKER_HOST="$TARGET" docker load -q', 'save-load', ...images], {
        timeout: 60_000, env: { ...process.env, PATH, TARGET: host }
      })
    },
    stop
  }
}
