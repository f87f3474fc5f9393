import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { HttpsKubeApi, KubeApiError, type KubeObject } from '@shipline/kube'
import { generateTls } from '../../../packages/sim/src/kube/tls.js'

interface Seen {
  method: string
  url: string
  auth: string
  contentType: string | undefined
  body: string
}

const tls = generateTls('eks-deploy-unit')
let server: Server
let base = ''
const seen: Seen[] = []
let rejectNext = 0

beforeAll(async () => {
  if (!tls) throw new Error('openssl is needed to generate a test CA')
  server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        auth: req.headers.authorization ?? '',
        contentType: req.headers['content-type'],
        body
      })
      res.setHeader('content-type', 'application/json')
      if (rejectNext > 0) {
        rejectNext--
        res.statusCode = 401
        res.end(JSON.stringify({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' }))
        return
      }
      const url = new URL(req.url ?? '/', 'https://x')
      if (url.pathname === '/apis/apps/v1') {
        res.end(
          JSON.stringify({
            resources: [
              { name: 'deployments', kind: 'Deployment', namespaced: true },
              { name: 'deployments/status', kind: 'Deployment', namespaced: true }
            ]
          })
        )
      } else if (url.pathname === '/api/v1') {
        res.end(
          JSON.stringify({
            resources: [{ name: 'namespaces', kind: 'Namespace', namespaced: false }]
          })
        )
      } else if (url.searchParams.get('watch') === '1') {
        res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI')
        setTimeout(() => {
          res.write('FIED","object":{"metadata":{"name":"a"}}}\n')
          res.end()
        }, 20)
      } else if (req.method === 'GET' && url.pathname.endsWith('/missing')) {
        res.statusCode = 404
        res.end(JSON.stringify({ kind: 'Status', message: 'not found' }))
      } else if (req.method === 'GET' && url.pathname.endsWith('/deployments')) {
        res.end(JSON.stringify({ items: [{ metadata: { name: 'a' } }] }))
      } else if (req.method === 'PATCH') {
        res.statusCode = 409
        res.end(
          JSON.stringify({
            kind: 'Status',
            message: 'Apply failed with 1 conflict: conflict with "kubectl"'
          })
        )
      } else {
        res.end(JSON.stringify({ metadata: { name: 'x' } }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

function client(tokens: boolean[]) {
  let n = 0
  return new HttpsKubeApi({
    server: base,
    caData: Buffer.from(tls?.caPem ?? '').toString('base64'),
    token: (renew) => {
      tokens.push(renew === true)
      return Promise.resolve(`k8s-aws-v1.token${renew ? ++n : n}`)
    }
  })
}

describe('HttpsKubeApi', () => {
  it('server-side applies with field manager shipline, force and dry-run, verifying the cluster CA', async () => {
    const api = client([])
    const err = await api
      .apply(
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
        { dryRun: true, force: true }
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KubeApiError)
    expect((err as KubeApiError).code).toBe(409)
    const patch = seen.find((s) => s.method === 'PATCH')
    expect(patch?.url).toBe(
      '/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=shipline&force=true&dryRun=All'
    )
    expect(patch?.contentType).toBe('application/apply-patch+yaml')
    expect(JSON.parse(patch?.body ?? '')).toMatchObject({ kind: 'Deployment' })
    expect(patch?.auth).toBe('Bearer k8s-aws-v1.token0')
    api.close()
  })

  it('signs a new token and retries once on 401', async () => {
    const tokens: boolean[] = []
    const api = client(tokens)
    rejectNext = 1
    const before = seen.length
    await api.get('v1', 'Namespace', undefined, 'shop')
    expect(tokens).toEqual([false, true, false])
    expect(seen.slice(before).map((s) => `${s.url} ${s.auth}`)).toEqual([
      '/api/v1 Bearer k8s-aws-v1.token0',
      '/api/v1 Bearer k8s-aws-v1.token1',
      '/api/v1/namespaces/shop Bearer k8s-aws-v1.token1'
    ])
    rejectNext = 2
    await expect(api.get('v1', 'Namespace', undefined, 'x')).rejects.toMatchObject({ code: 401 })
    api.close()
  })

  it('gets (404 → undefined), lists with selectors, and parses watch streams split across chunks', async () => {
    const api = client([])
    expect(await api.get('apps/v1', 'Deployment', 'shop', 'missing')).toBeUndefined()
    const items = await api.list('apps/v1', 'Deployment', 'shop', { labelSelector: 'app=web' })
    expect(items).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' } }])
    expect(seen.at(-1)?.url).toBe(
      '/apis/apps/v1/namespaces/shop/deployments?labelSelector=app%3Dweb'
    )
    const events: string[] = []
    await new Promise<void>((resolve, reject) => {
      api
        .watch(
          'apps/v1',
          'Deployment',
          'shop',
          { fieldSelector: 'metadata.name=a' },
          (type: string, o: KubeObject) => events.push(`${type} ${o.metadata.name}`),
          () => resolve()
        )
        .catch(reject)
    })
    expect(events).toEqual(['ADDED a', 'MODIFIED a'])
    await expect(api.isNamespaced('apps/v1', 'Widget')).resolves.toBeUndefined()
    await expect(api.get('apps/v1', 'Widget', 'shop', 'w')).rejects.toThrow(
      /Unrecognized API version and kind/
    )
    api.close()
  })
})
