import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CredentialStore, isActionAllowed } from './iam.js'
import { parseQueryParams, toXml, escapeXml } from './xml.js'
import {
  AwsError,
  type Caller,
  type Clock,
  type RequestContext,
  type ServiceModule
} from './types.js'

export interface RequestLogEntry {
  id: number
  /** Simulated time, ISO 8601. */
  time: string
  timeMs: number
  service: string
  operation: string
  /** `aws` for API calls, `registry:<what>` for registry requests. */
  kind: string
  callerArn?: string
  accessKeyId?: string
  params?: unknown
  status: number
  errorCode?: string
  durationMs: number
  method?: string
  path?: string
  requestId?: string
}

export interface FaultRule {
  id: number
  /** Signing name (`ecr`, `sts`…) or `registry`; undefined = any. */
  service?: string
  /** Operation (`CreateRepository`) or registry kind (`registry:manifest-put`); undefined = any. */
  operation?: string
  /**
   * `throttle` / `error` answer with an error; `latency` delays; `reset` closes the TCP connection without an answer
   * (ECONNRESET at the client; on the registry after `afterBytes` of the request body: a push cut off mid-layer).
   */
  type: 'throttle' | 'error' | 'latency' | 'reset'
  /** Apply to the next N matching requests only (then the rule is spent). */
  count?: number
  /** The rule is active for this many simulated seconds after it was added (a storm), then removed. */
  forSeconds?: number
  /** Simulated epoch ms at which a `forSeconds` rule ends (set by addFault). */
  untilMs?: number
  /** Only requests whose parameters have these top-level string values (`{"repositoryName": "app"}`; registry: `repository`). */
  match?: Record<string, string>
  /**
   * `throttle`/`error`: append the raw request (headers and body) to the error message, as a verbose service or proxy
   * might; tests use it to check that callers never print credentials that errors echo.
   */
  echoRequest?: boolean
  /** `reset` only: how many bytes of the request body to read before closing (default: all of it). */
  afterBytes?: number
  /** Probability 0..1 of applying to a matching request (default 1). */
  rate?: number
  /** With `rate`: fire on an evenly spread share of the matching requests (the first fires) instead of at random. */
  spread?: boolean
  /** Matching requests seen (for `spread`). */
  seen?: number
  status?: number
  code?: string
  message?: string
  latencyMs?: number
  /** How many times the rule fired. */
  fired: number
}

/** A `reset` fault: close the connection (after `afterBytes` of the body, when set). */
export interface ConnectionReset {
  reset: true
  afterBytes: number | undefined
}

function echo(rule: FaultRule, message: string, rawRequest: (() => string) | undefined): string {
  return rule.echoRequest && rawRequest ? `${message} (request: ${rawRequest()})` : message
}

export function isConnectionReset(value: unknown): value is ConnectionReset {
  return typeof value === 'object' && value !== null && (value as ConnectionReset).reset === true
}

export type RawRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void
export type InternalAdminHandler = (
  body: Record<string, unknown>,
  query: URLSearchParams,
  method: string
) => unknown

interface AuthHeader {
  accessKeyId: string
  region: string
  service: string
}

const REDACT = /token|secret|password|authorization/i

function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      REDACT.test(k) && typeof v === 'string' && !/^(nextToken|clientToken)$/i.test(k)
        ? '***'
        : redact(v, depth + 1)
  }
  return out
}

/** Dates → epoch seconds (the JSON protocols' default timestamp format). */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = toJsonValue(v)
    }
    return out
  }
  return value
}

export function parseAuthorization(
  header: string | undefined
): AuthHeader | undefined | 'malformed' {
  if (!header) return undefined
  const m =
    /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,/.exec(
      header
    )
  if (!m || !/SignedHeaders=/.test(header) || !/Signature=[0-9a-f]+/.test(header))
    return 'malformed'
  return { accessKeyId: m[1] as string, region: m[3] as string, service: m[4] as string }
}

export async function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const b = chunk as Buffer
    size += b.length
    if (size > limit) throw new AwsError('RequestEntityTooLarge', 'request body too large', 413)
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

export interface SimServerOptions {
  clock: Clock
  accountId: string
  region: string
  credentials?: CredentialStore
}

/**
 * One loopback HTTP server for every simulated AWS service: routes by the SigV4 credential scope, speaks
 * awsJson1.1 / restJson1 / awsQuery, resolves callers, checks allow-lists, injects faults, logs requests,
 * and serves the admin API under `/_sim/`.
 */
export class SimServer {
  readonly clock: Clock
  readonly accountId: string
  readonly region: string
  readonly credentials: CredentialStore
  readonly modules = new Map<string, ServiceModule>()
  private readonly admin = new Map<string, InternalAdminHandler>()
  private readonly raw: Array<[string, RawRoute]> = []
  private readonly log: RequestLogEntry[] = []
  private faults: FaultRule[] = []
  private nextLogId = 1
  private nextFaultId = 1
  private server: Server | undefined
  port = 0

  constructor(options: SimServerOptions) {
    this.clock = options.clock
    this.accountId = options.accountId
    this.region = options.region
    this.credentials = options.credentials ?? new CredentialStore()
    this.registerCoreAdmin()
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  register(module: ServiceModule): void {
    if (this.modules.has(module.signingName))
      throw new Error(`service ${module.signingName} already registered`)
    this.modules.set(module.signingName, module)
    for (const [name, handler] of Object.entries(module.admin ?? {})) {
      this.addAdmin(`${module.signingName}/${name}`, handler)
    }
  }

  /** Mounts an admin handler at `/_sim/<path>` (GET and POST; DELETE passes method). */
  addAdmin(path: string, handler: InternalAdminHandler): void {
    this.admin.set(path.replace(/^\/+|\/+$/g, ''), handler)
  }

  /** Serves every request whose path starts with `prefix` itself (OIDC issuer). */
  addRawRoute(prefix: string, route: RawRoute): void {
    this.raw.push([prefix, route])
  }

  record(
    entry: Omit<RequestLogEntry, 'id' | 'time' | 'timeMs'> & { timeMs?: number }
  ): RequestLogEntry {
    const timeMs = entry.timeMs ?? this.clock.now()
    const full: RequestLogEntry = {
      ...entry,
      id: this.nextLogId++,
      timeMs,
      time: new Date(timeMs).toISOString()
    }
    this.log.push(full)
    if (this.log.length > 20000) this.log.splice(0, this.log.length - 20000)
    return full
  }

  requestLog(
    filter: { service?: string; operation?: string; kind?: string; sinceId?: number } = {}
  ): RequestLogEntry[] {
    return this.log.filter(
      (e) =>
        (filter.service === undefined || e.service === filter.service) &&
        (filter.operation === undefined || e.operation === filter.operation) &&
        (filter.kind === undefined ||
          e.kind === filter.kind ||
          e.kind.startsWith(`${filter.kind}`)) &&
        (filter.sinceId === undefined || e.id > filter.sinceId)
    )
  }

  clearLog(): void {
    this.log.length = 0
  }

  addFault(rule: Omit<FaultRule, 'id' | 'fired'>): FaultRule {
    if (!['throttle', 'error', 'latency', 'reset'].includes(rule.type)) {
      throw new AwsError(
        'ValidationException',
        `fault type must be throttle, error, latency or reset, got ${String(rule.type)}`
      )
    }
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
      throw new AwsError('ValidationException', `fault rate must be within 0..1, got ${rule.rate}`)
    }
    if (rule.forSeconds !== undefined && !(rule.forSeconds > 0)) {
      throw new AwsError(
        'ValidationException',
        `fault forSeconds must be positive, got ${rule.forSeconds}`
      )
    }
    const full: FaultRule = { ...rule, id: this.nextFaultId++, fired: 0 }
    if (rule.forSeconds !== undefined) full.untilMs = this.clock.now() + rule.forSeconds * 1000
    this.faults.push(full)
    return full
  }

  listFaults(): FaultRule[] {
    return [...this.faults]
  }

  clearFaults(id?: number): void {
    this.faults = id === undefined ? [] : this.faults.filter((f) => f.id !== id)
  }

  /**
   * The faults that fire for this request (spends `count`); latency is slept here.
   * Returns the error to answer with, if any.
   */
  async applyFaults(
    service: string,
    operation: string,
    protocol: ServiceModule['protocol'] | 'registry',
    params: Record<string, unknown> = {},
    rawRequest?: () => string
  ): Promise<AwsError | ConnectionReset | undefined> {
    const now = this.clock.now()
    this.faults = this.faults.filter((f) => f.untilMs === undefined || f.untilMs > now)
    for (const rule of [...this.faults]) {
      if (rule.service !== undefined && rule.service !== service) continue
      if (rule.operation !== undefined && rule.operation !== operation) continue
      if (rule.match && Object.entries(rule.match).some(([k, v]) => params[k] !== v)) continue
      if (rule.rate !== undefined) {
        if (rule.spread) {
          const seen = (rule.seen = (rule.seen ?? 0) + 1)
          if (Math.ceil(seen * rule.rate) <= Math.ceil((seen - 1) * rule.rate)) continue
        } else if (Math.random() >= rule.rate) continue
      }
      rule.fired++
      if (rule.count !== undefined) {
        rule.count--
        if (rule.count <= 0) this.faults = this.faults.filter((f) => f !== rule)
      }
      if (rule.type === 'latency') {
        await new Promise((r) => setTimeout(r, rule.latencyMs ?? 1000))
        continue
      }
      if (rule.type === 'reset') return { reset: true, afterBytes: rule.afterBytes }
      if (rule.type === 'throttle') {
        const code =
          rule.code ??
          (protocol === 'query'
            ? 'Throttling'
            : protocol === 'registry'
              ? 'TOOMANYREQUESTS'
              : 'ThrottlingException')
        return new AwsError(
          code,
          echo(rule, rule.message ?? 'Rate exceeded', rawRequest),
          rule.status ?? (protocol === 'registry' ? 429 : 400)
        )
      }
      const status = rule.status ?? 500
      const code =
        rule.code ??
        (status === 503
          ? 'ServiceUnavailable'
          : protocol === 'query'
            ? 'InternalFailure'
            : 'InternalFailure')
      return new AwsError(
        code,
        echo(
          rule,
          rule.message ?? 'We encountered an internal error. Please try again.',
          rawRequest
        ),
        status
      )
    }
    return undefined
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: String(err) })
        else res.destroy()
      })
    })
    server.keepAliveTimeout = 5000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    for (const m of this.modules.values()) await m.close?.()
    const server = this.server
    if (!server) return
    this.server = undefined
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  // ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim')
      return this.handleAdmin(req, res, url)
    for (const [prefix, route] of this.raw) {
      if (url.pathname.startsWith(prefix)) return route(req, res, url)
    }
    return this.handleAws(req, res, url)
  }

  private async handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/^\/_sim\/?/, '').replace(/\/+$/, '')
    const handler = this.admin.get(path)
    if (!handler)
      return sendJson(res, 404, {
        code: 'NotFound',
        message: `no admin route /_sim/${path}`,
        routes: [...this.admin.keys()].sort()
      })
    try {
      const raw = await readBody(req)
      let body: Record<string, unknown> = {}
      if (raw.length > 0) body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
      const result = await handler(body, url.searchParams, req.method ?? 'GET')
      sendJson(res, 200, result ?? { ok: true })
    } catch (err) {
      if (err instanceof AwsError)
        return sendJson(res, err.status, { code: err.code, message: err.message })
      sendJson(res, 400, {
        code: 'BadRequest',
        message: err instanceof Error ? err.message : String(err)
      })
    }
  }

  private registerCoreAdmin(): void {
    this.addAdmin('health', () => ({ ok: true, services: [...this.modules.keys()] }))
    this.addAdmin('requests', (_b, q, method) => {
      if (method === 'DELETE') {
        this.clearLog()
        return { ok: true }
      }
      const since = q.get('since')
      return this.requestLog({
        service: q.get('service') ?? undefined,
        operation: q.get('operation') ?? undefined,
        kind: q.get('kind') ?? undefined,
        sinceId: since === null ? undefined : Number(since)
      })
    })
    this.addAdmin('faults', (body, q, method) => {
      if (method === 'DELETE') {
        const id = q.get('id')
        this.clearFaults(id === null ? undefined : Number(id))
        return { ok: true }
      }
      if (method === 'POST')
        return this.addFault(body as unknown as Omit<FaultRule, 'id' | 'fired'>)
      return this.listFaults()
    })
    this.addAdmin('clock', () => ({
      now: new Date(this.clock.now()).toISOString(),
      nowMs: this.clock.now(),
      speed: this.clock.speed
    }))
    this.addAdmin('clock/advance', (body) => {
      const ms = typeof body['ms'] === 'number' ? body['ms'] : Number(body['seconds'] ?? 0) * 1000
      this.clock.advance(ms)
      return { now: new Date(this.clock.now()).toISOString(), nowMs: this.clock.now() }
    })
    this.addAdmin('clock/speed', (body) => {
      this.clock.speed = Number(body['speed'])
      return { speed: this.clock.speed }
    })
    this.addAdmin('credentials', (body) => {
      const name = typeof body['name'] === 'string' ? body['name'] : 'sim-user'
      const ttl = body['expiresInSeconds']
      const cred = this.credentials.issue(
        {
          accountId: this.accountId,
          arn:
            typeof body['arn'] === 'string'
              ? body['arn']
              : `arn:aws:iam::${this.accountId}:user/${name}`,
          userId: `AIDA${name
            .toUpperCase()
            .replace(/[^A-Z0-9]/g, '')
            .padEnd(8, 'X')
            .slice(0, 17)}`,
          allowedActions: Array.isArray(body['allowedActions'])
            ? (body['allowedActions'] as string[])
            : undefined,
          expiresAt: typeof ttl === 'number' ? this.clock.now() + ttl * 1000 : undefined
        },
        typeof ttl === 'number'
      )
      return {
        accessKeyId: cred.accessKeyId,
        secretAccessKey: cred.secretAccessKey,
        sessionToken: cred.sessionToken,
        arn: cred.caller.arn,
        expiresAt:
          cred.caller.expiresAt === undefined
            ? undefined
            : new Date(cred.caller.expiresAt).toISOString()
      }
    })
  }

  private findModule(
    req: IncomingMessage,
    auth: AuthHeader | undefined,
    url: URL,
    form: URLSearchParams | undefined
  ): ServiceModule | undefined {
    if (auth) return this.modules.get(auth.service)
    const target = req.headers['x-amz-target']
    if (typeof target === 'string') {
      const prefix = target.split('.')[0]
      return [...this.modules.values()].find(
        (m) => m.protocol === 'json1.1' && m.targetPrefix === prefix
      )
    }
    if (form?.get('Action'))
      return [...this.modules.values()].find(
        (m) => m.protocol === 'query' && m.handlers[form.get('Action') as string]
      )
    return [...this.modules.values()].find(
      (m) =>
        m.protocol === 'rest-json' &&
        m.routes?.some((r) => r.method === req.method && r.path.test(url.pathname))
    )
  }

  private async handleAws(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = Date.now()
    const requestId = randomUUID()
    // AWS answers with its own clock in the Date header (the SDK corrects clock skew from it): simulated time here.
    res.setHeader('date', new Date(this.clock.now()).toUTCString())
    const authHeader = parseAuthorization(req.headers.authorization)
    const rawBody = await readBody(req)
    const contentType = String(req.headers['content-type'] ?? '')
    const form = contentType.includes('x-www-form-urlencoded')
      ? new URLSearchParams(rawBody.toString('utf8'))
      : undefined
    const auth = authHeader === 'malformed' ? undefined : authHeader
    const module = this.findModule(req, auth, url, form)
    const protocol: ServiceModule['protocol'] = module?.protocol ?? (form ? 'query' : 'json1.1')
    let operation = 'Unknown'
    let input: Record<string, unknown> = {}
    let caller: Caller | undefined
    let status = 200
    let errorCode: string | undefined
    try {
      if (authHeader === 'malformed') {
        throw new AwsError(
          protocol === 'query' ? 'IncompleteSignature' : 'IncompleteSignatureException',
          "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters in the form AWS4-HMAC-SHA256 Credential=…",
          protocol === 'json1.1' ? 400 : 403
        )
      }
      if (!module) {
        throw new AwsError(
          protocol === 'query' ? 'InvalidAction' : 'UnknownOperationException',
          auth
            ? `The simulator does not serve the service '${auth.service}'`
            : 'Could not determine the service of this request',
          400
        )
      }
      ;({ operation, input } = this.parseRequest(module, req, url, rawBody, form))
      const unsigned = module.unsignedOperations?.includes(operation) ?? false
      caller = this.resolveCaller(module, auth, unsigned)
      const ctx: RequestContext = {
        caller,
        region: auth?.region ?? this.region,
        accountId: this.accountId,
        requestId,
        clock: this.clock
      }
      if (caller && !(module.signingName === 'sts' && operation === 'GetCallerIdentity')) {
        const action = `${module.signingName}:${operation}`
        if (!isActionAllowed(caller.allowedActions, action)) {
          const resource = module.resourceArn?.(operation, input, ctx) ?? '*'
          throw new AwsError(
            protocol === 'query' ? 'AccessDenied' : 'AccessDeniedException',
            `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
            protocol === 'json1.1' ? 400 : 403
          )
        }
      }
      const fault = await this.applyFaults(module.signingName, operation, protocol, input, () =>
        JSON.stringify({ headers: req.headers, body: rawBody.toString('utf8') })
      )
      if (isConnectionReset(fault)) {
        status = 0
        errorCode = 'ConnectionReset'
        req.socket.destroy()
        return
      }
      if (fault) throw fault
      const handler = module.handlers[operation] as NonNullable<ServiceModule['handlers'][string]>
      const result = await handler(input, ctx)
      status =
        protocol === 'rest-json' ? (this.restRoute(module, req, url)?.successStatus ?? 200) : 200
      this.sendSuccess(res, module, operation, requestId, status, result)
    } catch (err) {
      const e =
        err instanceof AwsError
          ? err
          : new AwsError(
              protocol === 'query' ? 'InternalFailure' : 'InternalFailure',
              err instanceof Error ? err.message : String(err),
              500
            )
      status = e.status
      errorCode = e.code
      this.sendError(res, protocol, module, requestId, e)
    } finally {
      this.record({
        service: module?.signingName ?? auth?.service ?? 'unknown',
        operation,
        kind: 'aws',
        callerArn: caller?.arn,
        accessKeyId: caller?.accessKeyId ?? auth?.accessKeyId,
        params: redact(input),
        status,
        errorCode,
        durationMs: Date.now() - started,
        method: req.method,
        path: url.pathname,
        requestId
      })
    }
  }

  private restRoute(module: ServiceModule, req: IncomingMessage, url: URL) {
    return module.routes?.find((r) => r.method === req.method && r.path.test(url.pathname))
  }

  private parseRequest(
    module: ServiceModule,
    req: IncomingMessage,
    url: URL,
    rawBody: Buffer,
    form: URLSearchParams | undefined
  ): { operation: string; input: Record<string, unknown> } {
    const parseJson = (): Record<string, unknown> => {
      if (rawBody.length === 0) return {}
      try {
        const v = JSON.parse(rawBody.toString('utf8')) as unknown
        return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {}
      } catch {
        throw new AwsError(
          'SerializationException',
          'Start of structure or map found where not expected',
          400
        )
      }
    }
    if (module.protocol === 'json1.1') {
      const target = String(req.headers['x-amz-target'] ?? '')
      const [prefix, op] = target.split('.')
      if (prefix !== module.targetPrefix || !op || !module.handlers[op]) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target}`, 400)
      }
      return { operation: op, input: parseJson() }
    }
    if (module.protocol === 'query') {
      const params = form ?? url.searchParams
      const action = params.get('Action') ?? ''
      if (!module.handlers[action])
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version ${params.get('Version') ?? ''}`,
          400
        )
      return { operation: action, input: parseQueryParams(params) }
    }
    for (const route of module.routes ?? []) {
      if (route.method !== req.method) continue
      const match = route.path.exec(url.pathname)
      if (!match) continue
      if (!module.handlers[route.operation]) break
      return {
        operation: route.operation,
        input: route.input(match, parseJson(), url.searchParams)
      }
    }
    throw new AwsError(
      'UnknownOperationException',
      `No operation matches ${req.method ?? ''} ${url.pathname}`,
      404
    )
  }

  private resolveCaller(
    module: ServiceModule,
    auth: AuthHeader | undefined,
    unsigned: boolean
  ): Caller | undefined {
    const query = module.protocol === 'query'
    if (!auth) {
      if (unsigned) return undefined
      throw new AwsError(
        query ? 'MissingAuthenticationToken' : 'MissingAuthenticationTokenException',
        'Request is missing Authentication Token',
        query ? 403 : 400
      )
    }
    const cred = this.credentials.get(auth.accessKeyId)
    if (!cred) {
      if (unsigned) return undefined
      throw query
        ? new AwsError(
            'InvalidClientTokenId',
            'The security token included in the request is invalid.',
            403
          )
        : new AwsError(
            'UnrecognizedClientException',
            'The security token included in the request is invalid.',
            module.protocol === 'rest-json' ? 403 : 400
          )
    }
    if (cred.caller.expiresAt !== undefined && cred.caller.expiresAt <= this.clock.now()) {
      if (unsigned) return undefined
      throw new AwsError(
        query ? 'ExpiredToken' : 'ExpiredTokenException',
        'The security token included in the request is expired',
        query ? 403 : 400
      )
    }
    return cred.caller
  }

  private sendSuccess(
    res: ServerResponse,
    module: ServiceModule,
    operation: string,
    requestId: string,
    status: number,
    result: unknown
  ): void {
    if (module.protocol === 'query') {
      const ns =
        module.xmlNamespace ??
        `https://${module.signingName}.amazonaws.com/doc/${module.apiVersion ?? ''}/`
      const text =
        `<${operation}Response xmlns="${ns}"><${operation}Result>${toXml(result)}</${operation}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': requestId
      })
      res.end(text)
      return
    }
    const text = JSON.stringify(toJsonValue(result ?? {}))
    res.writeHead(status, {
      'content-type':
        module.protocol === 'json1.1' ? 'application/x-amz-json-1.1' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId
    })
    res.end(text)
  }

  private sendError(
    res: ServerResponse,
    protocol: ServiceModule['protocol'],
    module: ServiceModule | undefined,
    requestId: string,
    e: AwsError
  ): void {
    if (protocol === 'query') {
      const ns =
        module?.xmlNamespace ??
        `https://${module?.signingName ?? 'sts'}.amazonaws.com/doc/${module?.apiVersion ?? '2011-06-15'}/`
      const type = e.status >= 500 ? 'Receiver' : 'Sender'
      const text =
        `<ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type><Code>${escapeXml(e.code)}</Code>` +
        `<Message>${escapeXml(e.message)}</Message>${toXml(e.extra)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`
      res.writeHead(e.status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': requestId
      })
      res.end(text)
      return
    }
    const body = toJsonValue({ __type: e.code, message: e.message, ...e.extra })
    const text = JSON.stringify(body)
    res.writeHead(e.status, {
      'content-type': protocol === 'json1.1' ? 'application/x-amz-json-1.1' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': e.code
    })
    res.end(text)
  }
}
