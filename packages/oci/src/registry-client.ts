/**
 * A minimal OCI distribution client: resolves a tag to the digest the registry serves for it
 * (`HEAD /v2/<name>/manifests/<tag>`, accepting image indexes and manifest lists as well as single manifests),
 * with the anonymous bearer-token flow public registries allow (the `WWW-Authenticate: Bearer realm=…` challenge,
 * then `GET <realm>?service=…&scope=repository:<name>:pull`). No credentials are ever sent.
 */
import { createHash } from 'node:crypto'
import { errorMessage, httpFetch, type HttpOptions, type HttpResponse } from '@shipline/action-kit'
import { formatImageReference, type ImageReference, isValidDigest } from './image-reference.js'

/** Manifest media types, the index/list types first (so a multi-platform tag resolves to its index). */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

const DOCKER_HUB_API = 'registry-1.docker.io'

export class RegistryLookupError extends Error {
  constructor(
    message: string,
    /** HTTP status of the failing response, when there was one. */
    readonly status?: number
  ) {
    super(message)
    this.name = 'RegistryLookupError'
  }
}

/** How the client sends a request (action-kit's httpFetch unless a test scripts it). */
export type RegistryHttp = (url: string, options: HttpOptions) => Promise<HttpResponse>

export interface RegistryClientOptions {
  http?: RegistryHttp
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number
}

/** Loopback registries speak plain HTTP (as Docker treats 127.0.0.0/8 as insecure); every other host HTTPS. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.replace(/:\d+$/, '')
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]'
}

/** The API base URL and repository path of a reference (Docker Hub short names → registry-1.docker.io/library/…). */
export function registryApi(ref: Pick<ImageReference, 'registry' | 'repository'>): {
  baseUrl: string
  repository: string
} {
  const hub = ref.registry === undefined || ref.registry === 'docker.io'
  const host = hub ? DOCKER_HUB_API : (ref.registry as string)
  const repository =
    hub && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository
  return { baseUrl: `${isLoopbackRegistry(host) ? 'http' : 'https'}://${host}`, repository }
}

/** Parses `Bearer realm="…",service="…",scope="…"` (also Basic) into its scheme and parameters. */
export function parseChallenge(
  header: string | undefined
): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header)
  if (!m) return undefined
  const params: Record<string, string> = {}
  const re = /([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g
  let p: RegExpExecArray | null
  while ((p = re.exec(m[2] as string)) !== null) {
    params[(p[1] as string).toLowerCase()] =
      p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '')
  }
  return { scheme: (m[1] as string).toLowerCase(), params }
}

/**
 * Resolves `ref`'s tag to a manifest digest through the registry's own API. Throws RegistryLookupError with a
 * plain reason (not found, needs credentials, unreachable, …) on failure.
 */
export async function resolveRegistryDigest(
  ref: ImageReference,
  options: RegistryClientOptions = {}
): Promise<string> {
  const send = options.http ?? httpFetch
  const timeoutMs = options.timeoutMs ?? 15_000
  const tag = ref.tag ?? 'latest'
  const { baseUrl, repository } = registryApi(ref)
  const url = `${baseUrl}/v2/${repository}/manifests/${encodeURIComponent(tag)}`
  const image = formatImageReference(ref)

  const call = async (target: string, init: HttpOptions): Promise<HttpResponse> => {
    try {
      return await send(target, { ...init, timeoutMs })
    } catch (error) {
      throw new RegistryLookupError(
        `${new URL(target).host} could not be reached (${errorMessage(error)})`
      )
    }
  }
  const head = (authorization?: string): Promise<HttpResponse> =>
    call(url, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) }
    })

  let authorization: string | undefined
  let res = await head()
  if (res.status === 401) {
    const challenge = parseChallenge(res.header('www-authenticate'))
    if (challenge?.scheme !== 'bearer' || !challenge.params['realm']) {
      throw new RegistryLookupError(
        `${new URL(url).host} requires credentials to read ${repository} (no anonymous token flow offered)`,
        401
      )
    }
    authorization = `Bearer ${await anonymousToken(challenge.params, repository, url, call)}`
    res = await head(authorization)
  }
  if (res.status === 404)
    throw new RegistryLookupError(`${image} was not found (no manifest for tag "${tag}")`, 404)
  if (res.status === 401 || res.status === 403)
    throw new RegistryLookupError(
      `${new URL(url).host} refused anonymous access to ${repository} (HTTP ${res.status}); the repository is private or does not exist`,
      res.status
    )
  if (!res.ok)
    throw new RegistryLookupError(`${new URL(url).host} answered HTTP ${res.status}`, res.status)

  const header = res.header('docker-content-digest')
  if (header && isValidDigest(header)) return header
  // Some registries omit the digest on HEAD: fetch the manifest and hash the exact bytes.
  const get = await call(url, {
    method: 'GET',
    headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) }
  })
  if (!get.ok)
    throw new RegistryLookupError(`${new URL(url).host} answered HTTP ${get.status}`, get.status)
  const body = await get.bytes()
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

async function anonymousToken(
  params: Record<string, string>,
  repository: string,
  registryUrl: string,
  call: (target: string, init: HttpOptions) => Promise<HttpResponse>
): Promise<string> {
  let realm: URL
  try {
    realm = new URL(params['realm'] as string)
  } catch {
    throw new RegistryLookupError(`the registry's token realm "${params['realm']}" is not a URL`)
  }
  const registry = new URL(registryUrl)
  if (
    realm.protocol !== 'https:' &&
    !(realm.protocol === 'http:' && registry.protocol === 'http:')
  ) {
    throw new RegistryLookupError(`the registry's token realm ${realm.origin} is not HTTPS`)
  }
  if (params['service']) realm.searchParams.set('service', params['service'])
  realm.searchParams.set('scope', params['scope'] || `repository:${repository}:pull`)
  const res = await call(realm.toString(), {
    method: 'GET',
    headers: { accept: 'application/json' }
  })
  if (!res.ok) {
    throw new RegistryLookupError(
      `${realm.host} refused an anonymous pull token for ${repository} (HTTP ${res.status}); the repository is private or does not exist`,
      res.status
    )
  }
  let body: { token?: unknown; access_token?: unknown }
  try {
    body = (await res.json()) as { token?: unknown; access_token?: unknown }
  } catch {
    throw new RegistryLookupError(`${realm.host} answered the token request with no JSON`)
  }
  const token = typeof body.token === 'string' ? body.token : body.access_token
  if (typeof token !== 'string' || token === '')
    throw new RegistryLookupError(`${realm.host} answered the token request without a token`)
  return token
}
