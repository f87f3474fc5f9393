import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import {
  MANIFEST_ACCEPT,
  parseChallenge,
  parseImageReference,
  registryApi,
  type RegistryHttp,
  RegistryLookupError,
  resolveRegistryDigest
} from '../../../packages/oci/src/index.js'
import type { HttpResponse } from '@shipline/action-kit'

const D = `sha256:${'e'.repeat(64)}`

interface Call {
  url: string
  method: string
  headers: Record<string, string>
}

/** An answer as action-kit's httpFetch gives it. */
function answer(
  status: number,
  options: { headers?: Record<string, string>; body?: string } = {}
): HttpResponse {
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])
  )
  const body = Buffer.from(options.body ?? '')
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    header: (name) => headers[name.toLowerCase()],
    text: () => Promise.resolve(body.toString('utf8')),
    json: () => Promise.resolve().then(() => JSON.parse(body.toString('utf8')) as unknown),
    bytes: () => Promise.resolve(body)
  }
}

/** A scripted client: each handler answers one call, in order. */
function scripted(...answers: ((call: Call) => HttpResponse)[]): {
  http: RegistryHttp
  calls: Call[]
} {
  const calls: Call[] = []
  const http: RegistryHttp = (url, options) => {
    const call: Call = { url, method: options.method ?? 'GET', headers: options.headers ?? {} }
    calls.push(call)
    const next = answers[calls.length - 1]
    if (!next) return Promise.reject(new Error('unexpected call'))
    return Promise.resolve(next(call))
  }
  return { http, calls }
}

describe('registryApi', () => {
  it.each([
    ['nginx:1.27', 'https://registry-1.docker.io', 'library/nginx'],
    ['docker.io/bitnami/redis:7', 'https://registry-1.docker.io', 'bitnami/redis'],
    [
      'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
      'https://public.ecr.aws',
      'aws-observability/aws-for-fluent-bit'
    ],
    ['127.0.0.1:5000/acme/api:v1', 'http://127.0.0.1:5000', 'acme/api'],
    ['localhost:5000/acme/api:v1', 'http://localhost:5000', 'acme/api']
  ])('%s → %s/v2/%s', (image, baseUrl, repository) => {
    expect(registryApi(parseImageReference(image))).toEqual({ baseUrl, repository })
  })
})

describe('parseChallenge', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"'
      )
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://ghcr.io/token',
        service: 'ghcr.io',
        scope: 'repository:acme/api:pull'
      }
    })
  })
})

describe('resolveRegistryDigest', () => {
  const ref = parseImageReference('ghcr.io/acme/api:v1.2.3')

  it('follows the anonymous token flow and returns the digest the registry serves for the tag', async () => {
    const { http, calls } = scripted(
      () =>
        answer(401, {
          headers: {
            'WWW-Authenticate':
              'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"'
          }
        }),
      () => answer(200, { body: JSON.stringify({ token: 'anon' }) }),
      () => answer(200, { headers: { 'Docker-Content-Digest': D } })
    )
    await expect(resolveRegistryDigest(ref, { http })).resolves.toBe(D)
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'HEAD https://ghcr.io/v2/acme/api/manifests/v1.2.3',
      'GET https://ghcr.io/token?service=ghcr.io&scope=repository%3Aacme%2Fapi%3Apull',
      'HEAD https://ghcr.io/v2/acme/api/manifests/v1.2.3'
    ])
    expect(calls[0]?.headers['accept']).toBe(MANIFEST_ACCEPT)
    expect(calls[2]?.headers['authorization']).toBe('Bearer anon')
  })

  it('hashes the manifest bytes when the registry sends no digest header', async () => {
    const body = '{"schemaVersion":2}'
    const { http } = scripted(
      () => answer(200),
      () => answer(200, { body })
    )
    await expect(resolveRegistryDigest(ref, { http })).resolves.toBe(
      `sha256:${createHash('sha256').update(body).digest('hex')}`
    )
  })

  it.each<[string, (() => HttpResponse)[], RegExp]>([
    [
      'a registry that wants credentials',
      [() => answer(401, { headers: { 'www-authenticate': 'Basic realm="x"' } })],
      /requires credentials/
    ],
    [
      'a token realm downgraded to http',
      [
        () =>
          answer(401, {
            headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token"' }
          })
      ],
      /not HTTPS/
    ],
    ['an unknown tag', [() => answer(404)], /was not found/],
    ['a server error', [() => answer(503)], /answered HTTP 503/]
  ])('fails plainly for %s', async (_label, answers, message) => {
    const { http } = scripted(...answers)
    const failure = resolveRegistryDigest(ref, { http })
    await expect(failure).rejects.toBeInstanceOf(RegistryLookupError)
    await expect(failure).rejects.toThrow(message)
  })

  it('reports an unreachable registry, over the real client', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await expect(
      resolveRegistryDigest(parseImageReference('127.0.0.1:1/acme/api:v1'), { timeoutMs: 5_000 })
    ).rejects.toThrow(
      /^127\.0\.0\.1:1 could not be reached \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/
    )
  })
})
