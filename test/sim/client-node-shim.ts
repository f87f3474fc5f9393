/**
 * @kubernetes/client-node 2.x depends on undici 8 (engines: node >= 22.19), which binds
 * `zlib.createZstdDecompress` and `worker_threads.markAsUncloneable` at load time and uses `Promise.withResolvers`. On the Node 20 of this
 * machine, stubs (zstd throws if a server ever sends it, which the simulator never does;
 * markAsUncloneable is a no-op) let the client load. Import this module before @kubernetes/client-node.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const zlib = require('node:zlib') as Record<string, unknown>
if (typeof zlib.createZstdDecompress !== 'function') {
  zlib.createZstdDecompress = () => {
    throw new Error('zstd decompression needs Node >= 22.15')
  }
}
if (typeof zlib.createZstdCompress !== 'function') {
  zlib.createZstdCompress = () => {
    throw new Error('zstd compression needs Node >= 22.15')
  }
}
const workerThreads = require('node:worker_threads') as Record<string, unknown>
if (typeof workerThreads.markAsUncloneable !== 'function') {
  workerThreads.markAsUncloneable = () => undefined
}
const P = Promise as unknown as { withResolvers?: unknown }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
