import { parseRoleArn } from './auth-inputs.js'

/** The claims of a GitHub OIDC token that an IAM trust policy usually matches on. */
export interface TokenClaims {
  sub?: string
  aud?: string
  iss?: string
}

/**
 * Decodes a JWT's payload without verifying it (STS verifies; we only explain a refusal).
 * Returns null when the token is not a JWT. Never returns or logs the token itself.
 */
export function decodeTokenClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1]
  if (!payload) return null
  try {
    const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    if (!json || typeof json !== 'object') return null
    const record = json as Record<string, unknown>
    const text = (value: unknown): string | undefined =>
      typeof value === 'string'
        ? value
        : Array.isArray(value)
          ? value.map(String).join(',')
          : undefined
    return { sub: text(record['sub']), aud: text(record['aud']), iss: text(record['iss']) }
  } catch {
    return null
  }
}

/** `sub="…", aud="…", iss="…"` for error messages. */
export function describeClaims(claims: TokenClaims | null): string {
  if (!claims) return 'the ID token could not be decoded'
  const show = (v: string | undefined): string => (v === undefined ? '(absent)' : `"${v}"`)
  return `sub=${show(claims.sub)}, aud=${show(claims.aud)}, iss=${show(claims.iss)}`
}

/**
 * The trust-policy statement that would admit a token with these claims into `roleArn`, and nothing broader:
 * the OIDC provider as federated principal and `StringEquals` on `:aud` and on the exact `:sub`
 * (never `StringLike repo:<owner>/<repo>:*`, which would admit every branch, tag and pull request of the repository).
 */
export function trustPolicyFor(claims: TokenClaims | null, roleArn: string): string {
  const role = parseRoleArn(roleArn)
  const issuerHost = (claims?.iss ?? 'https://token.actions.githubusercontent.com')
    .replace(/^https?:\/\//, '')
    .replace(/\/$/, '')
  const partition = role?.partition ?? 'aws'
  const account = role?.accountId ?? '<account>'
  const aud = claims?.aud ?? 'sts.amazonaws.com'
  const sub = claims?.sub ?? 'repo:<owner>/<repo>:environment:<environment>'
  const statement = {
    Effect: 'Allow',
    Principal: { Federated: `arn:${partition}:iam::${account}:oidc-provider/${issuerHost}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${issuerHost}:aud`]: aud, [`${issuerHost}:sub`]: sub } }
  }
  return JSON.stringify(statement)
}
