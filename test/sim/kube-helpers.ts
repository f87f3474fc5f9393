/** Test helpers for the Kubernetes API simulator: EKS tokens (presigned STS GetCallerIdentity) and clients. */
import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import type * as K8s from '@kubernetes/client-node'
import type { SimStack } from '../../packages/sim/src/stack.js'

export interface Creds {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** `k8s-aws-v1.` + unpadded base64url of a presigned GetCallerIdentity URL signed with x-k8s-aws-id. */
export async function eksToken(
  creds: Creds,
  clusterName: string,
  options: {
    host?: string
    region?: string
    expiresIn?: number
    signingDate?: Date
    signHeader?: boolean
  } = {}
): Promise<string> {
  const region = options.region ?? 'us-east-1'
  const host = options.host ?? `sts.${region}.amazonaws.com`
  const signer = new SignatureV4({ credentials: creds, region, service: 'sts', sha256: Sha256 })
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host, ...(options.signHeader === false ? {} : { 'x-k8s-aws-id': clusterName }) }
    },
    { expiresIn: options.expiresIn ?? 60, signingDate: options.signingDate }
  )
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')
  const url = `https://${host}/?${qs}`
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`
}

/** Credentials of an assumed role through the simulated OIDC → STS flow. */
export async function assumeRole(
  stack: SimStack,
  roleArn = stack.roleArn,
  session = 'gha'
): Promise<Creds> {
  const sts = new STSClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' }
  })
  const { token } = stack.oidc.mint({ audience: 'sts.amazonaws.com' })
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: session,
      WebIdentityToken: token
    })
  )
  const c = out.Credentials!
  return {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken
  }
}

export interface SeededCluster {
  name: string
  endpoint: string
  caData: string
}

export async function seedCluster(
  stack: SimStack,
  name: string,
  accessEntries: unknown[],
  extra: Record<string, unknown> = {}
): Promise<SeededCluster> {
  const out = await stack.admin.post<{
    details: Array<{ name: string; endpoint: string; certificateAuthority: string }>
  }>('eks/seed', { clusters: [{ name, accessEntries, ...extra }] })
  const d = out.details[0]!
  return { name, endpoint: d.endpoint, caData: d.certificateAuthority }
}

export type K8sModule = typeof K8s

/**
 * Loads @kubernetes/client-node after the Node 20 zstd shim (a static import would evaluate the client's
 * undici before the shim under Jest's ESM loader).
 */
export async function loadK8s(): Promise<K8sModule> {
  await import('./client-node-shim.js')
  return import('@kubernetes/client-node')
}

export function kubeConfig(k8s: K8sModule, cluster: SeededCluster, token: string): K8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromOptions({
    clusters: [
      { name: cluster.name, server: cluster.endpoint, caData: cluster.caData, skipTLSVerify: false }
    ],
    users: [{ name: 'ci', token }],
    contexts: [{ name: 'ctx', cluster: cluster.name, user: 'ci' }],
    currentContext: 'ctx'
  })
  return kc
}

export const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'
export const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy'

/** Polls `fn` (advancing simulated time by `stepMs` each round) until it returns a truthy value. */
export async function until<T>(
  stack: SimStack,
  fn: () => Promise<T | undefined | false>,
  stepMs = 1000,
  rounds = 200
): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const v = await fn()
    if (v) return v
    stack.clock.advance(stepMs)
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('condition not reached')
}

/** A raw HTTPS request to the simulated API server, verifying its certificate against the cluster CA. */
export async function kubeFetch(
  cluster: SeededCluster,
  token: string | undefined,
  path: string,
  options: { method?: string; body?: unknown; contentType?: string } = {}
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const { request } = await import('node:https')
  const { request: httpRequest } = await import('node:http')
  const url = new URL(path, cluster.endpoint)
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? request : httpRequest)(
      url,
      {
        method: options.method ?? 'GET',
        ca: cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : undefined,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload !== undefined
            ? { 'content-type': options.contentType ?? 'application/json' }
            : {})
        }
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: Record<string, unknown>
          try {
            body = JSON.parse(text) as Record<string, unknown>
          } catch {
            body = {}
          }
          resolve({ status: res.statusCode ?? 0, body, text })
        })
      }
    )
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

/** The value at a dotted path (`a.b.0.c`) of parsed JSON. */
export function at(v: unknown, path: string): unknown {
  let cur = v
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}
