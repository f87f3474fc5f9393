/**
 * One simulated Kubernetes API server (one per seeded EKS cluster): HTTPS with the stack's generated CA,
 * EKS token authentication, discovery, CRUD/list/watch, server-side apply, and the controllers
 * (./controllers.ts) progressing workloads on the simulated clock.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { parse as parseYaml } from 'yaml'
import { isConnectionReset, type SimServer } from '../core/server.js'
import type { Clock, RegistryView } from '../core/types.js'
import {
  authorize,
  AuthError,
  mapUser,
  verifyEksToken,
  type ClusterAuthView,
  type KubeUser
} from './auth.js'
import { Controllers } from './controllers.js'
import { alreadyExists, badRequest, KubeError, notFound, qualified } from './errors.js'
import {
  applyConfig,
  clone,
  conflictMessage,
  isObj,
  mergePatch,
  mergeStrategic,
  updateOwnership,
  type Obj,
  str
} from './fields.js'
import { apiVersionOf, BUILTIN, groupList, resourceList, type ResourceType } from './resources.js'
import {
  labelsOf,
  meta,
  nameOf,
  nsOf,
  parseFieldSelector,
  parseLabelSelector,
  Store,
  type WatchEvent,
  type Watcher
} from './store.js'
import type { TlsMaterial } from './tls.js'
import { applyDefaults, validate } from './validate.js'

export interface ImageRule {
  /** exact reference, or a prefix ending in `*` */
  image: string
  exists?: boolean
  behaviour?: 'healthy' | 'crash' | 'not-ready' | 'slow-start'
  exitCode?: number
  /** simulated seconds a container runs before it exits (crash) or completes (Job pods) */
  runSeconds?: number
}

export interface KubeClusterDeps {
  name: string
  clock: Clock
  sim: SimServer
  registry: RegistryView
  tls?: TlsMaterial
  auth: () => ClusterAuthView | undefined
  images: () => ImageRule[]
  version: string
}

interface Target {
  t: ResourceType
  namespace?: string
  name?: string
  subresource?: string
}

const MUTATING = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection'])

export class KubeCluster {
  readonly store: Store
  types: ResourceType[] = [...BUILTIN]
  readonly controllers: Controllers
  private server: Server | undefined
  private sockets = new Set<Socket>()
  private ticker: NodeJS.Timeout | undefined
  port = 0

  constructor(readonly deps: KubeClusterDeps) {
    this.store = new Store(() => this.nowIso())
    this.controllers = new Controllers(this)
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const o: Obj = { metadata: { name: ns } }
      applyDefaults(this.type('', 'namespaces'), o)
      this.store.put(this.type('', 'namespaces'), o)
    }
    this.store.put(this.type('', 'nodes'), {
      metadata: {
        name: 'sim-node-1',
        labels: {
          'kubernetes.io/hostname': 'sim-node-1',
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64'
        }
      },
      spec: {},
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status'
          }
        ],
        nodeInfo: {
          kubeletVersion: `v${deps.version}.0-eks-sim`,
          containerRuntimeVersion: 'containerd://sim'
        }
      }
    })
  }

  get endpoint(): string {
    return `${this.deps.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`
  }

  nowIso(): string {
    return new Date(Math.floor(this.deps.clock.now() / 1000) * 1000).toISOString()
  }

  type(group: string, resource: string): ResourceType {
    const t = this.types.find((x) => x.group === group && x.resource === resource)
    if (!t) throw new Error(`no type ${group}/${resource}`)
    return t
  }

  typeOfKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind)
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, new KubeError(500, 'InternalError', String(err)))
        else res.destroy()
      })
    }
    const tls = this.deps.tls
    const server = tls
      ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handler)
      : createHttpServer(handler)
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    server.keepAliveTimeout = 5000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.ticker = setInterval(() => this.reconcile(), 50)
    this.ticker.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker)
    this.dropWatches('reset')
    const server = this.server
    if (!server) return
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  reconcile(): void {
    try {
      this.controllers.reconcile()
    } catch (err) {
      process.stderr.write(`kube-sim[${this.deps.name}] controller error: ${String(err)}\n`)
    }
  }

  dropWatches(mode: 'close' | 'reset' = 'close'): number {
    const ws = [...this.store.watchers]
    for (const w of ws) w.close(mode)
    return ws.length
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'audit-id': randomBytes(8).toString('hex')
    })
    res.end(text)
  }

  private sendError(res: ServerResponse, err: KubeError): void {
    if (err.code === 429) res.setHeader('retry-after', '1')
    this.send(res, err.code, err.toStatus())
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = (req.method ?? 'GET').toUpperCase()
    let verb = method.toLowerCase()
    let target: Target | undefined
    let user: KubeUser | undefined
    let status = 200
    let errorCode: string | undefined
    const q = url.searchParams
    const contentType =
      String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim() ?? ''
    try {
      this.reconcile()
      user = this.authenticate(req)
      if (
        ['/version', '/healthz', '/livez', '/readyz'].includes(url.pathname) ||
        url.pathname.startsWith('/openapi')
      ) {
        return this.discoveryOther(res, url.pathname)
      }
      const disc = this.discovery(url.pathname)
      if (disc !== undefined) return this.send(res, 200, disc)
      target = this.parseTarget(url.pathname)
      if (!target)
        throw new KubeError(404, 'NotFound', 'the server could not find the requested resource')
      verb = this.verbOf(method, target, q, contentType)
      if (
        !authorize(
          user,
          verb === 'apply' ? 'patch' : verb,
          target.t.resource,
          target.t.namespaced ? target.namespace : undefined
        )
      ) {
        const g = target.t.group
        throw new KubeError(
          403,
          'Forbidden',
          `${target.name ? `${qualified(target.t)} "${target.name}"` : qualified(target.t)} is forbidden: User "${user.username}" cannot ${verb === 'apply' ? 'patch' : verb} resource "${target.t.resource}${target.subresource ? `/${target.subresource}` : ''}" in API group "${g}"${target.t.namespaced && target.namespace ? ` in the namespace "${target.namespace}"` : target.t.namespaced ? '' : ' at the cluster scope'}`,
          {
            ...(target.name ? { name: target.name } : {}),
            ...(g ? { group: g } : {}),
            kind: target.t.resource
          }
        )
      }
      // fault injection through the common /_sim/faults rules (service "kube", operation = verb)
      const fault = await this.deps.sim.applyFaults('kube', verb, 'registry')
      if (isConnectionReset(fault)) {
        req.socket.destroy()
        return
      }
      if (fault) {
        const throttled = fault.status === 429 || fault.code === 'TOOMANYREQUESTS'
        throw new KubeError(
          fault.status,
          throttled
            ? 'TooManyRequests'
            : fault.status === 503
              ? 'ServiceUnavailable'
              : fault.status >= 500
                ? 'InternalError'
                : fault.code,
          throttled ? 'Too many requests, please try again later.' : fault.message,
          throttled ? { retryAfterSeconds: 1 } : undefined
        )
      }
      if (verb === 'watch') {
        this.record(req, verb, target, user, 200, undefined, started, q, contentType)
        return this.watch(req, res, target, q)
      }
      const body = ['create', 'update', 'patch', 'apply'].includes(verb)
        ? await this.readBody(req, contentType)
        : undefined
      const out = this.execute(verb, target, q, body, contentType, user, req)
      status = out.status
      this.send(res, out.status, out.body)
    } catch (err) {
      const ke =
        err instanceof KubeError
          ? err
          : err instanceof AuthError
            ? new KubeError(
                err.status,
                err.status === 401 ? 'Unauthorized' : 'Forbidden',
                err.message
              )
            : new KubeError(500, 'InternalError', err instanceof Error ? err.message : String(err))
      status = ke.code
      errorCode = ke.reason
      this.sendError(res, ke)
    } finally {
      if (verb !== 'watch' || status !== 200)
        this.record(
          req,
          verb,
          target,
          user,
          status,
          errorCode,
          started,
          q,
          contentType,
          url.pathname
        )
    }
  }

  private record(
    req: IncomingMessage,
    verb: string,
    target: Target | undefined,
    user: KubeUser | undefined,
    status: number,
    errorCode: string | undefined,
    started: number,
    q: URLSearchParams,
    contentType: string,
    path?: string
  ): void {
    this.deps.sim.record({
      service: 'kube',
      operation: verb,
      kind: `kube:${this.deps.name}`,
      callerArn: user?.arn,
      params: {
        cluster: this.deps.name,
        mutating: MUTATING.has(verb),
        group: target?.t.group,
        resource: target?.t.resource,
        namespace: target?.namespace,
        name: target?.name,
        subresource: target?.subresource,
        fieldManager: q.get('fieldManager') ?? undefined,
        force: q.get('force') ?? undefined,
        dryRun: q.get('dryRun') ?? undefined,
        contentType: contentType || undefined,
        username: user?.username
      },
      status,
      errorCode,
      durationMs: Date.now() - started,
      method: req.method,
      path: path ?? req.url
    })
  }

  private authenticate(req: IncomingMessage): KubeUser {
    const auth = String(req.headers.authorization ?? '')
    const m = /^Bearer\s+(\S+)$/i.exec(auth)
    if (!m) throw new AuthError(401, 'Unauthorized', 'no bearer token')
    const view = this.deps.auth()
    if (!view) throw new AuthError(401, 'Unauthorized', 'cluster no longer exists')
    const caller = verifyEksToken({
      token: m[1] as string,
      clusterName: this.deps.name,
      credentials: this.deps.sim.credentials,
      now: this.deps.clock.now(),
      signedNow: (this.deps.clock as { clientNow?: () => number }).clientNow?.(),
      localHosts: [`127.0.0.1:${this.deps.sim.port}`, `localhost:${this.deps.sim.port}`]
    })
    const awsAuth = this.store.get(this.type('', 'configmaps'), 'kube-system', 'aws-auth')
    return mapUser({ caller, cluster: view, awsAuth })
  }

  private discoveryOther(res: ServerResponse, path: string): void {
    if (path === '/version') {
      const [major, minor] = this.deps.version.split('.')
      return this.send(res, 200, {
        major,
        minor: `${minor}+`,
        gitVersion: `v${this.deps.version}.0-eks-sim`,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.24',
        compiler: 'gc',
        platform: 'linux/amd64'
      })
    }
    if (path.startsWith('/openapi'))
      return this.sendError(
        res,
        new KubeError(404, 'NotFound', 'the server could not find the requested resource')
      )
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
  }

  private discovery(path: string): unknown {
    const p = path.replace(/\/+$/, '')
    if (p === '/api')
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [
          { clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }
        ]
      }
    if (p === '/apis') return groupList(this.types)
    if (p === '/api/v1') return resourceList(this.types, '', 'v1')
    let m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p)
    if (m && this.types.some((t) => t.group === m![1] && t.version === m![2]))
      return resourceList(this.types, m[1] as string, m[2] as string)
    m = /^\/apis\/([^/]+)$/.exec(p)
    if (m) {
      const g = (groupList(this.types).groups as Obj[]).find((x) => x.name === m[1])
      if (g) return { kind: 'APIGroup', apiVersion: 'v1', ...g }
    }
    return undefined
  }

  private parseTarget(path: string): Target | undefined {
    let group = ''
    let version = ''
    let rest: string[]
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent)
    if (segs[0] === 'api') {
      version = segs[1] ?? ''
      rest = segs.slice(2)
    } else if (segs[0] === 'apis') {
      group = segs[1] ?? ''
      version = segs[2] ?? ''
      rest = segs.slice(3)
    } else return undefined
    const find = (resource: string | undefined): ResourceType | undefined =>
      this.types.find((t) => t.group === group && t.version === version && t.resource === resource)
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = find(rest[2])
      if (t && t.namespaced) {
        if (rest.length > 5) return undefined
        return { t, namespace: rest[1], name: rest[3], subresource: rest[4] }
      }
    }
    const t = find(rest[0])
    if (!t || rest.length > 3) return undefined
    return { t, name: rest[1], subresource: rest[2] }
  }

  private verbOf(method: string, target: Target, q: URLSearchParams, contentType: string): string {
    const watch = q.get('watch') === 'true' || q.get('watch') === '1'
    switch (method) {
      case 'GET':
        return target.name ? 'get' : watch ? 'watch' : 'list'
      case 'POST':
        if (target.name)
          throw new KubeError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource'
          )
        return 'create'
      case 'PUT':
        if (!target.name)
          throw new KubeError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource'
          )
        return 'update'
      case 'PATCH':
        if (!target.name)
          throw new KubeError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource'
          )
        return contentType === 'application/apply-patch+yaml' ||
          contentType === 'application/apply-patch+cbor'
          ? 'apply'
          : 'patch'
      case 'DELETE':
        return target.name ? 'delete' : 'deletecollection'
      default:
        throw new KubeError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource'
        )
    }
  }

  private async readBody(req: IncomingMessage, contentType: string): Promise<unknown> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    if (!text.trim())
      throw badRequest(
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml'
      )
    try {
      if (contentType.includes('yaml')) return parseYaml(text) as unknown
      return JSON.parse(text) as unknown
    } catch (err) {
      throw badRequest(
        `error decoding ${contentType.includes('yaml') ? 'YAML' : 'JSON'}: ${err instanceof Error ? err.message : String(err)}`
      )
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  private ensureNamespace(t: ResourceType, ns: string | undefined): void {
    if (!t.namespaced) return
    if (!ns)
      throw badRequest('the server could not find the requested resource: a namespace is required')
    if (!this.store.get(this.type('', 'namespaces'), undefined, ns))
      throw new KubeError(404, 'NotFound', `namespaces "${ns}" not found`, {
        name: ns,
        kind: 'namespaces'
      })
  }

  private managerFrom(q: URLSearchParams, req: IncomingMessage): string {
    const fm = q.get('fieldManager')
    if (fm) {
      if (fm.length > 128)
        throw badRequest('fieldManager: Too long: may not be more than 128 bytes')
      return fm
    }
    const ua = String(req.headers['user-agent'] ?? 'unknown')
    return ua.split('/')[0] || 'unknown'
  }

  private dryRun(q: URLSearchParams): boolean {
    const d = q.getAll('dryRun')
    if (d.some((x) => x !== 'All')) throw badRequest(`Invalid dryRun value: ${d.join(',')}`)
    return d.length > 0
  }

  execute(
    verb: string,
    target: Target,
    q: URLSearchParams,
    body: unknown,
    contentType: string,
    user: KubeUser,
    req: IncomingMessage
  ): { status: number; body: unknown } {
    const { t, namespace, name, subresource } = target
    if (subresource && !(t.subresources ?? []).includes(subresource))
      throw new KubeError(404, 'NotFound', 'the server could not find the requested resource')
    switch (verb) {
      case 'get': {
        this.ensureNamespace(t, namespace)
        const o = this.store.get(t, namespace, name as string)
        if (!o) throw notFound(t, name as string)
        return { status: 200, body: subresource === 'scale' ? this.scaleOf(o) : o }
      }
      case 'list':
        return { status: 200, body: this.list(t, namespace, q) }
      case 'create': {
        if (!isObj(body)) throw badRequest('the request body must be an object')
        return this.create(t, namespace, clone(body), this.managerFrom(q, req), this.dryRun(q))
      }
      case 'update':
      case 'patch': {
        this.ensureNamespace(t, namespace)
        const old = this.store.get(t, namespace, name as string)
        if (!old) {
          if (verb === 'update' && isObj(body) && !subresource)
            return this.create(t, namespace, clone(body), this.managerFrom(q, req), this.dryRun(q))
          throw notFound(t, name as string)
        }
        let next: Obj
        const base = subresource === 'scale' ? this.scaleOf(old) : old
        if (verb === 'update') {
          if (!isObj(body)) throw badRequest('the request body must be an object')
          next = clone(body)
          const rv = meta(next).resourceVersion
          if (rv !== undefined && rv !== '' && rv !== meta(base).resourceVersion)
            throw new KubeError(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
              { name, ...(t.group ? { group: t.group } : {}), kind: t.resource }
            )
        } else next = this.patch(base, body, contentType) as Obj
        if (subresource === 'scale') {
          const replicas = (next.spec as Obj | undefined)?.replicas
          if (typeof replicas !== 'number') throw badRequest('spec.replicas is required')
          const updated = clone(old)
          ;(updated.spec as Obj).replicas = replicas
          next = updated
        }
        return this.commitUpdate(
          t,
          old,
          next,
          this.managerFrom(q, req),
          subresource,
          this.dryRun(q)
        )
      }
      case 'apply':
        return this.apply(t, namespace, name as string, body, q, subresource)
      case 'delete': {
        this.ensureNamespace(t, namespace)
        const o = this.store.get(t, namespace, name as string)
        if (!o) throw notFound(t, name as string)
        if (this.dryRun(q)) return { status: 200, body: o }
        const delOpts = isObj(body) ? body : {}
        const policy =
          q.get('propagationPolicy') ?? (delOpts.propagationPolicy as string | undefined)
        this.deleteObject(t, o, policy === 'Orphan')
        return {
          status: 200,
          body: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: {
              name,
              ...(t.group ? { group: t.group } : {}),
              kind: t.resource,
              uid: meta(o).uid
            }
          }
        }
      }
      case 'deletecollection': {
        const items = this.list(t, namespace, q).items as Obj[]
        if (!this.dryRun(q)) for (const o of items) this.deleteObject(t, o, false)
        return {
          status: 200,
          body: { kind: t.kind + 'List', apiVersion: apiVersionOf(t), metadata: {}, items }
        }
      }
    }
    throw new KubeError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource'
    )
  }

  private scaleOf(o: Obj): Obj {
    const spec = (o.spec ?? {}) as Obj
    const status = (o.status ?? {}) as Obj
    const sel = spec.selector as Obj | undefined
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: nameOf(o),
        namespace: nsOf(o),
        uid: meta(o).uid,
        resourceVersion: meta(o).resourceVersion,
        creationTimestamp: meta(o).creationTimestamp
      },
      spec: { replicas: spec.replicas ?? 0 },
      status: {
        replicas: status.replicas ?? 0,
        selector: Object.entries((sel?.matchLabels ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
      }
    }
  }

  private patch(old: Obj, body: unknown, contentType: string): unknown {
    switch (contentType) {
      case 'application/merge-patch+json':
        return mergePatch(old, body)
      case 'application/strategic-merge-patch+json':
        return mergeStrategic(old, body)
      case 'application/json-patch+json':
        return jsonPatch(old, body)
      default:
        throw new KubeError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`
        )
    }
  }

  private list(t: ResourceType, namespace: string | undefined, q: URLSearchParams): Obj {
    const labelSel = parseLabelSelector(q.get('labelSelector'))
    let fieldSel: (o: Obj) => boolean
    try {
      fieldSel = parseFieldSelector(q.get('fieldSelector'))
    } catch (err) {
      throw badRequest((err as Error).message)
    }
    let items = this.store
      .list(t, t.namespaced ? namespace : undefined)
      .filter((o) => labelSel(labelsOf(o)) && fieldSel(o))
    const limit = Number(q.get('limit') ?? 0)
    const cont = q.get('continue')
    let next: string | undefined
    if (cont) {
      let after = ''
      try {
        after = String((JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as Obj).after)
      } catch {
        throw badRequest('continue key is not valid')
      }
      items = items.filter((o) => `${nsOf(o) ?? ''}/${nameOf(o)}` > after)
    }
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit)
      const last = items[items.length - 1] as Obj
      next = Buffer.from(JSON.stringify({ after: `${nsOf(last) ?? ''}/${nameOf(last)}` })).toString(
        'base64url'
      )
    }
    return {
      kind: `${t.kind}List`,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String(this.store.rv), ...(next ? { continue: next } : {}) },
      items
    }
  }

  create(
    t: ResourceType,
    namespace: string | undefined,
    o: Obj,
    manager: string,
    dryRun: boolean,
    operation: 'Update' | 'Apply' = 'Update'
  ): { status: number; body: Obj } {
    const m = meta(o)
    if (o.kind !== undefined && o.kind !== t.kind)
      throw badRequest(
        `the kind of the provided object (${str(o.kind)}) does not match the resource (${t.kind})`
      )
    if (t.namespaced) {
      if (m.namespace !== undefined && namespace !== undefined && m.namespace !== namespace)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request'
        )
      m.namespace = namespace ?? m.namespace
    }
    this.ensureNamespace(t, nsOf(o))
    if (!m.name && typeof m.generateName === 'string')
      m.name = `${m.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`
    const name = nameOf(o)
    if (name && this.store.get(t, nsOf(o), name)) throw alreadyExists(t, name)
    delete m.resourceVersion
    m.uid = randomUUID()
    m.generation = 1
    m.creationTimestamp = this.nowIso()
    if (operation === 'Update') {
      delete m.managedFields
      updateOwnership({
        before: undefined,
        after: o,
        manager,
        apiVersion: apiVersionOf(t),
        now: this.nowIso()
      })
    }
    if (!['Pod', 'Namespace', 'Node'].includes(t.kind) || o.status === undefined) delete o.status
    applyDefaults(t, o)
    validate(t, o, undefined)
    this.admissionChecks(t, o)
    if (dryRun) {
      m.resourceVersion = ''
      return { status: 201, body: { ...o, apiVersion: apiVersionOf(t), kind: t.kind } }
    }
    const stored = this.store.put(t, o)
    this.afterWrite(t, stored)
    this.reconcile()
    return { status: 201, body: this.store.get(t, nsOf(stored), nameOf(stored)) ?? stored }
  }

  private admissionChecks(t: ResourceType, o: Obj): void {
    if (t.kind === 'CustomResourceDefinition') {
      const spec = (o.spec ?? {}) as Obj
      const names = (spec.names ?? {}) as Obj
      if (
        typeof spec.group !== 'string' ||
        typeof names.plural !== 'string' ||
        typeof names.kind !== 'string'
      )
        throw badRequest(
          'CustomResourceDefinition needs spec.group, spec.names.plural and spec.names.kind'
        )
      if (nameOf(o) !== `${names.plural}.${spec.group}`)
        throw new KubeError(
          422,
          'Invalid',
          `CustomResourceDefinition.apiextensions.k8s.io "${nameOf(o)}" is invalid: metadata.name: Invalid value: "${nameOf(o)}": must be spec.names.plural+"."+spec.group`
        )
    }
  }

  /** CRDs extend the served types. */
  private afterWrite(t: ResourceType, o: Obj): void {
    if (t.kind !== 'CustomResourceDefinition') return
    const spec = (o.spec ?? {}) as Obj
    const names = (spec.names ?? {}) as Obj
    const group = String(spec.group)
    const plural = String(names.plural)
    this.types = this.types.filter(
      (x) => !(x.group === group && x.resource === plural && !BUILTIN.includes(x))
    )
    for (const v of (spec.versions as Obj[] | undefined) ?? []) {
      if (v.served === false) continue
      this.types.push({
        group,
        version: String(v.name),
        resource: plural,
        kind: String(names.kind),
        singular: str(names.singular ?? str(names.kind).toLowerCase()),
        namespaced: spec.scope !== 'Cluster',
        shortNames: names.shortNames as string[] | undefined,
        subresources: isObj(v.subresources) && isObj(v.subresources.status) ? ['status'] : []
      })
    }
    const status = (o.status ?? {}) as Obj
    if (!Array.isArray(status.conditions)) {
      o.status = {
        acceptedNames: names,
        storedVersions: ((spec.versions as Obj[] | undefined) ?? [])
          .filter((v) => v.storage)
          .map((v) => v.name),
        conditions: [
          {
            type: 'NamesAccepted',
            status: 'True',
            reason: 'NoConflicts',
            message: 'no conflicts found',
            lastTransitionTime: this.nowIso()
          },
          {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
            lastTransitionTime: this.nowIso()
          }
        ]
      }
      this.store.put(t, o)
    }
  }

  commitUpdate(
    t: ResourceType,
    old: Obj,
    next: Obj,
    manager: string,
    subresource: string | undefined,
    dryRun: boolean
  ): { status: number; body: Obj } {
    const m = meta(next)
    const om = meta(old)
    if (next.kind !== undefined && next.kind !== t.kind)
      throw badRequest(
        `the kind of the provided object (${str(next.kind)}) does not match the resource (${t.kind})`
      )
    if (m.name !== undefined && m.name !== om.name)
      throw badRequest(
        `the name of the object (${str(m.name)}) does not match the name on the URL (${str(om.name)})`
      )
    if (t.namespaced && m.namespace !== undefined && m.namespace !== om.namespace)
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request'
      )
    let result: Obj
    if (subresource === 'status') {
      result = clone(old)
      result.status = next.status
    } else {
      result = next
      if (t.kind !== 'Namespace') result.status = old.status
      for (const k of [
        'uid',
        'creationTimestamp',
        'generation',
        'namespace',
        'name',
        'deletionTimestamp'
      ])
        if (om[k] !== undefined) m[k] = om[k]
      if (subresource !== 'scale') m.managedFields = om.managedFields
    }
    const rm = meta(result)
    rm.managedFields = om.managedFields
    updateOwnership({
      before: old,
      after: result,
      manager,
      apiVersion: apiVersionOf(t),
      subresource,
      now: this.nowIso()
    })
    return this.finishUpdate(t, old, result, dryRun)
  }

  private finishUpdate(
    t: ResourceType,
    old: Obj,
    result: Obj,
    dryRun: boolean
  ): { status: number; body: Obj } {
    applyDefaults(t, result)
    validate(t, result, old)
    const specOf = (o: Obj): string => {
      const c: Obj = { ...o }
      delete c.metadata
      delete c.status
      delete c.apiVersion
      delete c.kind
      return JSON.stringify(c)
    }
    const rm = meta(result)
    rm.generation = Number(meta(old).generation ?? 1) + (specOf(old) !== specOf(result) ? 1 : 0)
    rm.resourceVersion = meta(old).resourceVersion
    if (dryRun)
      return { status: 200, body: { ...result, apiVersion: apiVersionOf(t), kind: t.kind } }
    // a write that changes nothing (but managedFields timestamps) is a no-op, as on the API server
    const sansTimes = (o: Obj): string => {
      const c = clone(o)
      for (const e of (meta(c).managedFields as Obj[] | undefined) ?? []) delete e.time
      return JSON.stringify(c)
    }
    if (sansTimes(result) === sansTimes(old)) return { status: 200, body: old }
    const stored = this.store.put(t, result)
    this.afterWrite(t, stored)
    this.reconcile()
    return { status: 200, body: this.store.get(t, nsOf(stored), nameOf(stored)) ?? stored }
  }

  private apply(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    q: URLSearchParams,
    subresource: string | undefined
  ): { status: number; body: Obj } {
    const manager = q.get('fieldManager')
    if (!manager)
      throw badRequest(
        'PATCH /apply requires fieldManager: fieldManager is required for apply requests'
      )
    const forceParam = q.get('force')
    const force = forceParam === 'true' || forceParam === '1'
    if (!isObj(body)) throw badRequest('the request body must be an object')
    const config = clone(body)
    const cm = meta(config)
    if (config.apiVersion !== apiVersionOf(t) || config.kind !== t.kind)
      throw badRequest(
        `apiVersion and kind must be ${apiVersionOf(t)} ${t.kind} (got ${String(config.apiVersion)} ${String(config.kind)})`
      )
    if (cm.name !== name)
      throw badRequest(
        `the name of the object (${String(cm.name)}) does not match the name on the URL (${name})`
      )
    if (t.namespaced) {
      if (cm.namespace !== undefined && cm.namespace !== namespace)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request'
        )
    }
    if (cm.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil')
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation']) delete cm[k]
    const dryRun = this.dryRun(q)
    this.ensureNamespace(t, namespace)
    const live = this.store.get(t, namespace, name)
    const now = this.nowIso()
    if (subresource === 'status') {
      if (!live) throw notFound(t, name)
      const next = clone(live)
      next.status = config.status
      return this.commitUpdate(t, live, next, manager, 'status', dryRun)
    }
    const res = applyConfig({ live, config, manager, force, apiVersion: apiVersionOf(t), now })
    if (res.conflicts.length > 0) {
      throw new KubeError(409, 'Conflict', conflictMessage(res.conflicts), {
        name,
        ...(t.group ? { group: t.group } : {}),
        kind: t.resource,
        causes: res.conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${c.manager}"${c.subresource ? ` with subresource "${c.subresource}"` : ''} using ${c.apiVersion}`,
          field: humanField(c.path)
        }))
      })
    }
    const merged = res.object as Obj
    meta(merged).name = name
    if (t.namespaced) meta(merged).namespace = namespace
    if (!live) return this.create(t, namespace, merged, manager, dryRun, 'Apply')
    for (const k of ['uid', 'creationTimestamp', 'generation', 'resourceVersion'])
      meta(merged)[k] = meta(live)[k]
    merged.status = live.status
    return this.finishUpdate(t, live, merged, dryRun)
  }

  /** Admin seeding: create-or-update (`Update`, e.g. as `kubectl-client-side-apply`) or server-side apply. */
  adminWrite(o: Obj, manager: string, operation: 'Update' | 'Apply'): Obj {
    const t = this.typeOfKind(String(o.apiVersion), String(o.kind))
    if (!t) throw badRequest(`no kind ${String(o.kind)} in ${String(o.apiVersion)}`)
    const ns = t.namespaced ? (nsOf(o) ?? 'default') : undefined
    const name = nameOf(o)
    if (operation === 'Apply') {
      const q = new URLSearchParams({ fieldManager: manager, force: 'true' })
      return this.apply(t, ns, name, o, q, undefined).body
    }
    const live = this.store.get(t, ns, name)
    if (!live) return this.create(t, ns, clone(o), manager, false).body
    const next = clone(o)
    delete meta(next).resourceVersion
    return this.commitUpdate(t, live, next, manager, undefined, false).body
  }

  deleteObject(t: ResourceType, o: Obj, orphan: boolean): void {
    const uid = meta(o).uid
    this.store.remove(t, nsOf(o), nameOf(o))
    if (t.kind === 'CustomResourceDefinition') {
      const spec = (o.spec ?? {}) as Obj
      const plural = String((spec.names as Obj | undefined)?.plural)
      const group = String(spec.group)
      for (const x of this.types.filter((y) => y.group === group && y.resource === plural))
        for (const item of this.store.list(x)) this.store.remove(x, nsOf(item), nameOf(item))
      this.types = this.types.filter((x) => !(x.group === group && x.resource === plural))
    }
    if (t.kind === 'Namespace') {
      for (const x of this.types.filter((y) => y.namespaced))
        for (const item of this.store.list(x, nameOf(o)))
          this.store.remove(x, nsOf(item), nameOf(item))
      return
    }
    // garbage collection of dependents (background propagation), or orphaning
    for (const x of this.types.filter(
      (y) => y.namespaced === t.namespaced || t.namespaced === false
    )) {
      for (const item of this.store.list(x)) {
        const refs = (meta(item).ownerReferences as Obj[] | undefined) ?? []
        if (!refs.some((r) => r.uid === uid)) continue
        if (orphan) {
          const kept = refs.filter((r) => r.uid !== uid)
          if (kept.length) meta(item).ownerReferences = kept
          else delete meta(item).ownerReferences
          this.store.put(x, item)
        } else this.deleteObject(x, item, false)
      }
    }
  }

  // ---- watch ---------------------------------------------------------------------------------

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    q: URLSearchParams
  ): void {
    const { t } = target
    const ns = t.namespaced ? target.namespace : undefined
    if (ns) this.ensureNamespace(t, ns)
    const labelSel = parseLabelSelector(q.get('labelSelector'))
    let fieldSel: (o: Obj) => boolean
    try {
      fieldSel = parseFieldSelector(q.get('fieldSelector'))
    } catch (err) {
      throw badRequest((err as Error).message)
    }
    const nameSel = target.name
    const match = (o: Obj): boolean =>
      (nameSel === undefined || nameOf(o) === nameSel) && labelSel(labelsOf(o)) && fieldSel(o)
    const rvParam = q.get('resourceVersion')
    const bookmarks = q.get('allowWatchBookmarks') === 'true'
    res.writeHead(200, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache, private'
    })
    res.flushHeaders()
    const write = (type: string, object: Obj): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`)
    }
    let closed = false
    const watcher: Watcher = {
      t,
      namespace: ns,
      match,
      send: (e: WatchEvent) => write(e.type, e.object),
      close: (mode) => {
        if (closed) return
        closed = true
        this.store.watchers.delete(watcher)
        if (mode === 'reset') res.destroy()
        else res.end()
      }
    }
    if (rvParam && rvParam !== '0') {
      const rv = Number(rvParam)
      if (!Number.isFinite(rv)) {
        write(
          'ERROR',
          new KubeError(400, 'BadRequest', `invalid resource version "${rvParam}"`).toStatus()
        )
        res.end()
        return
      }
      if (rv < this.store.oldestRv) {
        write(
          'ERROR',
          new KubeError(
            410,
            'Expired',
            `too old resource version: ${rv} (${this.store.oldestRv})`
          ).toStatus()
        )
        res.end()
        return
      }
      for (const e of this.store.history) {
        if (e.rv <= rv) continue
        if (e.t.group !== t.group || e.t.resource !== t.resource) continue
        if (ns !== undefined && nsOf(e.object) !== ns) continue
        if (match(e.object)) write(e.type, e.object)
      }
    } else {
      for (const o of this.store.list(t, ns)) if (match(o)) write('ADDED', o)
    }
    if (bookmarks)
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(this.store.rv) }
      })
    this.store.watchers.add(watcher)
    const timeout = Number(q.get('timeoutSeconds') ?? 0)
    const timer =
      timeout > 0
        ? setTimeout(() => watcher.close('close'), Math.min(timeout, 3600) * 1000)
        : undefined
    timer?.unref()
    const cleanup = (): void => {
      clearTimeout(timer)
      closed = true
      this.store.watchers.delete(watcher)
    }
    req.on('close', cleanup)
    res.on('close', cleanup)
  }
}

function humanField(p: string): string {
  let out = ''
  for (const s of JSON.parse(p) as string[]) {
    if (s.startsWith('f:')) out += `.${s.slice(2)}`
    else if (s.startsWith('k:')) {
      const k = JSON.parse(s.slice(2)) as Obj
      out += `[${Object.entries(k)
        .map(([a, b]) => `${a}=${JSON.stringify(b)}`)
        .join(',')}]`
    }
  }
  return out
}

/** RFC 6902 JSON patch (add, remove, replace, test, move, copy). */
function jsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw badRequest('json patch must be a list of operations')
  let out = clone(doc) as unknown
  const ptr = (p: string): string[] =>
    p === ''
      ? []
      : p
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  const get = (root: unknown, path: string[]): unknown => {
    let cur = root
    for (const s of path) {
      if (Array.isArray(cur)) cur = cur[Number(s)]
      else if (isObj(cur)) cur = cur[s]
      else return undefined
    }
    return cur
  }
  const parentOf = (root: unknown, path: string[]): { parent: unknown; key: string } => {
    const parent = get(root, path.slice(0, -1))
    if (parent === undefined)
      throw new KubeError(422, 'Invalid', `doc is missing path: "/${path.join('/')}"`)
    return { parent, key: path[path.length - 1] ?? '' }
  }
  const set = (root: unknown, path: string[], value: unknown, insert: boolean): unknown => {
    if (path.length === 0) return value
    const { parent, key } = parentOf(root, path)
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key)
      if (insert) parent.splice(i, 0, value)
      else parent[i] = value
    } else (parent as Obj)[key] = value
    return root
  }
  const remove = (root: unknown, path: string[]): unknown => {
    const { parent, key } = parentOf(root, path)
    const v = get(root, path)
    if (v === undefined)
      throw new KubeError(422, 'Invalid', `unable to remove nonexistent key: ${key}`)
    if (Array.isArray(parent)) parent.splice(Number(key), 1)
    else delete (parent as Obj)[key]
    return v
  }
  for (const op of ops as Obj[]) {
    const path = ptr(str(op.path ?? ''))
    switch (op.op) {
      case 'add':
        out = set(out, path, clone(op.value), true)
        break
      case 'replace':
        if (get(out, path) === undefined)
          throw new KubeError(
            422,
            'Invalid',
            `replace operation does not apply: doc is missing key: ${String(op.path)}`
          )
        out = set(out, path, clone(op.value), false)
        break
      case 'remove':
        remove(out, path)
        break
      case 'test':
        if (JSON.stringify(get(out, path)) !== JSON.stringify(op.value))
          throw new KubeError(422, 'Invalid', `testing value ${String(op.path)} failed`)
        break
      case 'move':
      case 'copy': {
        const from = ptr(str(op.from ?? ''))
        const v = op.op === 'move' ? remove(out, from) : clone(get(out, from))
        out = set(out, path, v, true)
        break
      }
      default:
        throw badRequest(`unexpected json patch op ${String(op.op)}`)
    }
  }
  return out as Obj
}
