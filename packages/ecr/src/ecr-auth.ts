import type { ECRClient } from '@aws-sdk/client-ecr'
import { ActionError, maskSecret } from '@shipline/action-kit'
import { describeAwsError } from '@shipline/aws'
import { loadEcr } from './sdk.js'

export interface EcrLogin {
  /** Always "AWS" for ECR private registries. */
  username: string
  /** The registry password (masked as soon as it is decoded). */
  password: string
  /** The registry host as docker addresses it (scheme stripped), e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com. */
  registry: string
  /** The proxy endpoint exactly as ECR returned it (with its scheme). */
  proxyEndpoint: string
  expiresAt: Date | undefined
}

/** The docker config key / host of an ECR proxy endpoint ("https://host[:port]" → "host[:port]"). */
export function registryHostOf(proxyEndpoint: string): string {
  return proxyEndpoint.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '')
}

/**
 * With a custom ECR endpoint (AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL, e.g. the local stack), the registry that
 * endpoint serves is learned from GetAuthorizationToken's proxyEndpoint; against AWS itself there is none.
 */
export async function endpointRegistryHost(ecr: ECRClient): Promise<string | undefined> {
  if (!process.env['AWS_ENDPOINT_URL_ECR'] && !process.env['AWS_ENDPOINT_URL']) return undefined
  try {
    const out = await ecr.send(new (await loadEcr()).GetAuthorizationTokenCommand({}))
    const endpoint = out.authorizationData?.[0]?.proxyEndpoint
    return endpoint ? registryHostOf(endpoint) : undefined
  } catch {
    return undefined
  }
}

/**
 * Decodes an ECR authorization token (base64 of "user:password"), masking both the token and the password
 * before anything can print them.
 */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  maskSecret(token)
  const decoded = Buffer.from(token, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new ActionError(
      'ECR GetAuthorizationToken returned a token that is not base64 "user:password"',
      'Re-run the job; if it persists, check the ECR endpoint the job talks to (AWS_ENDPOINT_URL_ECR)'
    )
  }
  const password = decoded.slice(colon + 1)
  maskSecret(password)
  return { username: decoded.slice(0, colon), password }
}

/** ECR GetAuthorizationToken for one registry (the caller's by default, or `registryId`). */
export async function getEcrLogin(ecr: ECRClient, registryId?: string): Promise<EcrLogin> {
  let out
  try {
    out = await ecr.send(
      new (await loadEcr()).GetAuthorizationTokenCommand(
        registryId ? { registryIds: [registryId] } : {}
      )
    )
  } catch (error) {
    throw describeAwsError(error, {
      action: 'ecr:GetAuthorizationToken',
      resource: registryId ? `registry ${registryId}` : undefined
    })
  }
  const data = out.authorizationData?.[0]
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new ActionError(
      `ECR GetAuthorizationToken returned no authorization data${registryId ? ` for registry ${registryId}` : ''}`,
      'Check "registry-id" and that the role may call ecr:GetAuthorizationToken'
    )
  }
  const { username, password } = decodeAuthorizationToken(data.authorizationToken)
  return {
    username,
    password,
    registry: registryHostOf(data.proxyEndpoint),
    proxyEndpoint: data.proxyEndpoint,
    expiresAt: data.expiresAt
  }
}
