import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { httpFetch } from '@shipline/action-kit'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let server: Server
let base: string
const seen: Seen[] = []
/** Not valid UTF-8: a text round trip would change these bytes. */
const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41])
/** The same server under another origin (localhost, not 127.0.0.1). */
let otherOrigin: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const path = req.url ?? ''
      if (path === '/json') res.setHeader('content-type', 'application/json').end('{"value":"jwt"}')
      else if (path === '/missing') res.writeHead(404).end('no such thing')
      else if (path === '/see-other') res.writeHead(303, { location: '/json' }).end()
      else if (path === '/temporary') res.writeHead(307, { location: '/echo' }).end()
      else if (path === '/loop') res.writeHead(302, { location: '/loop' }).end()
      else if (path === '/slow') setTimeout(() => res.end('late'), 2_000)
      else if (path === '/binary')
        res.writeHead(200, { 'x-one': 'a', 'set-cookie': ['b=1', 'c=2'] }).end(BINARY)
      else if (path.startsWith('/elsewhere'))
        res.writeHead(302, { location: `${otherOrigin}/echo` }).end()
      else res.end(`${req.method} ${body}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${port}`
  otherOrigin = `http://localhost:${port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('httpFetch', () => {
  it('GETs with the given headers and reads JSON', async () => {
    const response = await httpFetch(`${base}/json`, { headers: { Authorization: 'Bearer t' } })
    expect(response.status).toBe(200)
    expect(response.ok).toBe(true)
    expect(response.headers['content-type']).toBe('application/json')
    await expect(response.json()).resolves.toEqual({ value: 'jwt' })
    expect(seen.at(-1)).toMatchObject({ method: 'GET', headers: { authorization: 'Bearer t' } })
  })

  it('reports a non-2xx answer as not ok, with its body', async () => {
    const response = await httpFetch(`${base}/missing`)
    expect(response).toMatchObject({ status: 404, ok: false })
    await expect(response.text()).resolves.toBe('no such thing')
  })

  it('sends a body with its length', async () => {
    const response = await httpFetch(`${base}/echo`, { method: 'POST', body: '{"a":"é"}' })
    await expect(response.text()).resolves.toBe('POST {"a":"é"}')
    expect(seen.at(-1)?.headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')))
  })

  it('follows a 303 as a GET and a 307 with the same method and body', async () => {
    const other = await httpFetch(`${base}/see-other`, { method: 'POST', body: 'x' })
    await expect(other.json()).resolves.toEqual({ value: 'jwt' })
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/json', body: '' })
    const temporary = await httpFetch(`${base}/temporary`, { method: 'PUT', body: 'y' })
    await expect(temporary.text()).resolves.toBe('PUT y')
  })

  it('gives up on a redirect loop and on a server that does not answer in time', async () => {
    await expect(httpFetch(`${base}/loop`, { maxRedirects: 2 })).rejects.toThrow(
      /too many redirects/
    )
    await expect(httpFetch(`${base}/slow`, { timeoutMs: 100 })).rejects.toThrow(
      /no answer from 127\.0\.0\.1:\d+ within 100 ms/
    )
  })

  it('gives the exact body bytes and reads a header by any case, repeated ones joined', async () => {
    const response = await httpFetch(`${base}/binary`)
    await expect(response.bytes()).resolves.toEqual(BINARY)
    expect(response.header('X-One')).toBe('a')
    expect(response.header('set-cookie')).toBe('b=1, c=2')
    expect(response.header('x-absent')).toBeUndefined()
  })

  it('keeps credentials on a same-origin redirect and drops them on a redirect to another origin', async () => {
    const headers = { Authorization: 'Bearer secret', Cookie: 'k=v', accept: 'text/plain' }
    await httpFetch(`${base}/see-other`, { headers })
    expect(seen.at(-1)?.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'k=v' })
    await httpFetch(`${base}/elsewhere`, { headers })
    const last = seen.at(-1)
    expect(last).toMatchObject({
      url: '/echo',
      headers: { host: otherOrigin.slice(7), accept: 'text/plain' }
    })
    expect(last?.headers).not.toHaveProperty('authorization')
    expect(last?.headers).not.toHaveProperty('cookie')
  })

  it('refuses a scheme it cannot speak, and a refused connection is an error', async () => {
    await expect(httpFetch('ftp://example.com/x')).rejects.toThrow(/unsupported URL scheme ftp:/)
    await expect(httpFetch('http://127.0.0.1:1/')).rejects.toThrow(/ECONNREFUSED/)
  })
})
