import { Agent, request as httpsRequest } from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { KubeObject } from './manifests.js'

/** The field manager of every apply Shipline makes. */
export const FIELD_MANAGER = 'shipline'

export interface WatchHandle {
  stop(): void
}

/** The narrow Kubernetes API the deploy logic needs (a fake implements it in unit tests). */
export interface KubeApi {
  /** Server-side apply (PATCH application/apply-patch+yaml, fieldManager=shipline). */
  apply(object: KubeObject, options: { dryRun: boolean; force: boolean }): Promise<KubeObject>
  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string
  ): Promise<KubeObject | undefined>
  list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    options?: { labelSelector?: string; fieldSelector?: string }
  ): Promise<KubeObject[]>
  /** Calls onEvent on every watch event; `onEnd` when the server closes the watch or it fails. */
  watch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string },
    onEvent: (type: string, object: KubeObject) => void,
    onEnd: (error: unknown) => void
  ): Promise<WatchHandle>
  /** True for namespaced kinds (from discovery); undefined when discovery does not know the kind. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>
}

export interface KubeConnection {
  /** https://… API server endpoint (EKS DescribeCluster `endpoint`). */
  server: string
  /** Base64 PEM CA bundle (EKS `certificateAuthority.data`). */
  caData: string
  /** Returns a valid bearer token, renewing it when due (or now, with `renew`). */
  token(renew?: boolean): Promise<string>
}

/** A non-2xx answer of the API server; `body` is its Status object (or text). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
    what: string
  ) {
    const message =
      body &&
      typeof body === 'object' &&
      typeof (body as { message?: unknown }).message === 'string'
        ? (body as { message: string }).message
        : typeof body === 'string' && body
          ? body
          : `HTTP ${code}`
    super(`${what}: ${message}`)
    this.name = 'KubeApiError'
  }
}

interface ApiResource {
  name: string
  kind: string
  namespaced: boolean
}

/**
 * A small Kubernetes REST client on node:https (TLS verified against the cluster CA; bearer token renewed per
 * request): discovery, server-side apply, GET, LIST and WATCH. @kubernetes/client-node 2.x needs Node ≥ 22.19
 * (its undici 8 fails to load on Node 20, where Shipline is developed and tested), so the wire calls are ours.
 */
export class HttpsKubeApi implements KubeApi {
  private readonly agent: Agent
  private readonly base: URL
  private readonly discovery = new Map<string, Promise<ApiResource[]>>()

  constructor(private readonly connection: KubeConnection) {
    this.base = new URL(connection.server)
    this.agent = new Agent({
      ca: Buffer.from(connection.caData, 'base64').toString('utf8'),
      keepAlive: true,
      maxSockets: 16
    })
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy()
  }

  /** One request; a 401 is retried once with a freshly signed token (the old one may have just expired). */
  private async open(
    method: string,
    path: string,
    body?: { text: string; contentType: string }
  ): Promise<IncomingMessage> {
    const first = await this.send(method, path, body, await this.connection.token())
    if (first.statusCode !== 401) return first
    first.resume()
    return this.send(method, path, body, await this.connection.token(true))
  }

  private send(
    method: string,
    path: string,
    body: { text: string; contentType: string } | undefined,
    token: string
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          protocol: 'https:',
          hostname: this.base.hostname,
          port: this.base.port || 443,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            'user-agent': 'shipline/deploy-eks-manifest',
            ...(body
              ? { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.text) }
              : {})
          }
        },
        resolve
      )
      req.on('error', reject)
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)))
      if (body) req.write(body.text)
      req.end()
    })
  }

  private async call(
    method: string,
    path: string,
    what: string,
    body?: { text: string; contentType: string }
  ): Promise<unknown> {
    const res = await this.open(method, path, body)
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let parsed: unknown = text
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined
    } catch {
      // plain text
    }
    const status = res.statusCode ?? 0
    if (status < 200 || status >= 300) throw new KubeApiError(status, parsed, what)
    return parsed
  }

  private resources(apiVersion: string): Promise<ApiResource[]> {
    let cached = this.discovery.get(apiVersion)
    if (!cached) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
      cached = this.call('GET', path, `discovery of ${apiVersion}`).then(
        (list) => (list as { resources?: ApiResource[] })?.resources ?? []
      )
      cached.catch(() => this.discovery.delete(apiVersion))
      this.discovery.set(apiVersion, cached)
    }
    return cached
  }

  private async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    let list: ApiResource[]
    try {
      list = await this.resources(apiVersion)
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) {
        throw new KubeApiError(
          404,
          { message: `Unrecognized API version and kind: ${apiVersion} ${kind}` },
          `discovery of ${apiVersion}`
        )
      }
      throw error
    }
    const found = list.find((r) => r.kind === kind && !r.name.includes('/'))
    if (!found) {
      throw new KubeApiError(
        404,
        { message: `Unrecognized API version and kind: ${apiVersion} ${kind}` },
        `discovery of ${apiVersion}`
      )
    }
    return found
  }

  private async collectionPath(
    apiVersion: string,
    kind: string,
    namespace: string | undefined
  ): Promise<{ path: string; resource: ApiResource }> {
    const resource = await this.resource(apiVersion, kind)
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
    const ns =
      resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''
    return { path: `${prefix}${ns}/${resource.name}`, resource }
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    try {
      return (await this.resource(apiVersion, kind)).namespaced
    } catch {
      return undefined
    }
  }

  async apply(
    object: KubeObject,
    options: { dryRun: boolean; force: boolean }
  ): Promise<KubeObject> {
    const { path } = await this.collectionPath(
      object.apiVersion,
      object.kind,
      object.metadata.namespace
    )
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER })
    if (options.force) query.set('force', 'true')
    if (options.dryRun) query.set('dryRun', 'All')
    return (await this.call(
      'PATCH',
      `${path}/${encodeURIComponent(object.metadata.name)}?${query.toString()}`,
      `server-side apply of ${object.kind}/${object.metadata.name}`,
      { text: JSON.stringify(object), contentType: 'application/apply-patch+yaml' }
    )) as KubeObject
  }

  async get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string
  ): Promise<KubeObject | undefined> {
    const { path } = await this.collectionPath(apiVersion, kind, namespace)
    try {
      return (await this.call(
        'GET',
        `${path}/${encodeURIComponent(name)}`,
        `get ${kind}/${name}`
      )) as KubeObject
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) return undefined
      throw error
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string } = {}
  ): Promise<KubeObject[]> {
    const { path } = await this.collectionPath(apiVersion, kind, namespace)
    const query = new URLSearchParams()
    if (options.labelSelector) query.set('labelSelector', options.labelSelector)
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector)
    const q = query.toString()
    const out = (await this.call('GET', `${path}${q ? `?${q}` : ''}`, `list ${kind}`)) as {
      items?: KubeObject[]
    }
    return (out?.items ?? []).map((item) => ({ ...item, apiVersion, kind }))
  }

  async watch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string },
    onEvent: (type: string, object: KubeObject) => void,
    onEnd: (error: unknown) => void
  ): Promise<WatchHandle> {
    const { path } = await this.collectionPath(apiVersion, kind, namespace)
    const query = new URLSearchParams({ watch: '1' })
    if (options.labelSelector) query.set('labelSelector', options.labelSelector)
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector)
    const res = await this.open('GET', `${path}?${query.toString()}`)
    if ((res.statusCode ?? 0) >= 300) {
      res.resume()
      throw new KubeApiError(res.statusCode ?? 0, undefined, `watch ${kind}`)
    }
    let stopped = false
    let buffer = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim()
        buffer = buffer.slice(nl + 1)
        if (!line) continue
        try {
          const event = JSON.parse(line) as { type?: string; object?: KubeObject }
          if (event.type && event.object) onEvent(event.type, event.object)
        } catch {
          // a torn line: ignore
        }
      }
    })
    let ended = false
    const end = (error: unknown) => {
      if (ended) return
      ended = true
      if (!stopped) onEnd(error)
    }
    res.on('end', () => end(undefined))
    res.on('error', end)
    res.on('close', () => end(undefined))
    return {
      stop: () => {
        stopped = true
        res.destroy()
      }
    }
  }
}

export interface KubeErrorInfo {
  code: number | undefined
  message: string
  reason: string | undefined
}

/** Status code and the API server's Status message of an API error. */
export function kubeErrorInfo(error: unknown): KubeErrorInfo {
  const e = error as { code?: unknown; body?: unknown; message?: unknown }
  const code = typeof e.code === 'number' ? e.code : undefined
  let body: unknown = e.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown
    } catch {
      // plain text body
    }
  }
  const status = body && typeof body === 'object' ? (body as Record<string, unknown>) : {}
  const message =
    typeof status['message'] === 'string'
      ? status['message']
      : typeof body === 'string' && body.trim()
        ? body.trim()
        : typeof e.message === 'string'
          ? e.message
          : String(error)
  return {
    code,
    message,
    reason: typeof status['reason'] === 'string' ? status['reason'] : undefined
  }
}
