import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'

/** The prefix every EKS bearer token carries (aws eks get-token, aws-iam-authenticator). */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.'
/** The signed header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id'
/** X-Amz-Expires of the presigned URL (STS honours it as 15 minutes for this use; 60 is what the tools send). */
export const PRESIGN_SECONDS = 60
/** A token is good for 15 minutes after signing; we renew it well before (like client-go's 14 minutes). */
export const TOKEN_RENEW_MS = 10 * 60 * 1000

export interface EksToken {
  token: string
  /** When it was signed (ms since the epoch). */
  signedAt: number
  /** When we stop using it and sign a new one. */
  renewAt: number
}

export interface EksTokenOptions {
  clusterName: string
  region: string
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider
  now?: () => number
}

/** The STS host of a region, in its partition (China regions use amazonaws.com.cn). */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`
}

/** RFC 3986 query encoding, as SigV4 canonicalises it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
  )
}

/**
 * Builds the EKS bearer token natively: a SigV4-presigned STS GetCallerIdentity GET with the signed
 * x-k8s-aws-id header, base64url-encoded without padding behind "k8s-aws-v1.". No AWS CLI, no kubeconfig.
 */
export async function createEksToken(options: EksTokenOptions): Promise<EksToken> {
  const now = options.now ?? Date.now
  const host = stsHost(options.region)
  // The signer loads with the first token, never on import: a run that fails on its inputs does not pay for it.
  const [{ Sha256 }, { HttpRequest }, { SignatureV4 }] = await Promise.all([
    import('@aws-crypto/sha256-js'),
    import('@smithy/protocol-http'),
    import('@smithy/signature-v4')
  ])
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [CLUSTER_ID_HEADER]: options.clusterName }
  })
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    uriEscapePath: true
  })
  const signedAt = now()
  const signed = await signer.presign(request, {
    expiresIn: PRESIGN_SECONDS,
    signingDate: new Date(signedAt),
    unhoistableHeaders: new Set([CLUSTER_ID_HEADER])
  })
  const query = Object.entries(signed.query ?? {})
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&')
  const url = `https://${host}/?${query}`
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    signedAt,
    renewAt: signedAt + TOKEN_RENEW_MS
  }
}

/** Decodes a token back to its presigned URL (for tests and diagnostics; never log the result). */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new Error('not an EKS token')
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'))
}
