// Preloaded (`node --import`) into a process whose module graph a test checks: records every
// module the process loads, and at exit writes them, with Node's own list of the built-in
// modules it loaded (`process.moduleLoadList`), as JSON to $LOADED_MODULES_FILE.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const loaded: string[] = []
registerHooks({
  load (url, context, next) {
    loaded.push(url)
    return next(url, context)
  }
})
process.on('exit', () => {
  const file = process.env.LOADED_MODULES_FILE
  if (file != null) writeFileSync(file, JSON.stringify({ urls: loaded, builtins: (process as unknown as { moduleLoadList: string[] }).moduleLoadList }))
})
