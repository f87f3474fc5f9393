import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  verify,
  type KeyObject
} from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SimServer } from './core/server.js'
import { AwsError, type Clock } from './core/types.js'

/** GitHub's issuer: trust policies name it in their condition keys (`token.actions.githubusercontent.com:sub`). */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'

interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicJwk: Record<string, unknown>
}

export interface MintOptions {
  audience?: string
  /** Claims that override the configured ones (null removes a claim). */
  claims?: Record<string, unknown>
  /** Lifetime from iat (default `tokenLifetimeSeconds`); negative → already expired. */
  expiresInSeconds?: number
  /** Shifts iat/nbf/exp relative to now (simulated seconds). */
  issuedAtOffsetSeconds?: number
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')

export interface DecodedJwt {
  header: { alg?: string; kid?: string; typ?: string }
  payload: Record<string, unknown>
  signingInput: string
  signature: Buffer
}

/** Splits and decodes a compact JWS; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(
      Buffer.from(parts[0] as string, 'base64url').toString('utf8')
    ) as DecodedJwt['header']
    const payload = JSON.parse(
      Buffer.from(parts[1] as string, 'base64url').toString('utf8')
    ) as Record<string, unknown>
    if (typeof header !== 'object' || typeof payload !== 'object' || payload === null)
      return undefined
    return {
      header,
      payload,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2] as string, 'base64url')
    }
  } catch {
    return undefined
  }
}

/** Verifies an RS256 JWS against a JWKS document. */
export function verifyJwtSignature(
  jwt: DecodedJwt,
  jwks: { keys: Array<Record<string, unknown>> }
): boolean {
  if (jwt.header.alg !== 'RS256') return false
  const jwk = jwks.keys.find((k) => k['kid'] === jwt.header.kid)
  if (!jwk) return false
  const key = createPublicKey({ key: jwk as never, format: 'jwk' })
  return verify('RSA-SHA256', Buffer.from(jwt.signingInput), key, jwt.signature)
}

/**
 * A GitHub-shaped OIDC issuer: RS256 ID tokens, discovery + JWKS, the runner's
 * `ACTIONS_ID_TOKEN_REQUEST_URL` protocol, and admin routes to shape, mint, revoke and rotate.
 */
export class OidcIssuer {
  readonly issuer: string
  readonly requestToken = randomBytes(24).toString('hex')
  tokenLifetimeSeconds = 600
  private keys: SigningKey[] = []
  private readonly revoked = new Set<string>()
  /** Every token minted (the most recent 1000), for leak checks in tests. */
  readonly minted: string[] = []
  private overrides: Record<string, unknown> = {}
  private baseUrl = ''
  private server: SimServer | undefined

  constructor(
    private readonly clock: Clock,
    options: { issuer?: string } = {}
  ) {
    this.issuer = options.issuer ?? GITHUB_ISSUER
    this.rotate()
  }

  get requestUrl(): string {
    return `${this.baseUrl}/oidc/token?api-version=2.0`
  }

  get discoveryUrl(): string {
    return `${this.baseUrl}/oidc/.well-known/openid-configuration`
  }

  get jwksUri(): string {
    return `${this.baseUrl}/oidc/.well-known/jwks`
  }

  /** A new signing key; the old ones stay in the JWKS unless `dropOld`. */
  rotate(dropOld = false): string {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const kid = randomBytes(16).toString('hex').toUpperCase()
    const publicJwk = {
      ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      kid,
      use: 'sig',
      alg: 'RS256'
    }
    this.keys = dropOld
      ? [{ kid, privateKey, publicJwk }]
      : [{ kid, privateKey, publicJwk }, ...this.keys]
    return kid
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: this.keys.map((k) => k.publicJwk) }
  }

  isRevoked(jti: unknown): boolean {
    return typeof jti === 'string' && this.revoked.has(jti)
  }

  revoke(jti: string): void {
    this.revoked.add(jti)
  }

  /** The claims tokens get now (before per-mint overrides), sub derived GitHub's way. */
  currentClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const merged: Record<string, unknown> = {
      ref: 'refs/heads/main',
      sha: 'a'.repeat(40),
      repository: 'shipline/demo',
      repository_owner: 'shipline',
      repository_owner_id: '1000001',
      repository_id: '2000002',
      repository_visibility: 'private',
      run_id: '3000003',
      run_number: '7',
      run_attempt: '1',
      actor: 'octocat',
      actor_id: '583231',
      workflow: 'deploy',
      event_name: 'push',
      ref_type: 'branch',
      ref_protected: 'true',
      head_ref: '',
      base_ref: '',
      runner_environment: 'github-hosted',
      ...this.overrides,
      ...extra
    }
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k]
    const repo = String(merged['repository'])
    const ref = String(merged['ref'])
    merged['workflow_ref'] ??= `${repo}/.github/workflows/deploy.yml@${ref}`
    merged['workflow_sha'] ??= merged['sha']
    merged['job_workflow_ref'] ??= merged['workflow_ref']
    merged['job_workflow_sha'] ??= merged['sha']
    if (merged['sub'] === undefined) {
      if (typeof merged['environment'] === 'string')
        merged['sub'] = `repo:${repo}:environment:${merged['environment']}`
      else if (merged['event_name'] === 'pull_request') merged['sub'] = `repo:${repo}:pull_request`
      else merged['sub'] = `repo:${repo}:ref:${ref}`
    }
    return merged
  }

  mint(options: MintOptions = {}): { token: string; claims: Record<string, unknown> } {
    const key = this.keys[0] as SigningKey
    const now = Math.floor(this.clock.now() / 1000) + (options.issuedAtOffsetSeconds ?? 0)
    const claims: Record<string, unknown> = {
      jti: randomUUID(),
      ...this.currentClaims(options.claims),
      aud:
        options.audience ??
        `https://github.com/${String(this.currentClaims(options.claims)['repository_owner'])}`,
      iss: this.issuer,
      nbf: now - 5,
      iat: now,
      exp: now + (options.expiresInSeconds ?? this.tokenLifetimeSeconds)
    }
    if (options.claims?.['iss'] !== undefined) claims['iss'] = options.claims['iss']
    const header = { typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid }
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    const signature = sign('RSA-SHA256', Buffer.from(signingInput), key.privateKey)
    const token = `${signingInput}.${b64url(signature)}`
    this.minted.push(token)
    if (this.minted.length > 1000) this.minted.splice(0, this.minted.length - 1000)
    return { token, claims }
  }

  mount(server: SimServer): void {
    this.server = server
    this.baseUrl = server.url
    server.addRawRoute('/oidc/', (req, res, url) => this.serve(req, res, url))
    server.addAdmin('oidc', () => this.info())
    server.addAdmin('oidc/claims', (body, _q, method) => {
      if (method === 'DELETE' || body['reset'] === true) this.overrides = {}
      else if (method === 'POST') {
        const rest = { ...body }
        delete rest['reset']
        this.overrides = { ...this.overrides, ...rest }
      }
      return this.currentClaims()
    })
    server.addAdmin('oidc/mint', (body) =>
      this.mint({
        audience: typeof body['audience'] === 'string' ? body['audience'] : undefined,
        claims: (body['claims'] as Record<string, unknown> | undefined) ?? undefined,
        expiresInSeconds:
          typeof body['expiresInSeconds'] === 'number' ? body['expiresInSeconds'] : undefined,
        issuedAtOffsetSeconds:
          typeof body['issuedAtOffsetSeconds'] === 'number'
            ? body['issuedAtOffsetSeconds']
            : undefined
      })
    )
    server.addAdmin('oidc/revoke', (body) => {
      if (typeof body['jti'] !== 'string')
        throw new AwsError('ValidationException', 'revoke needs {"jti": "<token id>"}')
      this.revoke(body['jti'])
      return { revoked: body['jti'] }
    })
    server.addAdmin('oidc/rotate', (body) => ({
      kid: this.rotate(body['dropOld'] === true),
      jwks: this.jwks()
    }))
    server.addAdmin('oidc/lifetime', (body) => {
      this.tokenLifetimeSeconds = Number(body['seconds'])
      return { seconds: this.tokenLifetimeSeconds }
    })
  }

  info(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      requestUrl: this.requestUrl,
      discoveryUrl: this.discoveryUrl,
      jwksUri: this.jwksUri,
      tokenLifetimeSeconds: this.tokenLifetimeSeconds,
      claims: this.currentClaims()
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text)
      })
      res.end(text)
    }
    const log = (operation: string, status: number): void => {
      this.server?.record({
        service: 'oidc',
        operation,
        kind: 'oidc',
        status,
        durationMs: 0,
        method: req.method,
        path: url.pathname,
        params: { audience: url.searchParams.get('audience') ?? undefined }
      })
    }
    if (url.pathname === '/oidc/.well-known/openid-configuration') {
      log('Discovery', 200)
      return send(200, {
        issuer: this.issuer,
        jwks_uri: this.jwksUri,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'sub',
          'aud',
          'exp',
          'iat',
          'iss',
          'jti',
          'nbf',
          'ref',
          'sha',
          'repository',
          'repository_owner',
          'environment',
          'job_workflow_ref',
          'workflow_ref',
          'event_name',
          'ref_type',
          'runner_environment'
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid']
      })
    }
    if (url.pathname === '/oidc/.well-known/jwks') {
      log('Jwks', 200)
      return send(200, this.jwks())
    }
    if (url.pathname === '/oidc/token') {
      if (req.headers.authorization !== `Bearer ${this.requestToken}`) {
        log('GetIDToken', 401)
        return send(401, {
          message: 'Bad credentials: ACTIONS_ID_TOKEN_REQUEST_TOKEN does not match'
        })
      }
      const audience = url.searchParams.get('audience') ?? undefined
      log('GetIDToken', 200)
      return send(200, { count: 1, value: this.mint({ audience }).token })
    }
    log('Unknown', 404)
    send(404, { message: `no such OIDC route ${url.pathname}` })
  }
}
