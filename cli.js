#!/usr/bin/env node
// The launcher: check the Node version before loading anything that needs Node 24
// (libp2p 3 fails on older Node with a misleading ECONNRESET), then run the CLI.
// This check is where the requirement is enforced: package.json has no "engines", since npm
// checks that against the Node that runs npm (often an older system Node), not the Node 24
// pinned as a devDependency that `npx cloudai` and the npm scripts run this file with.
const REQUIRED_MAJOR = 24
const major = Number(process.versions.node.split('.')[0])
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `cloudai needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${process.versions.node}.\n` +
    'Run it with the Node.js the project pins: "npx cloudai <command>" (or "npm start") in the project folder,\n' +
    `or install Node.js ${REQUIRED_MAJOR} and run "node cli.js <command>".\n`)
  process.exit(1)
}
// V8's compile cache: after a command's first run its modules are compiled from a cache on
// disk (in the OS temp folder, keyed by each file's content, so a rebuilt file compiles afresh),
// about a third of the CLI's own module-loading time. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
process.getBuiltinModule('node:module').enableCompileCache?.()
try {
  const { run } = await import('./dist/cli/entry.js')
  process.exitCode = await run(process.argv.slice(2))
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/entry.js')) {
    process.stderr.write('cloudai is not built yet: run "npm install && npm run build" in the project folder.\n')
    process.exit(1)
  }
  throw err
}
