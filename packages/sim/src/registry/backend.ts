import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]
export const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2))

export function sha256Digest(body: Buffer | string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export interface ManifestResponse {
  digest: string
  mediaType: string
  body: Buffer
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // A crashed test process must not leave registries behind.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

/** The CNCF distribution registry (`/usr/bin/docker-registry`) on a free loopback port, filesystem storage in a temp dir. */
export class BackendRegistry {
  private child: ChildProcess | undefined
  private dir = ''
  private stderr = ''
  port = 0

  constructor(
    private readonly binary = process.env['SHIPLINE_SIM_REGISTRY_BIN'] ?? '/usr/bin/docker-registry'
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'shipline-registry-'))
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort()
      const config = [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(this.dir, 'data')}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        'http:',
        `  addr: 127.0.0.1:${this.port}`,
        `  secret: ${randomBytes(16).toString('hex')}`,
        ''
      ].join('\n')
      const configPath = join(this.dir, 'config.yml')
      writeFileSync(configPath, config)
      installExitHook()
      // Own process group: a Ctrl-C to the terminal's group reaches the CLI, whose stop() ends the
      // registry (tests can then see that stop() really does).
      const child = spawn(this.binary, ['serve', configPath], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true
      })
      this.child = child
      live.add(child)
      child.stderr?.on('data', (d: Buffer) => {
        this.stderr = (this.stderr + d.toString()).slice(-4000)
      })
      child.once('exit', () => live.delete(child))
      if (await this.waitReady(child)) return
      await this.stop(false)
    }
    throw new Error(`docker-registry did not start: ${this.stderr}`)
  }

  private async waitReady(child: ChildProcess): Promise<boolean> {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) return false
      try {
        const res = await fetch(`${this.url}/v2/`)
        if (res.status === 200) return true
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    return false
  }

  async stop(removeDir = true): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    if (child) live.delete(child)
    if (removeDir && this.dir) rmSync(this.dir, { recursive: true, force: true })
  }

  // ---- direct (unauthenticated, unlogged) access for the ECR model -----------------------------

  async getManifest(
    repo: string,
    ref: string,
    method: 'GET' | 'HEAD' = 'GET'
  ): Promise<ManifestResponse | undefined> {
    const res = await fetch(`${this.url}/v2/${repo}/manifests/${ref}`, {
      method,
      headers: { accept: MANIFEST_TYPES.join(', ') }
    })
    if (res.status === 404) {
      await res.arrayBuffer()
      return undefined
    }
    if (!res.ok)
      throw new Error(
        `registry ${method} manifest ${repo}:${ref} → ${res.status}: ${await res.text()}`
      )
    const body = method === 'GET' ? Buffer.from(await res.arrayBuffer()) : Buffer.alloc(0)
    return {
      digest: res.headers.get('docker-content-digest') ?? sha256Digest(body),
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '',
      body
    }
  }

  async putManifest(
    repo: string,
    ref: string,
    body: Buffer,
    mediaType: string
  ): Promise<{
    status: number
    digest?: string
    errors?: Array<{ code: string; message: string }>
  }> {
    const res = await fetch(`${this.url}/v2/${repo}/manifests/${ref}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body
    })
    if (res.status === 201) {
      await res.arrayBuffer()
      return { status: 201, digest: res.headers.get('docker-content-digest') ?? sha256Digest(body) }
    }
    const text = await res.text()
    let errors: Array<{ code: string; message: string }>
    try {
      errors = (JSON.parse(text) as { errors: Array<{ code: string; message: string }> }).errors
    } catch {
      errors = [{ code: 'UNKNOWN', message: text }]
    }
    return { status: res.status, errors }
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await fetch(`${this.url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE' })
    await res.arrayBuffer()
  }

  async getBlob(repo: string, digest: string): Promise<Buffer | undefined> {
    const res = await fetch(`${this.url}/v2/${repo}/blobs/${digest}`)
    if (!res.ok) {
      await res.arrayBuffer()
      return undefined
    }
    return Buffer.from(await res.arrayBuffer())
  }

  async tags(repo: string): Promise<string[]> {
    const res = await fetch(`${this.url}/v2/${repo}/tags/list?n=10000`)
    if (!res.ok) {
      await res.arrayBuffer()
      return []
    }
    return ((await res.json()) as { tags?: string[] | null }).tags ?? []
  }
}
