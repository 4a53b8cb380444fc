/** What dockerode gets for its BuildKit session module (see dockerode-on-demand.ts): the real one is loaded by the first call. */
import { loadBuildkitSession } from './dockerode-on-demand.ts'

function withSession (...args: unknown[]): unknown {
  return loadBuildkitSession()(...args)
}

// dockerode requires the module and calls what it returns: require() of an ES module returns
// its "module.exports" export when there is one.
export { withSession as 'module.exports' }
