/**
 * A small HTTP(S) client on `node:http`/`node:https`, for the few plain requests the actions make (the runner's OIDC
 * token, an image config blob, the GitHub REST API).
 *
 * Why not the global `fetch`: on Node 20 its first use loads undici and compiles its WebAssembly HTTP parser, and
 * the process then waits at exit for V8 to finish optimising that module: about 0.2 s per action run, measured
 * (bench/README.md, target 4). The AWS SDK already loads `node:https`, so this costs nothing extra.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Fails the request after this long (default 60 s). */
  timeoutMs?: number
  /** Redirects to follow (default 5), as `fetch` does. */
  maxRedirects?: number
}

export interface HttpResponse {
  status: number
  ok: boolean
  headers: IncomingHttpHeaders
  /** One header's value (repeated headers joined with ", "), or undefined when absent. */
  header(name: string): string | undefined
  text(): Promise<string>
  json(): Promise<unknown>
  /** The body's exact bytes (for hashing). */
  bytes(): Promise<Buffer>
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

export async function httpFetch(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const { status, headers, body } = await send(new URL(url), options, options.maxRedirects ?? 5)
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    header: (name) => {
      const value = headers[name.toLowerCase()]
      return Array.isArray(value) ? value.join(', ') : value
    },
    text: () => Promise.resolve(body.toString('utf8')),
    json: () => Promise.resolve().then(() => JSON.parse(body.toString('utf8')) as unknown),
    bytes: () => Promise.resolve(body)
  }
}

/** Headers that must not follow a redirect to another origin (as `fetch` drops them). */
const ORIGIN_BOUND_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization'])

function withoutCredentials(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !ORIGIN_BOUND_HEADERS.has(name.toLowerCase()))
  )
}

function send(
  url: URL,
  options: HttpOptions,
  redirectsLeft: number
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`))
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  const timeoutMs = options.timeoutMs ?? 60_000
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          ...options.headers,
          ...(options.body === undefined
            ? {}
            : { 'content-length': String(Buffer.byteLength(options.body)) })
        }
      },
      (res) => {
        const status = res.statusCode ?? 0
        const location = res.headers.location
        if (REDIRECTS.has(status) && location) {
          res.resume()
          if (redirectsLeft <= 0) {
            reject(new Error(`too many redirects (last to ${location})`))
            return
          }
          // 303 (and 301/302 after a POST, as browsers and fetch do) turn into a GET without a body.
          const method = options.method ?? 'GET'
          const keepsMethod = status === 307 || status === 308 || method === 'GET'
          const target = new URL(location, url)
          let next: HttpOptions = keepsMethod
            ? options
            : { ...options, method: 'GET', body: undefined }
          if (target.origin !== url.origin)
            next = { ...next, headers: withoutCredentials(next.headers) }
          send(target, next, redirectsLeft - 1).then(resolve, reject)
          return
        }
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) }))
      }
    )
    req.setTimeout(timeoutMs, () =>
      req.destroy(
        new Error(
          `no answer from ${url.host} within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`
        )
      )
    )
    req.on('error', reject)
    req.end(options.body)
  })
}
