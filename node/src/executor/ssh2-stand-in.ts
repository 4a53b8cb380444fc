/** What docker-modem gets for `ssh2` (see dockerode-on-demand.ts): the real module is loaded by the first Client made. */
import { loadSsh2 } from './dockerode-on-demand.ts'

export class Client {
  constructor (...args: unknown[]) {
    const { Client: Real } = loadSsh2()
    // A constructor that returns an object makes `new Client()` that object: the real client.
    return new Real(...args) as Client
  }
}
