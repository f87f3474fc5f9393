/** Docker CLI and loopback byte counting for the build/promote benchmarks. */
import { execFile } from 'node:child_process'
import type { Server, Socket } from 'node:net'

/** Runs the docker CLI asynchronously (the registry proxy runs in this process: a blocking call would starve it). */
export function docker(args: string[], dockerConfig: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, DOCKER_CONFIG: dockerConfig }
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`docker ${args[0]}: ${stderr || error.message}`)) : resolve(stdout)
    )
    child.stdin?.end(input ?? '')
  })
}

/**
 * Counts the TCP bytes (both directions) through servers of this process listening on the given ports: the
 * simulator's registry proxy and AWS endpoint run in-process, so every byte a push, pull or API call moves to or
 * from "ECR" passes these sockets. Found through the process's active handles (Node keeps listening servers there).
 */
export class ByteCounter {
  private closed = 0
  private readonly open = new Set<Socket>()

  constructor(ports: number[]) {
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
    let found = 0
    for (const h of handles) {
      const server = h as Server
      if (typeof server?.address !== 'function' || typeof server.on !== 'function') continue
      const address = server.address()
      if (!address || typeof address === 'string' || !ports.includes(address.port)) continue
      found++
      server.on('connection', (s: Socket) => {
        this.open.add(s)
        s.on('close', () => {
          this.closed += s.bytesRead + s.bytesWritten
          this.open.delete(s)
        })
      })
    }
    if (found !== ports.length)
      throw new Error(`ByteCounter: found ${found} of ${ports.length} listening servers`)
  }

  /** Bytes moved so far (closed connections plus what the open ones moved until now). */
  total(): number {
    let bytes = this.closed
    for (const s of this.open) bytes += s.bytesRead + s.bytesWritten
    return bytes
  }
}

export const portOf = (hostOrUrl: string): number => Number(/:(\d+)\/?$/.exec(hostOrUrl)?.[1])

export function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`
}
