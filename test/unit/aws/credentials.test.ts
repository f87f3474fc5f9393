import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  jest,
  test
} from '@jest/globals'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { ActionError } from '@shipline/action-kit'
import {
  type AwsAuthInputs,
  clientConfig,
  createAwsClients,
  getCredentials,
  makeClient
} from '@shipline/aws'
import { ISOLATED_AWS_ENV, envSandbox } from './env.js'
import {
  type LocalSts,
  REQUEST_TOKEN,
  type TokenEndpoint,
  startLocalSts,
  startTokenEndpoint
} from './local-aws.js'

const ROLE = 'arn:aws:iam::123456789012:role/shipline-deploy'

let sts: LocalSts
let tokens: TokenEndpoint
const env = envSandbox()
let stdout: string[]
const sleeps: number[] = []
const sleep = (ms: number): Promise<void> => {
  sleeps.push(ms)
  return Promise.resolve()
}

function auth(overrides: Partial<AwsAuthInputs> = {}): AwsAuthInputs {
  return {
    actionName: 'deploy-ecs',
    roleToAssume: ROLE,
    region: 'us-east-1',
    audience: 'sts.amazonaws.com',
    roleSessionName: 'shipline-deploy-ecs-42-1',
    roleDurationSeconds: 3600,
    roleChaining: false,
    maxAttempts: 5,
    ...overrides
  }
}

/** Runs `fn` and returns the ActionError it throws. */
async function failure(fn: () => Promise<unknown>): Promise<ActionError> {
  try {
    await fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ActionError)
    return error as ActionError
  }
  throw new Error('expected a failure')
}

beforeAll(async () => {
  sts = await startLocalSts()
  tokens = await startTokenEndpoint()
})
afterAll(async () => {
  await sts.close()
  await tokens.close()
})
beforeEach(() => {
  sts.requests.length = 0
  sts.issued.length = 0
  sts.expiration = () => new Date(Date.now() + 3600_000)
  tokens.requests.length = 0
  sleeps.length = 0
  stdout = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk))
    return true
  })
  env.set({
    ...ISOLATED_AWS_ENV,
    AWS_ENDPOINT_URL_STS: sts.url,
    ACTIONS_ID_TOKEN_REQUEST_URL: tokens.url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN
  })
})
afterEach(() => {
  jest.restoreAllMocks()
  env.restore()
})

describe('OIDC: AssumeRoleWithWebIdentity', () => {
  test('assumes the role with the GitHub token and signs later calls with the returned credentials', async () => {
    const session = await createAwsClients(auth(), { sleep })

    expect(tokens.requests).toEqual([
      { audience: 'sts.amazonaws.com', authorization: `Bearer ${REQUEST_TOKEN}` }
    ])
    const [assume] = sts.calls('AssumeRoleWithWebIdentity')
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
    expect(assume?.params).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: 'shipline-deploy-ecs-42-1',
      DurationSeconds: '3600',
      Version: '2011-06-15'
    })
    expect(assume?.params['WebIdentityToken']?.split('.')).toHaveLength(3)
    expect(Object.keys(assume?.params ?? {}).filter((k) => k.startsWith('Tags'))).toEqual([])

    // GetCallerIdentity was signed (valid SigV4) by the key STS issued, with its session token.
    const issued = sts.issued[0]
    const [whoami] = sts.calls('GetCallerIdentity')
    expect(whoami?.accessKeyId).toBe(issued?.accessKeyId)
    expect(whoami?.signatureValid).toBe(true)
    expect(whoami?.headers['x-amz-security-token']).toBe(issued?.sessionToken)
    expect(session.identity).toEqual({
      accountId: '123456789012',
      arn: 'arn:aws:sts::123456789012:assumed-role/shipline-deploy/shipline-deploy-ecs-42-1'
    })

    // A client built from the session uses the same credentials for its own signed calls.
    const client = session.client(STSClient)
    await client.send(new GetCallerIdentityCommand({}))
    const last = sts.calls('GetCallerIdentity').at(-1)
    expect(last?.accessKeyId).toBe(issued?.accessKeyId)
    expect(last?.signatureValid).toBe(true)
    expect(last?.headers['user-agent']).toContain('shipline/deploy-ecs')
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
  })

  test('uses the audience input for the token request', async () => {
    await createAwsClients(auth({ audience: 'sts.amazonaws.com.cn' }), { sleep })
    expect(tokens.requests.map((r) => r.audience)).toEqual(['sts.amazonaws.com.cn'])
  })

  test('AccessDenied fails fast: one STS call, the token claims and the trust condition in the message', async () => {
    sts.failNext('AssumeRoleWithWebIdentity', {
      status: 403,
      code: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity'
    })
    const error = await failure(() => createAwsClients(auth(), { sleep }))

    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
    expect(sts.calls('GetCallerIdentity')).toHaveLength(0)
    expect(sleeps).toEqual([])
    expect(error.message).toContain('AssumeRoleWithWebIdentity')
    expect(error.message).toContain('AccessDenied')
    expect(error.message).toContain(ROLE)
    expect(error.message).toContain('sub="repo:octo-org/octo-repo:ref:refs/heads/main"')
    expect(error.message).toContain('aud="sts.amazonaws.com"')
    expect(error.message).toContain('iss="https://token.actions.githubusercontent.com"')
    // Exactly this subject (StringEquals), never a repository-wide StringLike wildcard.
    expect(error.message).toContain(
      '"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:octo-org/octo-repo:ref:refs/heads/main"}'
    )
    expect(error.message).not.toContain('StringLike')
    expect(error.message).toContain(
      'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'
    )
    // The token itself never appears in the message.
    const token = sts.calls('AssumeRoleWithWebIdentity')[0]?.params['WebIdentityToken'] ?? 'missing'
    expect(error.message).not.toContain(token)
    expect(error.message).not.toContain(token.split('.')[1])
  })

  test.each([
    ['InvalidIdentityToken', 400, 'No OpenIDConnect provider found in your account'],
    ['ExpiredTokenException', 400, 'Token expired']
  ])('%s fails fast with one STS call', async (code, status, message) => {
    sts.failNext('AssumeRoleWithWebIdentity', { status, code, message })
    const error = await failure(() => createAwsClients(auth(), { sleep }))
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
    expect(sleeps).toEqual([])
    expect(error.message).toContain(message)
    expect(error.message).toContain('sub="repo:octo-org/octo-repo:ref:refs/heads/main"')
  })

  test('a transient 5xx is retried with an injected backoff and then succeeds', async () => {
    sts.failNext(
      'AssumeRoleWithWebIdentity',
      { status: 500, code: 'InternalFailure', message: 'An internal error occurred' },
      { status: 503, code: 'ServiceUnavailable', message: 'Service unavailable' }
    )
    const session = await createAwsClients(auth(), { sleep, random: () => 0.5 })
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(3)
    expect(sleeps).toHaveLength(2)
    expect(sleeps[1]).toBeGreaterThan(sleeps[0] ?? Infinity)
    expect(session.identity.accountId).toBe('123456789012')
  })

  test('IDPCommunicationError and throttling are transient too', async () => {
    sts.failNext(
      'AssumeRoleWithWebIdentity',
      { status: 400, code: 'IDPCommunicationError', message: 'The IdP could not be reached' },
      { status: 400, code: 'Throttling', message: 'Rate exceeded' }
    )
    await createAwsClients(auth(), { sleep })
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(3)
  })

  test('transient failures stop after max-attempts with a clear error', async () => {
    const busy = { status: 500, code: 'InternalFailure', message: 'An internal error occurred' }
    sts.failNext('AssumeRoleWithWebIdentity', busy, busy, busy)
    const error = await failure(() => createAwsClients(auth({ maxAttempts: 3 }), { sleep }))
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(3)
    expect(sleeps).toHaveLength(2)
    expect(error.message).toContain('InternalFailure')
    expect(error.message).toContain('max-attempts')
  })

  test('a missing id-token permission is explained before any request', async () => {
    env.set({ ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined })
    const error = await failure(() => createAwsClients(auth(), { sleep }))
    expect(error.message).toContain('permissions: id-token: write')
    expect(error.message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL')
    expect(tokens.requests).toHaveLength(0)
    expect(sts.requests).toHaveLength(0)
  })

  test('masks the token and all three credential parts before anything else mentions them', async () => {
    await createAwsClients(auth(), { sleep })
    const issued = sts.issued[0]
    const token = sts.calls('AssumeRoleWithWebIdentity')[0]?.params['WebIdentityToken']
    const secrets = [token, issued?.accessKeyId, issued?.secretAccessKey, issued?.sessionToken]
    const lines = stdout.join('').split(/\r?\n/)
    for (const secret of secrets) {
      expect(secret).toBeTruthy()
      const mentions = lines.filter((line) => line.includes(secret as string))
      expect(mentions.length).toBeGreaterThan(0)
      expect(mentions[0]).toBe(`::add-mask::${secret}`)
      expect(mentions.every((line) => line.startsWith('::add-mask::'))).toBe(true)
    }
    // Only the assumed-role ARN and the expiry are logged.
    expect(
      lines.some((l) =>
        /Assumed role arn:aws:sts::123456789012:assumed-role\/shipline-deploy\/.+ expire at /.test(
          l
        )
      )
    ).toBe(true)
  })
})

describe('refresh', () => {
  test('the provider re-assumes (new ID token, new STS call) shortly before expiry', async () => {
    let now = Date.parse('2026-11-23T10:00:00Z')
    sts.expiration = () => new Date(now + 3600_000)
    const provider = getCredentials(auth(), { sleep, now: () => now })
    if (!provider) throw new Error('expected a provider')

    const first = await provider()
    expect(first.expiration?.toISOString()).toBe('2026-11-23T11:00:00.000Z')
    now += 49 * 60_000 // 11 minutes left: still fresh
    expect(await provider()).toBe(first)
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)

    now += 2 * 60_000 // 9 minutes left: inside the 10-minute refresh margin
    const second = await provider()
    expect(second.accessKeyId).not.toBe(first.accessKeyId)
    expect(second.expiration?.toISOString()).toBe('2026-11-23T11:51:00.000Z')
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(2)
    expect(tokens.requests).toHaveLength(2)
    expect(await provider()).toBe(second)
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(2)
  })

  test('short-lived credentials are reused for half their lifetime, not re-assumed on every call', async () => {
    let now = Date.parse('2026-11-23T10:00:00Z')
    sts.expiration = () => new Date(now + 4 * 60_000)
    const provider = getCredentials(auth(), { sleep, now: () => now })
    if (!provider) throw new Error('expected a provider')
    const first = await provider()
    now += 60_000
    expect(await provider()).toBe(first)
    now += 61_000
    expect(await provider()).not.toBe(first)
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(2)
  })

  test('concurrent callers share one refresh', async () => {
    const provider = getCredentials(auth(), { sleep })
    if (!provider) throw new Error('expected a provider')
    const results = await Promise.all([provider(), provider(), provider()])
    expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1)
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
  })

  test('an SDK client gets re-assumed credentials once the old ones near expiry', async () => {
    // Real time for the SDK (these credentials sit inside its 5-minute window, so it asks the provider on every
    // call); the provider's own clock is injected and moved past its refresh point between the two calls.
    let now = Date.now()
    sts.expiration = () => new Date(Date.now() + 4 * 60_000)
    const provider = getCredentials(auth(), { sleep, now: () => now })
    const client = makeClient(STSClient, clientConfig(auth(), provider))
    await client.send(new GetCallerIdentityCommand({}))
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(1)
    now += 3 * 60_000
    await client.send(new GetCallerIdentityCommand({}))
    const calls = sts.calls('GetCallerIdentity')
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(2)
    expect(calls.map((c) => c.accessKeyId)).toEqual(sts.issued.map((c) => c.accessKeyId))
    expect(calls.every((c) => c.signatureValid)).toBe(true)
  })
})

describe('role chaining and the default chain', () => {
  const ambient = {
    accessKeyId: 'AKIAAMBIENT000000001',
    secretAccessKey: 'ambient-secret-key-for-tests',
    sessionToken: 'ambient-session-token',
    arn: 'arn:aws:sts::210987654321:assumed-role/runner/i-0abc'
  }

  test('role-chaining assumes the role with AssumeRole signed by the ambient credentials', async () => {
    sts.accept(ambient)
    env.set({
      AWS_ACCESS_KEY_ID: ambient.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ambient.secretAccessKey,
      AWS_SESSION_TOKEN: ambient.sessionToken,
      ACTIONS_ID_TOKEN_REQUEST_URL: undefined
    })
    const session = await createAwsClients(auth({ roleChaining: true }), { sleep })
    const [assume] = sts.calls('AssumeRole')
    expect(sts.calls('AssumeRole')).toHaveLength(1)
    expect(sts.calls('AssumeRoleWithWebIdentity')).toHaveLength(0)
    expect(tokens.requests).toHaveLength(0)
    expect(assume?.accessKeyId).toBe(ambient.accessKeyId)
    expect(assume?.signatureValid).toBe(true)
    expect(assume?.params).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: 'shipline-deploy-ecs-42-1'
    })
    expect(sts.calls('GetCallerIdentity')[0]?.accessKeyId).toBe(sts.issued[0]?.accessKeyId)
    expect(session.identity.arn).toContain('assumed-role/shipline-deploy/')
  })

  test('role-chaining AccessDenied fails fast and names sts:AssumeRole', async () => {
    sts.accept(ambient)
    env.set({
      AWS_ACCESS_KEY_ID: ambient.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ambient.secretAccessKey,
      AWS_SESSION_TOKEN: ambient.sessionToken
    })
    sts.failNext('AssumeRole', {
      status: 403,
      code: 'AccessDenied',
      message: 'not authorized to perform: sts:AssumeRole'
    })
    const error = await failure(() => createAwsClients(auth({ roleChaining: true }), { sleep }))
    expect(sts.calls('AssumeRole')).toHaveLength(1)
    expect(error.message).toContain('"sts:AssumeRole"')
    expect(error.message).toContain(ROLE)
  })

  test('role-chaining without ambient credentials says what to provide', async () => {
    const error = await failure(() => createAwsClients(auth({ roleChaining: true }), { sleep }))
    expect(error.message).toContain('no ambient AWS credentials')
    expect(error.message).toContain(ROLE)
    expect(sts.requests).toHaveLength(0)
  })

  test('without role-to-assume the default chain is used and only GetCallerIdentity is called', async () => {
    sts.accept(ambient)
    env.set({
      AWS_ACCESS_KEY_ID: ambient.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ambient.secretAccessKey,
      AWS_SESSION_TOKEN: ambient.sessionToken
    })
    const session = await createAwsClients(auth({ roleToAssume: undefined }), { sleep })
    expect(session.credentials).toBeUndefined()
    expect(session.config).not.toHaveProperty('credentials')
    expect(session.identity).toEqual({ accountId: '210987654321', arn: ambient.arn })
    expect(tokens.requests).toHaveLength(0)
    expect(sts.requests.map((r) => r.action)).toEqual(['GetCallerIdentity'])
    expect(sts.requests[0]?.signatureValid).toBe(true)
  })

  test('without role-to-assume and without ambient credentials the error says what to set', async () => {
    const error = await failure(() =>
      createAwsClients(auth({ roleToAssume: undefined }), { sleep })
    )
    expect(error.message).toContain('No AWS credentials')
    expect(error.message).toContain('role-to-assume')
    expect(error.message).toContain('id-token: write')
    expect(sts.requests).toHaveLength(0)
  })
})
