import type { CredentialStore } from '../core/iam.js'
import { randomId, wildcardRegExp } from '../core/iam.js'
import { AwsError, type Clock, type RequestContext, type ServiceModule } from '../core/types.js'
import { decodeJwt, verifyJwtSignature } from '../oidc.js'

export interface TrustCondition {
  test: 'StringLike' | 'StringEquals'
  /** e.g. `token.actions.githubusercontent.com:job_workflow_ref` */
  variable: string
  values: string[]
}

export interface RoleSeed {
  roleArn: string
  trust?: {
    /** Allowed `sub` values (wildcards with StringLike, the default). */
    sub?: string | string[]
    subOperator?: 'StringLike' | 'StringEquals'
    /** Allowed audiences (StringEquals); default `sts.amazonaws.com`. */
    aud?: string | string[]
    /** Further conditions on any claim. */
    conditions?: TrustCondition[]
    /** The trusted provider's issuer URL (default: the stack's issuer). */
    provider?: string
  }
  /** IAM actions sessions of this role may perform; undefined = all. */
  allowedActions?: string[]
  /** 3600 (AWS's default) .. 43200. */
  maxSessionDuration?: number
  /** Overrides the lifetime of issued credentials (to test refresh), in simulated seconds. */
  credentialTtlSeconds?: number
}

interface Role extends Required<Pick<RoleSeed, 'roleArn' | 'maxSessionDuration'>> {
  roleName: string
  roleId: string
  trust: NonNullable<RoleSeed['trust']>
  allowedActions?: string[]
  credentialTtlSeconds?: number
}

export interface OidcProvider {
  /** Issuer URL, `https://token.actions.githubusercontent.com`. */
  url: string
  clientIds: string[]
  /** The provider's JWKS (fetched from the issuer). */
  jwks: () => { keys: Array<Record<string, unknown>> }
  /** Tokens the issuer revoked (simulator extension). */
  isRevoked?: (jti: unknown) => boolean
}

export interface StsOptions {
  clock: Clock
  accountId: string
  credentials: CredentialStore
  /** Default lifetime of issued credentials when neither the role nor DurationSeconds says otherwise. */
  credentialTtlSeconds?: number
}

const hostOf = (url: string): string => url.replace(/^https?:\/\//, '').replace(/\/+$/, '')
const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v]

function validation(field: string, value: unknown, constraint: string): AwsError {
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
    400
  )
}

export interface StsService extends ServiceModule {
  addRole(seed: RoleSeed): Role
  addProvider(provider: OidcProvider): void
}

export function createStsService(options: StsOptions): StsService {
  const roles = new Map<string, Role>()
  const providers = new Map<string, OidcProvider>()
  /** Every issuer whose keys the simulator can fetch (registered or not). */
  const known = new Map<string, OidcProvider>()
  const { clock, accountId, credentials } = options

  function addRole(seed: RoleSeed): Role {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/.exec(
      seed.roleArn ?? ''
    )
    if (!m) throw new AwsError('ValidationError', `invalid role ARN '${String(seed.roleArn)}'`)
    const max = seed.maxSessionDuration ?? 3600
    if (max < 3600 || max > 43200)
      throw new AwsError('ValidationError', 'maxSessionDuration must be 3600..43200')
    const role: Role = {
      roleArn: seed.roleArn,
      roleName: m[2] as string,
      roleId: randomId('AROA', 17),
      maxSessionDuration: max,
      trust: seed.trust ?? {},
      allowedActions: seed.allowedActions,
      credentialTtlSeconds: seed.credentialTtlSeconds
    }
    roles.set(role.roleArn, role)
    return role
  }

  function claimMatches(test: TrustCondition['test'], actual: unknown, values: string[]): boolean {
    const raw: unknown[] = Array.isArray(actual) ? actual : actual === undefined ? [] : [actual]
    const list = raw.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    return list.some((a) =>
      values.some((v) => (test === 'StringEquals' ? a === v : wildcardRegExp(v).test(a)))
    )
  }

  function assumeRoleWithWebIdentity(input: Record<string, unknown>, ctx: RequestContext): unknown {
    const roleArn = input['RoleArn']
    const session = input['RoleSessionName']
    const token = input['WebIdentityToken']
    if (typeof roleArn !== 'string' || roleArn.length < 20)
      throw validation('roleArn', roleArn, 'Member must have length greater than or equal to 20')
    if (typeof session !== 'string' || session.length < 2 || session.length > 64) {
      throw validation(
        'roleSessionName',
        session,
        'Member must have length less than or equal to 64 and greater than or equal to 2'
      )
    }
    if (!/^[\w+=,.@-]*$/.test(session))
      throw validation(
        'roleSessionName',
        session,
        'Member must satisfy regular expression pattern: [\\w+=,.@-]*'
      )
    if (typeof token !== 'string' || token.length < 4)
      throw validation(
        'webIdentityToken',
        '***',
        'Member must have length greater than or equal to 4'
      )
    const duration =
      input['DurationSeconds'] === undefined ? 3600 : Number(input['DurationSeconds'])
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw validation(
        'durationSeconds',
        input['DurationSeconds'],
        'Member must have value greater than or equal to 900 and less than or equal to 43200'
      )
    }

    const jwt = decodeJwt(token)
    if (!jwt)
      throw new AwsError(
        'InvalidIdentityToken',
        'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
        400
      )
    const iss = typeof jwt.payload['iss'] === 'string' ? jwt.payload['iss'] : ''
    const provider = providers.get(hostOf(iss))
    if (!provider)
      throw new AwsError(
        'InvalidIdentityToken',
        `No OpenIDConnect provider found in your account for ${iss}`,
        400
      )
    if (!verifyJwtSignature(jwt, provider.jwks())) {
      throw new AwsError(
        'InvalidIdentityToken',
        "Couldn't verify the signature of the web identity token with the provider's published keys (kid not found or signature invalid)",
        400
      )
    }
    const nowSec = Math.floor(clock.now() / 1000)
    const exp = Number(jwt.payload['exp'])
    if (!Number.isFinite(exp) || exp <= nowSec) {
      throw new AwsError(
        'ExpiredTokenException',
        `Token expired: current date/time ${nowSec} must be before the expiration date/time${exp}`,
        400
      )
    }
    const nbf = Number(jwt.payload['nbf'] ?? jwt.payload['iat'] ?? 0)
    if (nbf > nowSec + 300)
      throw new AwsError(
        'InvalidIdentityToken',
        'Token used before issued (nbf/iat is in the future)',
        400
      )
    if (provider.isRevoked?.(jwt.payload['jti']))
      throw new AwsError(
        'InvalidIdentityToken',
        'The web identity token has been revoked by its issuer',
        400
      )
    const aud = jwt.payload['aud']
    const audList = Array.isArray(aud) ? aud.map(String) : [String(aud)]
    if (!audList.some((a) => provider.clientIds.includes(a)))
      throw new AwsError('InvalidIdentityToken', 'Incorrect token audience', 400)

    const denied = new AwsError(
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      403
    )
    const role = roles.get(roleArn)
    if (!role) throw denied
    const trust = role.trust
    const key = hostOf(iss)
    if (trust.provider !== undefined && hostOf(trust.provider) !== key) throw denied
    const trustedAud = asList(trust.aud) ?? ['sts.amazonaws.com']
    if (!claimMatches('StringEquals', aud, trustedAud)) throw denied
    const subs = asList(trust.sub)
    if (subs && !claimMatches(trust.subOperator ?? 'StringLike', jwt.payload['sub'], subs))
      throw denied
    for (const c of trust.conditions ?? []) {
      const claim = c.variable.startsWith(`${key}:`) ? c.variable.slice(key.length + 1) : c.variable
      if (!claimMatches(c.test, jwt.payload[claim], c.values)) throw denied
    }
    if (duration > role.maxSessionDuration) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
        400
      )
    }

    const ttl = role.credentialTtlSeconds ?? options.credentialTtlSeconds ?? duration
    const expiresAt = clock.now() + ttl * 1000
    const assumedArn = `arn:aws:sts::${accountId}:assumed-role/${role.roleName}/${session}`
    const cred = credentials.issue(
      {
        accountId,
        arn: assumedArn,
        userId: `${role.roleId}:${session}`,
        roleArn: role.roleArn,
        allowedActions: role.allowedActions,
        expiresAt
      },
      true
    )
    void ctx
    return {
      Credentials: {
        AccessKeyId: cred.accessKeyId,
        SecretAccessKey: cred.secretAccessKey,
        SessionToken: cred.sessionToken,
        Expiration: new Date(expiresAt)
      },
      SubjectFromWebIdentityToken: String(jwt.payload['sub']),
      AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${session}`, Arn: assumedArn },
      Provider: iss.replace(/^https:\/\//, ''),
      Audience: audList[0]
    }
  }

  return {
    signingName: 'sts',
    protocol: 'query',
    apiVersion: '2011-06-15',
    xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
    unsignedOperations: ['AssumeRoleWithWebIdentity'],
    handlers: {
      AssumeRoleWithWebIdentity: assumeRoleWithWebIdentity,
      GetCallerIdentity: (_input, ctx) => {
        const caller = ctx.caller
        if (!caller)
          throw new AwsError(
            'MissingAuthenticationToken',
            'Request is missing Authentication Token',
            403
          )
        return { UserId: caller.userId, Account: caller.accountId, Arn: caller.arn }
      }
    },
    resourceArn: (operation, input) =>
      operation === 'AssumeRoleWithWebIdentity' ? String(input['RoleArn']) : undefined,
    addRole,
    addProvider: (p) => {
      known.set(hostOf(p.url), p)
      providers.set(hostOf(p.url), p)
    },
    admin: {
      roles: (body, query) => {
        if (typeof body['roleArn'] === 'string') {
          const r = addRole(body as unknown as RoleSeed)
          return { roleArn: r.roleArn, roleName: r.roleName }
        }
        const arn = query.get('delete')
        if (arn) roles.delete(arn)
        return [...roles.values()].map((r) => ({ ...r }))
      },
      providers: (body, query) => {
        if (typeof body['url'] === 'string') {
          const existing = known.get(hostOf(body['url']))
          if (!existing)
            throw new AwsError(
              'ValidationException',
              `the simulator only knows the keys of its own issuer; unknown ${body['url']}`
            )
          existing.clientIds = Array.isArray(body['clientIds'])
            ? (body['clientIds'] as string[])
            : existing.clientIds
          providers.set(hostOf(existing.url), existing)
        }
        const del = query.get('delete')
        if (del) providers.delete(hostOf(del))
        return [...providers.values()].map((p) => ({
          url: p.url,
          clientIds: p.clientIds,
          arn: `arn:aws:iam::${accountId}:oidc-provider/${hostOf(p.url)}`
        }))
      }
    }
  }
}
