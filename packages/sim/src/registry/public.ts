/**
 * "Another registry": a second docker-registry behind the anonymous bearer-token flow public registries use
 * (public.ecr.aws, ghcr.io, Docker Hub). Modelled on the distribution token-authentication spec:
 *   - any /v2/ request without a valid token → 401 with `WWW-Authenticate: Bearer realm="<url>/token",
 *     service="<service>",scope="repository:<name>:pull"` (no scope on the /v2/ ping);
 *   - GET /token?service=…&scope=repository:<name>:pull → `{"token","access_token","expires_in","issued_at"}`
 *     for public repositories; 401 for private ones and for any push scope (anonymous users never push);
 *   - reads (GET/HEAD manifests, blobs, tags) with `Authorization: Bearer <token>` covering the repository are
 *     served by the backend; writes are refused.
 * Tests seed images straight into `backend.url` (unauthenticated, unlogged).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BackendRegistry } from './backend.js'

export interface PublicRegistryRequest {
  method: string
  path: string
  /** True when the request carried a valid token for its repository. */
  authorized: boolean
}

export interface PublicRegistryOptions {
  /** Repositories that need credentials: the token endpoint refuses anonymous pull tokens for them. */
  privateRepositories?: string[]
  /** The `service` of the challenge (default "shipline-sim-public"). */
  service?: string
}

export class PublicRegistry {
  readonly backend = new BackendRegistry()
  readonly requests: PublicRegistryRequest[] = []
  private server: Server | undefined
  private readonly tokens = new Map<string, Set<string>>()
  private readonly privateRepositories: Set<string>
  private readonly service: string
  port = 0

  constructor(options: PublicRegistryOptions = {}) {
    this.privateRepositories = new Set(options.privateRepositories ?? [])
    this.service = options.service ?? 'shipline-sim-public'
  }

  /** `127.0.0.1:<port>`, the registry host images name. */
  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    await this.backend.start()
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(error))
      })
    })
    this.server = server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    this.port = (server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
    await this.backend.stop()
  }

  private challenge(res: ServerResponse, repository: string | undefined, action = 'pull'): void {
    const scope = repository ? `,scope="repository:${repository}:${action}"` : ''
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer realm="http://${this.host}/token",service="${this.service}"${scope}`
    })
    res.end(
      JSON.stringify({
        errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }]
      })
    )
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${this.host}`)
    const method = req.method ?? 'GET'
    for await (const chunk of req) void chunk // drain any body

    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope') ?? ''
      const m = /^repository:([^:]+):([a-z,*]+)$/.exec(scope)
      const repository = m?.[1]
      const actions = (m?.[2] ?? '').split(',')
      this.requests.push({ method, path: url.pathname + url.search, authorized: false })
      if (
        url.searchParams.get('service') !== this.service ||
        !repository ||
        actions.some((a) => a !== 'pull') ||
        this.privateRepositories.has(repository)
      ) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }]
          })
        )
        return
      }
      const token = randomBytes(24).toString('base64url')
      this.tokens.set(token, new Set([repository]))
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          token,
          access_token: token,
          expires_in: 300,
          issued_at: new Date().toISOString()
        })
      )
      return
    }

    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags\/list)(?:\/(.*))?$/.exec(url.pathname)
    const repository = m?.[1]
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    const granted = bearer ? this.tokens.get(bearer) : undefined
    const authorized = !!granted && (repository === undefined || granted.has(repository))
    this.requests.push({ method, path: url.pathname, authorized })

    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (!granted) return this.challenge(res, undefined)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
      return
    }
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'not found' }] }))
      return
    }
    if (method !== 'GET' && method !== 'HEAD') return this.challenge(res, repository, 'push')
    if (!authorized) return this.challenge(res, repository)

    const upstream = await fetch(`${this.backend.url}${url.pathname}${url.search}`, {
      method,
      headers: req.headers.accept ? { accept: req.headers.accept } : {}
    })
    const headers: Record<string, string> = {}
    for (const name of ['content-type', 'content-length', 'docker-content-digest', 'etag']) {
      const value = upstream.headers.get(name)
      if (value !== null) headers[name] = value
    }
    res.writeHead(upstream.status, headers)
    res.end(method === 'HEAD' ? undefined : Buffer.from(await upstream.arrayBuffer()))
  }
}
