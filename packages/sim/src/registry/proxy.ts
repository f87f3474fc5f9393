import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { isActionAllowed } from '../core/iam.js'
import { isConnectionReset, readBody, type SimServer } from '../core/server.js'
import type { Caller } from '../core/types.js'
import { sha256Digest, type BackendRegistry } from './backend.js'

export interface RegistryRequest {
  kind: string
  /** The ECR IAM action the request needs (undefined: any authenticated caller). */
  action?: string
  repository?: string
  reference?: string
}

/** Classifies a Registry HTTP API V2 request the way ECR authorizes it. */
export function classify(method: string, path: string): RegistryRequest {
  if (path === '/v2/' || path === '/v2') return { kind: 'ping' }
  if (path.startsWith('/v2/_catalog'))
    return { kind: 'catalog', action: 'ecr:DescribeRepositories' }
  const m = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|tags\/list)(?:\/(.*))?$/.exec(path)
  if (!m) return { kind: 'unknown' }
  const repository = m[1] as string
  const reference = m[3] || undefined
  switch (m[2]) {
    case 'manifests':
      if (method === 'PUT')
        return { kind: 'manifest-put', action: 'ecr:PutImage', repository, reference }
      if (method === 'DELETE')
        return { kind: 'manifest-delete', action: 'ecr:BatchDeleteImage', repository, reference }
      return {
        kind: method === 'HEAD' ? 'manifest-head' : 'manifest-get',
        action: 'ecr:BatchGetImage',
        repository,
        reference
      }
    case 'blobs/uploads':
      if (method === 'POST')
        return { kind: 'blob-upload', action: 'ecr:InitiateLayerUpload', repository }
      if (method === 'PUT')
        return {
          kind: 'blob-upload-complete',
          action: 'ecr:CompleteLayerUpload',
          repository,
          reference
        }
      return { kind: 'blob-upload-part', action: 'ecr:UploadLayerPart', repository, reference }
    case 'blobs':
      if (method === 'HEAD')
        return {
          kind: 'blob-head',
          action: 'ecr:BatchCheckLayerAvailability',
          repository,
          reference
        }
      return { kind: 'blob-get', action: 'ecr:GetDownloadUrlForLayer', repository, reference }
    default:
      return { kind: 'tags-list', action: 'ecr:ListImages', repository }
  }
}

/** Reads `bytes` of a request body (all of it when undefined), or less when it ends first. */
async function readSome(req: IncomingMessage, bytes: number | undefined): Promise<void> {
  if (bytes === undefined) {
    await readBody(req)
    return
  }
  let seen = 0
  for await (const chunk of req) {
    seen += (chunk as Buffer).length
    if (seen >= bytes) return
  }
}

export interface ProxyHooks {
  /** The caller an ECR password belongs to; 'expired' when its 12 h are over. */
  authenticate(password: string): Caller | 'expired' | undefined
  repositoryExists(name: string): boolean
  repositoryArn(name: string): string
  /** An error message when writing `tag` → `digest` would overwrite an immutable tag. */
  checkTagWrite(repository: string, tag: string, digest: string): Promise<string | undefined>
  onManifestStored(
    repository: string,
    reference: string,
    digest: string,
    mediaType: string
  ): Promise<void> | void
}

function sendRegistryError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify({ errors: [{ code, message, detail: null }] })
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'docker-distribution-api-version': 'registry/2.0',
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/**
 * The "ECR registry host": authenticates `AWS:<token>` basic auth against the tokens ECR handed out,
 * authorizes each request with the caller's allow-list, refuses unknown repositories and immutable
 * overwrites, logs, and forwards to the backing registry.
 */
export class RegistryProxy {
  private server: Server | undefined
  port = 0

  constructor(
    private readonly backend: BackendRegistry,
    private readonly sim: SimServer,
    private readonly hooks: ProxyHooks,
    private readonly accountId: string
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent)
          sendRegistryError(res, 500, 'UNKNOWN', err instanceof Error ? err.message : String(err))
        else res.destroy()
      })
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now()
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const info = classify(method, url.pathname)
    const who: { caller?: Caller; reset?: boolean } = {}
    res.on('close', () => {
      this.sim.record({
        service: 'registry',
        operation: info.action?.replace(/^ecr:/, '') ?? info.kind,
        kind: `registry:${info.kind}`,
        callerArn: who.caller?.arn,
        accessKeyId: who.caller?.accessKeyId,
        params: { repository: info.repository, reference: info.reference },
        status: who.reset ? 0 : res.statusCode,
        ...(who.reset ? { errorCode: 'ConnectionReset' } : {}),
        durationMs: Date.now() - started,
        method,
        path: url.pathname
      })
    })

    const challenge = {
      'www-authenticate': `Basic realm="https://${this.host}/",service="ecr.amazonaws.com"`
    }
    const auth = req.headers.authorization
    if (!auth?.startsWith('Basic ')) {
      await readBody(req)
      return sendRegistryError(res, 401, 'UNAUTHORIZED', 'authentication required', challenge)
    }
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
    const sep = decoded.indexOf(':')
    const user = decoded.slice(0, sep)
    const found =
      sep > 0 && user === 'AWS' ? this.hooks.authenticate(decoded.slice(sep + 1)) : undefined
    if (found === 'expired') {
      await readBody(req)
      return sendRegistryError(
        res,
        403,
        'DENIED',
        'Your authorization token has expired. Reauthenticate and try again.'
      )
    }
    if (!found) {
      await readBody(req)
      return sendRegistryError(
        res,
        401,
        'UNAUTHORIZED',
        'Your authorization token is invalid.',
        challenge
      )
    }
    const caller = found
    who.caller = found
    if (info.action && !isActionAllowed(caller.allowedActions, info.action)) {
      await readBody(req)
      const resource = info.repository ? this.hooks.repositoryArn(info.repository) : '*'
      return sendRegistryError(
        res,
        403,
        'DENIED',
        `User: ${caller.arn} is not authorized to perform: ${info.action} on resource: ${resource} because no identity-based policy allows the ${info.action} action`
      )
    }
    if (info.repository && !this.hooks.repositoryExists(info.repository)) {
      await readBody(req)
      return sendRegistryError(
        res,
        404,
        'NAME_UNKNOWN',
        `The repository with name '${info.repository}' does not exist in the registry with id '${this.accountId}'`
      )
    }
    const fault = await this.sim.applyFaults('registry', `registry:${info.kind}`, 'registry', {
      repository: info.repository
    })
    if (isConnectionReset(fault)) {
      const socket = req.socket
      await readSome(req, fault.afterBytes)
      who.reset = true
      socket.destroy()
      return
    }
    if (fault) {
      await readBody(req)
      return sendRegistryError(res, fault.status, fault.code, fault.message)
    }

    if (info.kind === 'manifest-put' && info.repository && info.reference) {
      const body = await readBody(req, 4 * 1024 * 1024)
      const digest = sha256Digest(body)
      if (!info.reference.startsWith('sha256:')) {
        const conflict = await this.hooks.checkTagWrite(info.repository, info.reference, digest)
        if (conflict) return sendRegistryError(res, 400, 'TAG_INVALID', conflict)
      }
      const mediaType = String(req.headers['content-type'] ?? '').split(';')[0] ?? ''
      const upstream = await this.forward(req, res, url, body)
      if (upstream === 201)
        await this.hooks.onManifestStored(info.repository, info.reference, digest, mediaType)
      return
    }
    await this.forward(req, res, url)
  }

  /** Forwards to the backend (streaming unless `body` is given); resolves with the upstream status. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body?: Buffer
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers }
      delete headers.authorization
      if (body) {
        delete headers['transfer-encoding']
        headers['content-length'] = String(body.length)
      }
      const upstream = request(
        {
          host: '127.0.0.1',
          port: this.backend.port,
          method: req.method,
          path: url.pathname + url.search,
          headers
        },
        (up) => {
          const status = up.statusCode ?? 502
          res.writeHead(status, up.headers)
          up.pipe(res)
          up.on('end', () => resolve(status))
          up.on('error', reject)
        }
      )
      upstream.on('error', (err) => {
        if (!res.headersSent)
          sendRegistryError(res, 502, 'UNAVAILABLE', `backing registry: ${err.message}`)
        resolve(502)
      })
      if (body) upstream.end(body)
      else req.pipe(upstream)
    })
  }
}
