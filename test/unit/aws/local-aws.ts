/**
 * Loopback stand-ins for the two endpoints OIDC authentication talks to:
 * - a GitHub Actions ID-token endpoint (the protocol @actions/core's getIDToken speaks: GET <url>&audience=…
 *   with `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`, answering `{"value": "<jwt>"}`);
 * - an STS endpoint speaking the awsQuery protocol (form-encoded POST, XML answers and STS error XML) for
 *   AssumeRoleWithWebIdentity, AssumeRole and GetCallerIdentity. Signed calls are verified with SigV4 against the
 *   secrets it issued, so a test can prove that the assumed credentials were really used.
 * Test code only: never imported by the product.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Sha256 } from '@aws-crypto/sha256-js'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'

export const REQUEST_TOKEN = 'runtime-request-token-not-a-secret-for-tests'

export interface TokenEndpoint {
  url: string
  requests: { audience: string | null; authorization: string | undefined }[]
  /** Claims of the next tokens; `aud` comes from the request when absent. */
  claims: { sub: string; iss: string; aud?: string }
  close(): Promise<void>
}

export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'test' })}.${part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`
}

export async function startTokenEndpoint(): Promise<TokenEndpoint> {
  let counter = 0
  const endpoint: TokenEndpoint = {
    url: '',
    requests: [],
    claims: {
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      iss: 'https://token.actions.githubusercontent.com'
    },
    close: () => Promise.resolve()
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const audience = url.searchParams.get('audience')
    endpoint.requests.push({ audience, authorization: req.headers.authorization })
    if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"message":"bad request token"}')
      return
    }
    counter++
    const token = fakeJwt({
      ...endpoint.claims,
      aud: endpoint.claims.aud ?? audience ?? 'https://github.com/octo-org',
      jti: `token-${counter}`,
      iat: 1_700_000_000 + counter
    })
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ count: 1, value: token }))
  })
  endpoint.url = `${await listen(server)}/token?api-version=2.0`
  endpoint.close = () => close(server)
  return endpoint
}

export interface StsRequest {
  action: string
  params: Record<string, string>
  headers: IncomingMessage['headers']
  /** The access key that signed the request (undefined for unsigned calls). */
  accessKeyId: string | undefined
  /** True when the SigV4 signature was recomputed and matched. */
  signatureValid: boolean
}

export interface StsError {
  status: number
  code: string
  message: string
}

export interface IssuedCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  roleArn: string
  sessionName: string
}

export interface LocalSts {
  url: string
  requests: StsRequest[]
  /** Requests of one action. */
  calls(action: string): StsRequest[]
  /** Errors to answer with, in order, before behaving normally again (per action). */
  failNext(action: string, ...errors: StsError[]): void
  /** Expiration of the credentials it issues (default: one hour from now). */
  expiration: () => Date
  issued: IssuedCredentials[]
  /** Registers credentials the stand-in accepts for signed calls (e.g. "ambient" keys). */
  accept(credentials: Omit<IssuedCredentials, 'roleArn' | 'sessionName'> & { arn: string }): void
  close(): Promise<void>
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'

export async function startLocalSts(): Promise<LocalSts> {
  const failures = new Map<string, StsError[]>()
  const known = new Map<
    string,
    { secretAccessKey: string; sessionToken?: string; arn: string; account: string }
  >()
  let counter = 0
  const sts: LocalSts = {
    url: '',
    requests: [],
    calls: (action) => sts.requests.filter((r) => r.action === action),
    failNext: (action, ...errors) =>
      failures.set(action, [...(failures.get(action) ?? []), ...errors]),
    expiration: () => new Date(Date.now() + 3600_000),
    issued: [],
    accept: (c) =>
      known.set(c.accessKeyId, {
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        arn: c.arn,
        account: /:(\d{12}):/.exec(c.arn)?.[1] ?? '000000000000'
      }),
    close: () => Promise.resolve()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req)
    const params = Object.fromEntries(new URLSearchParams(body))
    const action = params['Action'] ?? ''
    const auth = req.headers.authorization
    const accessKeyId = auth ? /Credential=([^/]+)\//.exec(auth)?.[1] : undefined
    const signer = accessKeyId ? known.get(accessKeyId) : undefined
    const signatureValid = signer ? await verifySignature(req, body, signer) : false
    sts.requests.push({ action, params, headers: req.headers, accessKeyId, signatureValid })

    const queued = failures.get(action)
    const failure = queued?.shift()
    if (failure) return sendError(res, failure)

    const role = params['RoleArn'] ?? ''
    const sessionName = params['RoleSessionName'] ?? ''
    const account = /:(\d{12}):/.exec(role)?.[1] ?? '000000000000'
    const roleName = role.split('/').pop() ?? 'role'
    const assumedArn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`

    const issue = (): string => {
      counter++
      const creds: IssuedCredentials = {
        accessKeyId: `ASIATESTKEY${String(counter).padStart(9, '0')}`,
        secretAccessKey: `secret/${counter}+${'s'.repeat(24)}`,
        sessionToken: `session-token-${counter}-${'t'.repeat(40)}`,
        roleArn: role,
        sessionName
      }
      sts.issued.push(creds)
      known.set(creds.accessKeyId, { ...creds, arn: assumedArn, account })
      return (
        `<AssumedRoleUser><Arn>${assumedArn}</Arn><AssumedRoleId>AROATEST:${sessionName}</AssumedRoleId></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${creds.sessionToken}</SessionToken><Expiration>${sts.expiration().toISOString()}</Expiration></Credentials>`
      )
    }

    switch (action) {
      case 'AssumeRoleWithWebIdentity': {
        if (auth)
          return sendError(res, {
            status: 400,
            code: 'InvalidParameterValue',
            message: 'unexpected signature'
          })
        if (params['Tags.member.1.Key']) {
          return sendError(res, {
            status: 400,
            code: 'ValidationError',
            message: 'Tags are not allowed here'
          })
        }
        const claims = JSON.parse(
          Buffer.from(params['WebIdentityToken']?.split('.')[1] ?? '', 'base64url').toString() ||
            '{}'
        ) as { sub?: string; aud?: string }
        return sendXml(
          res,
          action,
          `<SubjectFromWebIdentityToken>${claims.sub ?? ''}</SubjectFromWebIdentityToken><Audience>${claims.aud ?? ''}</Audience>` +
            `${issue()}<Provider>token.actions.githubusercontent.com</Provider>`
        )
      }
      case 'AssumeRole': {
        if (!signer || !signatureValid) {
          return sendError(res, {
            status: 403,
            code: 'SignatureDoesNotMatch',
            message: 'bad signature'
          })
        }
        return sendXml(res, action, issue())
      }
      case 'GetCallerIdentity': {
        if (!signer) {
          return sendError(res, {
            status: 403,
            code: 'InvalidClientTokenId',
            message: 'The security token included in the request is invalid.'
          })
        }
        if (!signatureValid) {
          return sendError(res, {
            status: 403,
            code: 'SignatureDoesNotMatch',
            message: 'bad signature'
          })
        }
        return sendXml(
          res,
          action,
          `<Arn>${signer.arn}</Arn><UserId>AROATEST:x</UserId><Account>${signer.account}</Account>`
        )
      }
      default:
        return sendError(res, {
          status: 400,
          code: 'InvalidAction',
          message: `Could not find operation ${action}`
        })
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error))
    })
  })
  sts.url = await listen(server)
  sts.close = () => close(server)
  return sts
}

/** A 4xx/5xx STS error body in the awsQuery shape. */
function sendError(res: ServerResponse, error: StsError): void {
  res
    .writeHead(error.status, { 'content-type': 'text/xml' })
    .end(
      `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>req-err-1</RequestId></ErrorResponse>`
    )
}

function sendXml(res: ServerResponse, action: string, result: string): void {
  res
    .writeHead(200, { 'content-type': 'text/xml' })
    .end(
      `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${action}Response>`
    )
}

/** Recomputes the SigV4 signature over the headers the client signed and compares it. */
async function verifySignature(
  req: IncomingMessage,
  body: string,
  creds: { secretAccessKey: string; sessionToken?: string }
): Promise<boolean> {
  const auth = req.headers.authorization ?? ''
  const match =
    /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=(\w+)/.exec(
      auth
    )
  const amzDate = req.headers['x-amz-date']
  if (!match || typeof amzDate !== 'string') return false
  const [, accessKeyId, , region, service, signedHeaders] = match as unknown as string[]
  const headers: Record<string, string> = {}
  for (const name of (signedHeaders ?? '').split(';')) {
    const value = req.headers[name]
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`)
  const request = new HttpRequest({
    method: req.method ?? 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body
  })
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {})
    },
    region: region ?? '',
    service: service ?? '',
    sha256: Sha256
  })
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`
  )
  const signed = await signer.sign(request, { signingDate })
  return signed.headers['authorization'] === auth
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}
