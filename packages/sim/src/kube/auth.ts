/**
 * EKS authentication of `k8s-aws-v1.` bearer tokens (the aws-iam-authenticator algorithm, verified locally
 * against the simulator's credential store instead of calling STS over the network) and the mapping of the
 * caller to the cluster's access entries / aws-auth ConfigMap, then a coarse authorization from the
 * associated EKS access policies.
 */
import { createHash, createHmac } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import type { CredentialStore } from '../core/iam.js'
import type { Caller } from '../core/types.js'
import { isObj, type Obj, str } from './fields.js'

export interface AccessEntryView {
  principalArn: string
  kubernetesGroups: string[]
  username: string
  type: string
  policies: Array<{ policyArn: string; accessScope: { type: string; namespaces?: string[] } }>
}

export interface ClusterAuthView {
  name: string
  authenticationMode: string
  entries: Map<string, AccessEntryView>
}

export interface KubeUser {
  username: string
  groups: string[]
  arn: string
  /** the IAM principal matched: role ARN (without path for aws-auth) or user ARN */
  principalArn: string
  policies: AccessEntryView['policies']
  source: 'access-entry' | 'aws-auth'
}

export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
    readonly detail: string
  ) {
    super(message)
  }
}

const ALLOWED_PARAMS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders'
])
const MAX_TOKEN_AGE_MS = 15 * 60 * 1000

function enc(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
  )
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return undefined
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

/** Verifies a `k8s-aws-v1.` token for `clusterName`; returns the STS caller or throws a 401 AuthError. */
export function verifyEksToken(args: {
  token: string
  clusterName: string
  credentials: CredentialStore
  now: number
  /** Time to judge the token's own X-Amz-Date by (the client signs with its wall clock). */
  signedNow?: number
  /** hosts accepted besides sts[.region].amazonaws.com (the simulator's own endpoint host) */
  localHosts: string[]
}): Caller {
  const fail = (detail: string): never => {
    throw new AuthError(401, 'Unauthorized', detail)
  }
  const { token, clusterName } = args
  if (!token.startsWith('k8s-aws-v1.')) fail('token is missing the k8s-aws-v1. prefix')
  const b64 = token.slice('k8s-aws-v1.'.length)
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) fail('token is not unpadded base64url')
  let url: URL
  try {
    url = new URL(Buffer.from(b64, 'base64url').toString('utf8'))
  } catch {
    return fail('token does not decode to a URL')
  }
  if (url.protocol !== 'https:' && !args.localHosts.includes(url.host))
    fail(`unexpected scheme ${url.protocol}`)
  const hostOk =
    /^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.test(url.hostname) ||
    args.localHosts.includes(url.host)
  if (!hostOk) fail(`unexpected hostname "${url.host}" in pre-signed URL`)
  if (url.pathname !== '/') fail('unexpected path in pre-signed URL')
  const q = new Map<string, string>()
  for (const [k, v] of url.searchParams) {
    if (!ALLOWED_PARAMS.has(k.toLowerCase())) fail(`non-whitelisted query parameter "${k}"`)
    if (q.has(k.toLowerCase())) fail(`query parameter "${k}" repeated`)
    q.set(k.toLowerCase(), v)
  }
  if (q.get('action') !== 'GetCallerIdentity') fail('unexpected action parameter in pre-signed URL')
  const signedHeaders = (q.get('x-amz-signedheaders') ?? '').split(';')
  if (!signedHeaders.includes('x-k8s-aws-id'))
    fail('client did not sign the x-k8s-aws-id header in the pre-signed URL')
  if (!signedHeaders.includes('host')) fail('host is not a signed header')
  const expires = Number(q.get('x-amz-expires'))
  if (!Number.isInteger(expires) || expires < 1 || expires > 900)
    fail('X-Amz-Expires must be between 1 and 900 seconds')
  const date = parseAmzDate(q.get('x-amz-date') ?? '')
  if (date === undefined) fail('error parsing X-Amz-Date parameter')
  if ((date as number) + MAX_TOKEN_AGE_MS < (args.signedNow ?? args.now))
    fail('X-Amz-Date parameter is expired (15 minute expiration)')
  if ((date as number) > (args.signedNow ?? args.now) + 5 * 60 * 1000)
    fail('X-Amz-Date is in the future')
  const cred = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(
    q.get('x-amz-credential') ?? ''
  )
  if (!cred) fail('malformed X-Amz-Credential')
  const [, akid, day, region, service] = cred as RegExpExecArray
  if (service !== 'sts') fail('credential scope service is not sts')
  const stored = args.credentials.get(akid as string)
  if (!stored) fail('InvalidClientTokenId: The security token included in the request is invalid')
  const credential = stored as NonNullable<typeof stored>
  if (
    credential.sessionToken !== undefined &&
    q.get('x-amz-security-token') !== credential.sessionToken
  )
    fail('InvalidClientTokenId: The security token included in the request is invalid')
  if (credential.caller.expiresAt !== undefined && credential.caller.expiresAt <= args.now)
    fail('ExpiredToken: The security token included in the request is expired')
  // canonical request (SigV4 query signing); x-k8s-aws-id is the cluster this server is
  const headerValues: Record<string, string> = { host: url.host, 'x-k8s-aws-id': clusterName }
  const sorted = [...url.searchParams]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const canonHeaders = signedHeaders.map((h) => `${h}:${headerValues[h] ?? ''}\n`).join('')
  const key = ['aws4_request'].reduce<Buffer>(
    (k, part) => hmac(k, part),
    hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, day as string), region as string), 'sts')
  )
  const signature = q.get('x-amz-signature') ?? ''
  const ok = [createHash('sha256').update('').digest('hex'), 'UNSIGNED-PAYLOAD'].some((payload) => {
    const canonical = ['GET', '/', sorted, canonHeaders, signedHeaders.join(';'), payload].join(
      '\n'
    )
    const sts = [
      'AWS4-HMAC-SHA256',
      q.get('x-amz-date'),
      `${day}/${region}/sts/aws4_request`,
      createHash('sha256').update(canonical).digest('hex')
    ].join('\n')
    return hmac(key, sts).toString('hex') === signature
  })
  if (!ok)
    fail(
      'SignatureDoesNotMatch: the request signature does not match (wrong secret, or signed for another cluster id)'
    )
  return credential.caller
}

/** arn:aws:sts::A:assumed-role/R/S → arn:aws:iam::A:role/R (what the authenticator canonicalises to). */
export function canonicalArn(arn: string): string {
  const m = /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(arn)
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn
}

function sessionName(arn: string): string {
  const m = /assumed-role\/[^/]+\/(.+)$/.exec(arn)
  return m ? (m[1] as string) : ''
}

function expand(template: string, caller: Caller): string {
  return template
    .replace(/\{\{SessionName\}\}/g, sessionName(caller.arn))
    .replace(/\{\{AccountID\}\}/g, caller.accountId)
    .replace(/\{\{SessionNameRaw\}\}/g, sessionName(caller.arn))
}

/** Maps an authenticated caller to a Kubernetes user, or throws 401 (no mapping: EKS answers Unauthorized). */
export function mapUser(args: {
  caller: Caller
  cluster: ClusterAuthView
  awsAuth: Obj | undefined
}): KubeUser {
  const { caller, cluster } = args
  const canonical = canonicalArn(caller.arn)
  const candidates = [caller.roleArn, canonical, caller.arn].filter((x): x is string => !!x)
  if (cluster.authenticationMode !== 'CONFIG_MAP') {
    for (const c of candidates) {
      const e = cluster.entries.get(c)
      if (e) {
        return {
          username: expand(e.username, caller),
          groups: [...e.kubernetesGroups, 'system:authenticated'],
          arn: caller.arn,
          principalArn: e.principalArn,
          policies: e.policies,
          source: 'access-entry'
        }
      }
    }
  }
  if (cluster.authenticationMode !== 'API') {
    const data = isObj(args.awsAuth?.data) ? args.awsAuth?.data : {}
    const parseList = (v: unknown): Obj[] => {
      if (typeof v !== 'string') return []
      try {
        const parsed = parseYaml(v) as unknown
        return Array.isArray(parsed) ? parsed.filter(isObj) : []
      } catch {
        return []
      }
    }
    // aws-auth matches the canonical ARN: role ARNs there must not carry a path
    for (const m of parseList(data.mapRoles)) {
      if (m.rolearn === canonical) {
        return {
          username: expand(str(m.username ?? canonical), caller),
          groups: [...((m.groups as string[] | undefined) ?? []), 'system:authenticated'],
          arn: caller.arn,
          principalArn: canonical,
          policies: [],
          source: 'aws-auth'
        }
      }
    }
    for (const m of parseList(data.mapUsers)) {
      if (m.userarn === caller.arn) {
        return {
          username: str(m.username ?? caller.arn),
          groups: [...((m.groups as string[] | undefined) ?? []), 'system:authenticated'],
          arn: caller.arn,
          principalArn: caller.arn,
          policies: [],
          source: 'aws-auth'
        }
      }
    }
  }
  throw new AuthError(
    401,
    'Unauthorized',
    `no access entry${cluster.authenticationMode === 'API' ? '' : ' or aws-auth mapping'} for ${canonical}`
  )
}

const READ = new Set(['get', 'list', 'watch'])

/**
 * Coarse authorization from EKS access policies (ClusterAdmin: everything; Admin: everything but
 * cluster-scoped writes; Edit: writes to namespaced objects except RBAC; View: reads except secrets) and
 * the group `system:masters` (everything). RBAC bindings for other groups are not modelled (denied).
 */
export function authorize(
  user: KubeUser,
  verb: string,
  resource: string,
  namespace: string | undefined
): boolean {
  if (user.groups.includes('system:masters')) return true
  return user.policies.some((p) => {
    if (
      p.accessScope.type === 'namespace' &&
      (namespace === undefined ||
        !(p.accessScope.namespaces ?? []).some((n) => matchNs(n, namespace)))
    )
      return false
    const name = p.policyArn.split('/').pop() ?? ''
    switch (name) {
      case 'AmazonEKSClusterAdminPolicy':
        return true
      case 'AmazonEKSAdminPolicy':
        return namespace !== undefined || READ.has(verb) || resource === 'namespaces'
      case 'AmazonEKSEditPolicy':
        return namespace !== undefined ? true : READ.has(verb) && resource === 'namespaces'
      case 'AmazonEKSViewPolicy':
        return READ.has(verb) && resource !== 'secrets'
      default:
        return false
    }
  })
}

function matchNs(pattern: string, ns: string): boolean {
  return pattern.endsWith('*') ? ns.startsWith(pattern.slice(0, -1)) : pattern === ns
}
