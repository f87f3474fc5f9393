/**
 * A second, non-ECR registry for tests: the CNCF distribution registry (Debian's docker-registry) on loopback with
 * htpasswd (basic) authentication, as a job's `docker login` to another registry would face. One user, fixed test
 * credentials (not a secret: this registry lives for one test file on 127.0.0.1).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../packages/sim/src/registry/backend.js'

export const AUTH_REGISTRY_USER = 'shipline'
export const AUTH_REGISTRY_PASSWORD = 'shipline-test-password'
/** bcrypt (cost 4) of AUTH_REGISTRY_PASSWORD: the registry's htpasswd accepts bcrypt only. */
const HTPASSWD = `${AUTH_REGISTRY_USER}:$2b$04$Kt7c3l8mJJqhm7Tg3BL2QuTzyL62bEhGzWkWPDCyIOyOinx5iaGSG\n`

export interface AuthRegistry {
  /** host:port */
  host: string
  stop(): Promise<void>
}

export async function startAuthRegistry(): Promise<AuthRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'shipline-auth-registry-'))
  writeFileSync(join(dir, 'htpasswd'), HTPASSWD)
  let stderr = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      'auth:',
      '  htpasswd:',
      '    realm: shipline-test',
      `    path: ${join(dir, 'htpasswd')}`,
      ''
    ].join('\n')
    writeFileSync(join(dir, 'config.yml'), config)
    const child: ChildProcess = spawn(
      '/usr/bin/docker-registry',
      ['serve', join(dir, 'config.yml')],
      {
        stdio: ['ignore', 'ignore', 'pipe']
      }
    )
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    const kill = () => child.kill('SIGKILL')
    process.once('exit', kill)
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && child.exitCode === null) {
      const status = await fetch(`http://127.0.0.1:${port}/v2/`).then(
        (r) => r.status,
        () => 0
      )
      if (status === 401) {
        return {
          host: `127.0.0.1:${port}`,
          stop: async () => {
            process.removeListener('exit', kill)
            if (child.exitCode === null) {
              const exited = new Promise((resolve) => child.once('exit', resolve))
              child.kill('SIGTERM')
              await exited
            }
            rmSync(dir, { recursive: true, force: true })
          }
        }
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    kill()
  }
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`docker-registry with htpasswd auth did not start: ${stderr}`)
}
