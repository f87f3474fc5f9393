import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import {
  MANIFEST_ACCEPT,
  parseChallenge,
  parseImageReference,
  registryApi,
  RegistryLookupError,
  resolveRegistryDigest
} from '../../../packages/oci/src/index.js'

const D = `sha256:${'e'.repeat(64)}`

interface Call {
  url: string
  method: string
  headers: Record<string, string>
}

/** A scripted fetch: each handler answers one call, in order. */
function scripted(...answers: ((call: Call) => Response)[]): {
  fetch: typeof fetch
  calls: Call[]
} {
  const calls: Call[] = []
  const fake = (input: string | URL, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      url: input.toString(),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>
    }
    calls.push(call)
    const answer = answers[calls.length - 1]
    if (!answer) return Promise.reject(new Error('unexpected call'))
    return Promise.resolve(answer(call))
  }
  return { fetch: fake as unknown as typeof fetch, calls }
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
    const { fetch, calls } = scripted(
      () =>
        new Response(null, {
          status: 401,
          headers: {
            'www-authenticate':
              'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"'
          }
        }),
      () => Response.json({ token: 'anon' }),
      () => new Response(null, { status: 200, headers: { 'docker-content-digest': D } })
    )
    await expect(resolveRegistryDigest(ref, { fetch })).resolves.toBe(D)
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
    const { fetch } = scripted(
      () => new Response(null, { status: 200 }),
      () => new Response(body, { status: 200 })
    )
    await expect(resolveRegistryDigest(ref, { fetch })).resolves.toBe(
      `sha256:${createHash('sha256').update(body).digest('hex')}`
    )
  })

  it.each<[string, (() => Response)[], RegExp]>([
    [
      'a registry that wants credentials',
      [
        () =>
          new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } })
      ],
      /requires credentials/
    ],
    [
      'a token realm downgraded to http',
      [
        () =>
          new Response(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token"' }
          })
      ],
      /not HTTPS/
    ],
    ['an unknown tag', [() => new Response(null, { status: 404 })], /was not found/],
    ['a server error', [() => new Response(null, { status: 503 })], /answered HTTP 503/]
  ])('fails plainly for %s', async (_label, answers, message) => {
    const { fetch } = scripted(...answers)
    const failure = resolveRegistryDigest(ref, { fetch })
    await expect(failure).rejects.toBeInstanceOf(RegistryLookupError)
    await expect(failure).rejects.toThrow(message)
  })

  it('reports an unreachable registry', async () => {
    const fetch = (() =>
      Promise.reject(
        new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') })
      )) as typeof globalThis.fetch
    await expect(resolveRegistryDigest(ref, { fetch })).rejects.toThrow(
      'ghcr.io could not be reached (ECONNREFUSED)'
    )
  })
})
