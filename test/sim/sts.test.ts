import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  InvalidIdentityTokenException,
  STSClient,
  STSServiceException
} from '@aws-sdk/client-sts'
import { getIDToken } from '@actions/core'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack

beforeAll(async () => {
  stack = await startStack({ registry: false })
})
afterAll(async () => {
  await stack.stop()
})

const sts = (creds?: {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}): STSClient =>
  new STSClient({
    ...stack.clientConfig,
    credentials: creds ?? stack.clientConfig.credentials,
    maxAttempts: 1
  })

async function mint(body: Record<string, unknown> = {}): Promise<string> {
  const { token } = await stack.admin.post<{ token: string }>('oidc/mint', {
    audience: 'sts.amazonaws.com',
    ...body
  })
  return token
}

async function errorOf(p: Promise<unknown>): Promise<STSServiceException> {
  try {
    await p
  } catch (e) {
    return e as STSServiceException
  }
  throw new Error('expected the call to fail')
}

describe('OIDC issuer', () => {
  it('answers the runner protocol that @actions/core getIDToken() speaks', async () => {
    const saved = { ...process.env }
    process.env['ACTIONS_ID_TOKEN_REQUEST_URL'] = stack.env['ACTIONS_ID_TOKEN_REQUEST_URL']
    process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] = stack.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']
    try {
      const jwt = await getIDToken('sts.amazonaws.com')
      const decode = (p: string | undefined): Record<string, unknown> =>
        JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
      const header = decode(jwt.split('.')[0])
      const payload = decode(jwt.split('.')[1])
      expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' })
      expect(payload).toMatchObject({
        iss: 'https://token.actions.githubusercontent.com',
        aud: 'sts.amazonaws.com',
        sub: 'repo:shipline/demo:ref:refs/heads/main',
        repository: 'shipline/demo',
        ref: 'refs/heads/main'
      })
      expect(payload['job_workflow_ref']).toMatch(
        /^shipline\/demo\/\.github\/workflows\/.+@refs\/heads\/main$/
      )
      expect(payload['sha']).toMatch(/^[0-9a-f]{40}$/)
      expect(Number(payload['exp'])).toBeGreaterThan(Number(payload['iat']))
      process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] = 'wrong'
      await expect(getIDToken('sts.amazonaws.com')).rejects.toThrow(/401/)
    } finally {
      process.env = saved
    }
  })

  it('serves discovery and a JWKS with the signing key', async () => {
    const info = await stack.admin.get<{ discoveryUrl: string }>('oidc')
    const config = (await (await fetch(info.discoveryUrl)).json()) as {
      issuer: string
      jwks_uri: string
    }
    expect(config.issuer).toBe('https://token.actions.githubusercontent.com')
    const jwks = (await (await fetch(config.jwks_uri)).json()) as {
      keys: Array<{ kid: string; kty: string; n: string }>
    }
    const token = await mint()
    const kid = (
      JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as {
        kid: string
      }
    ).kid
    expect(jwks.keys.find((k) => k.kid === kid)).toMatchObject({ kty: 'RSA' })
  })

  it('derives sub from the environment claim set through admin', async () => {
    await stack.admin.post('oidc/claims', { environment: 'production' })
    const { claims } = await stack.admin.post<{ claims: Record<string, unknown> }>('oidc/mint', {})
    expect(claims['sub']).toBe('repo:shipline/demo:environment:production')
    await stack.admin.delete('oidc/claims')
  })
})

describe('STS', () => {
  it('AssumeRoleWithWebIdentity (unsigned) issues session credentials that GetCallerIdentity accepts', async () => {
    const client = new STSClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' }
    })
    const out = await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: stack.roleArn,
        RoleSessionName: 'gha-1',
        WebIdentityToken: await mint(),
        DurationSeconds: 900
      })
    )
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(stack.clock.now())
    expect(out.SubjectFromWebIdentityToken).toBe('repo:shipline/demo:ref:refs/heads/main')
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${stack.accountId}:assumed-role/shipline-sim/gha-1`
    )
    const who = await sts({
      accessKeyId: out.Credentials?.AccessKeyId as string,
      secretAccessKey: out.Credentials?.SecretAccessKey as string,
      sessionToken: out.Credentials?.SessionToken
    }).send(new GetCallerIdentityCommand({}))
    expect(who).toMatchObject({ Account: stack.accountId, Arn: out.AssumedRoleUser?.Arn })
  })

  it('rejects an expired OIDC token with ExpiredTokenException', async () => {
    const token = await mint({ expiresInSeconds: 60 })
    stack.clock.advance(61_000)
    const err = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token
        })
      )
    )
    expect(err.constructor.name).toBe('ExpiredTokenException')
    expect(err.name).toBe('ExpiredTokenException')
    expect(err.message).toMatch(
      /^Token expired: current date\/time \d+ must be before the expiration date\/time\d+$/
    )
  })

  it('rejects a wrong audience, a bad signature and an unknown issuer with InvalidIdentityToken', async () => {
    const wrongAud = await mint({ audience: 'https://github.com/shipline' })
    const e1 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 's1',
          WebIdentityToken: wrongAud
        })
      )
    )
    expect(e1).toBeInstanceOf(InvalidIdentityTokenException)
    expect(e1.message).toBe('Incorrect token audience')

    const good = await mint()
    const [h, p] = good.split('.')
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), sub: 'repo:evil/x:ref:refs/heads/main' })).toString('base64url')}.${good.split('.')[2]}`
    const e2 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 's2',
          WebIdentityToken: tampered
        })
      )
    )
    expect(e2).toBeInstanceOf(InvalidIdentityTokenException)

    const otherIss = await mint({ claims: { iss: 'https://issuer.example.com' } })
    const e3 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 's3',
          WebIdentityToken: otherIss
        })
      )
    )
    expect(e3).toBeInstanceOf(InvalidIdentityTokenException)
    expect(e3.message).toBe(
      'No OpenIDConnect provider found in your account for https://issuer.example.com'
    )
  })

  it('rejects an unmatched sub with AccessDenied (403) and honours StringLike wildcards', async () => {
    const roleArn = `arn:aws:iam::${stack.accountId}:role/prod-deploy`
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: { sub: ['repo:shipline/*:environment:production'], aud: 'sts.amazonaws.com' }
    })
    const main = await mint()
    const err = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: main
        })
      )
    )
    expect(err.name).toBe('AccessDenied')
    expect(err.$metadata.httpStatusCode).toBe(403)
    expect(err.message).toBe('Not authorized to perform sts:AssumeRoleWithWebIdentity')
    const prod = await mint({ claims: { environment: 'production' } })
    const ok = await sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'sess',
        WebIdentityToken: prod
      })
    )
    expect(ok.SubjectFromWebIdentityToken).toBe('repo:shipline/demo:environment:production')
  })

  it('validates DurationSeconds and RoleSessionName', async () => {
    const token = await mint()
    const e1 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token,
          DurationSeconds: 600
        })
      )
    )
    expect(e1.name).toBe('ValidationError')
    const roleArn = `arn:aws:iam::${stack.accountId}:role/short`
    await stack.admin.post('sts/roles', { roleArn, trust: { sub: 'repo:*' } })
    const e2 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'ok',
          WebIdentityToken: token,
          DurationSeconds: 7200
        })
      )
    )
    expect(e2.message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'
    )
    const e3 = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'has space',
          WebIdentityToken: token
        })
      )
    )
    expect(e3.name).toBe('ValidationError')
  })

  it('expired session credentials get ExpiredToken; unknown keys InvalidClientTokenId / UnrecognizedClientException', async () => {
    const roleArn = `arn:aws:iam::${stack.accountId}:role/short-lived`
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: { sub: 'repo:*' },
      credentialTtlSeconds: 120
    })
    const out = await sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'sess',
        WebIdentityToken: await mint()
      })
    )
    const creds = {
      accessKeyId: out.Credentials?.AccessKeyId as string,
      secretAccessKey: out.Credentials?.SecretAccessKey as string,
      sessionToken: out.Credentials?.SessionToken
    }
    expect(out.Credentials?.Expiration?.getTime()).toBeLessThanOrEqual(stack.clock.now() + 120_000)
    await expect(sts(creds).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined()
    stack.clock.advance(121_000)
    const e1 = await errorOf(sts(creds).send(new GetCallerIdentityCommand({})))
    expect(e1.name).toBe('ExpiredToken')
    const ecr = new ECRClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: creds,
      maxAttempts: 1
    })
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      message: 'The security token included in the request is expired'
    })
    const e2 = await errorOf(
      sts({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(
        new GetCallerIdentityCommand({})
      )
    )
    expect(e2.name).toBe('InvalidClientTokenId')
    expect(e2.$metadata.httpStatusCode).toBe(403)
  })

  it('retries injected throttling and the request log shows every attempt', async () => {
    await stack.admin.post('faults', {
      service: 'sts',
      operation: 'GetCallerIdentity',
      type: 'throttle',
      count: 2
    })
    const since = stack.requestLog().at(-1)?.id ?? 0
    const client = new STSClient({
      ...stack.clientConfig,
      maxAttempts: 3
    })
    const out = await client.send(new GetCallerIdentityCommand({}))
    expect(out.$metadata.attempts).toBe(3)
    const log = stack.requestLog({ service: 'sts', operation: 'GetCallerIdentity', sinceId: since })
    expect(log.map((e) => [e.status, e.errorCode])).toEqual([
      [400, 'Throttling'],
      [400, 'Throttling'],
      [200, undefined]
    ])
    expect(log[2]?.callerArn).toBe(`arn:aws:iam::${stack.accountId}:user/shipline-sim-bootstrap`)
  })

  it('an unregistered OIDC provider is refused until it is registered again', async () => {
    const token = await mint()
    await stack.admin.post('sts/providers?delete=https://token.actions.githubusercontent.com')
    const err = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token
        })
      )
    )
    expect(err.name).toBe('InvalidIdentityTokenException')
    expect((err as unknown as { Error: { Code: string } }).Error.Code).toBe('InvalidIdentityToken')
    await stack.admin.post('sts/providers', {
      url: 'https://token.actions.githubusercontent.com',
      clientIds: ['sts.amazonaws.com']
    })
    const ok = await sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: stack.roleArn,
        RoleSessionName: 'sess',
        WebIdentityToken: token
      })
    )
    expect(ok.Credentials).toBeDefined()
  })
})

describe('OIDC revoke and rotate', () => {
  it('a revoked token and a token signed by a dropped key are refused', async () => {
    const { token, claims } = await stack.admin.post<{ token: string; claims: { jti: string } }>(
      'oidc/mint',
      { audience: 'sts.amazonaws.com' }
    )
    await stack.admin.post('oidc/revoke', { jti: claims.jti })
    const revoked = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token
        })
      )
    )
    expect(revoked.name).toBe('InvalidIdentityTokenException')
    const before = await mint()
    await stack.admin.post('oidc/rotate', {})
    await expect(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: before
        })
      )
    ).resolves.toBeDefined()
    await stack.admin.post('oidc/rotate', { dropOld: true })
    const dropped = await errorOf(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: before
        })
      )
    )
    expect(dropped.name).toBe('InvalidIdentityTokenException')
    await expect(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: stack.roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: await mint()
        })
      )
    ).resolves.toBeDefined()
  })
})

describe('IAM allow-lists', () => {
  it('wildcards like ecr:Describe* allow matching actions and deny others with AccessDeniedException', async () => {
    const key = await stack.admin.post<{
      accessKeyId: string
      secretAccessKey: string
      arn: string
    }>('credentials', {
      name: 'reader',
      allowedActions: ['ecr:Describe*']
    })
    const ecr = new ECRClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: key,
      maxAttempts: 1
    })
    await expect(ecr.send(new DescribeRepositoriesCommand({}))).resolves.toMatchObject({
      repositories: []
    })
    const err = await errorOf(ecr.send(new CreateRepositoryCommand({ repositoryName: 'nope' })))
    expect(err.name).toBe('AccessDeniedException')
    expect(err.$metadata.httpStatusCode).toBe(400)
    expect(err.message).toBe(
      `User: ${key.arn} is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:${stack.accountId}:repository/nope because no identity-based policy allows the ecr:CreateRepository action`
    )
  })
})
