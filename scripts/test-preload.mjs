// Loaded by scripts/test.sh into every test process (`node --test --import`), before node:test.
//
// node:test enables an async hook (init + destroy) in every process it runs tests in, to know
// which test or suite a `test()` call, a hook or a stray error belongs to. By default such a
// hook also tracks every promise, each with a destroy callback; the sim layer's many libp2p
// nodes make millions of promises, and on a 2-core machine 600 placed tasks then take 42 s
// instead of 17 s. Tests and suites are found from the synchronous context of a call and from
// timers and sockets, so the harness's hook, and only that one, is created without tracking
// promises (`trackPromises: false`). What changes: an uncaught error from a promise chain may
// be reported against the file ("a resource generated asynchronous activity…") rather than the
// test, and still fails the run.
import asyncHooks from 'node:async_hooks'

const createHook = asyncHooks.createHook

asyncHooks.createHook = function (callbacks) {
  const caller = new Error().stack ?? ''
  if (caller.includes('internal/test_runner/harness')) return createHook.call(this, { ...callbacks, trackPromises: false })
  return createHook.call(this, callbacks)
}
