/**
 * The simulator's fault injection as the reliability suite uses it: connection resets (AWS endpoint and the registry
 * mid-body), storms limited to N simulated seconds, rule validation, and the known-secrets list.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack

const ecr = (maxAttempts = 1): ECRClient => new ECRClient({ ...stack.clientConfig, maxAttempts })

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p
  } catch (e) {
    return e as Error & { code?: string }
  }
  throw new Error('expected the call to fail')
}

beforeAll(async () => {
  stack = await startStack({ speed: 1 })
})
afterAll(async () => {
  await stack?.stop()
})

describe('fault injection', () => {
  it('a reset fault closes the connection without an answer (ECONNRESET-like at the SDK) and is logged', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeRepositories',
      type: 'reset',
      count: 1
    })
    const since = stack.requestLog().at(-1)?.id ?? 0
    const error = await failure(ecr().send(new DescribeRepositoriesCommand({})))
    expect(`${error.name} ${error.code ?? ''} ${error.message}`).toMatch(
      /ECONNRESET|socket hang up|EPIPE|other side closed/i
    )
    const logged = stack.requestLog({
      service: 'ecr',
      operation: 'DescribeRepositories',
      sinceId: since
    })
    expect(logged.map((e) => [e.status, e.errorCode])).toEqual([[0, 'ConnectionReset']])
    // count: 1 is spent; the SDK's own retry would have succeeded
    await expect(ecr().send(new DescribeRepositoriesCommand({}))).resolves.toBeDefined()
  })

  it('a storm (forSeconds) ends after that many simulated seconds', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeRepositories',
      type: 'throttle',
      rate: 1,
      forSeconds: 30
    })
    const during = await failure(ecr().send(new DescribeRepositoriesCommand({})))
    expect(during.name).toBe('ThrottlingException')
    const rules = await stack.admin.get<Array<{ untilMs: number }>>('faults')
    expect(rules).toHaveLength(1)
    stack.clock.advance(31_000)
    await expect(ecr().send(new DescribeRepositoriesCommand({}))).resolves.toBeDefined()
    expect(await stack.admin.get('faults')).toEqual([])
  })

  it('spread fires on an evenly spread share (first one fires), match limits a rule to some parameters', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeRepositories',
      match: { registryId: '123456789012' },
      type: 'throttle',
      rate: 0.5,
      spread: true
    })
    const outcomes: string[] = []
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await ecr()
          .send(new DescribeRepositoriesCommand({ registryId: '123456789012' }))
          .then(
            () => 'ok',
            (e: Error) => e.name
          )
      )
    }
    expect(outcomes).toEqual(['ThrottlingException', 'ok', 'ThrottlingException', 'ok'])
    // no registryId: the rule does not match
    await expect(ecr().send(new DescribeRepositoriesCommand({}))).resolves.toBeDefined()
    await expect(ecr().send(new DescribeRepositoriesCommand({}))).resolves.toBeDefined()
    await stack.admin.delete('faults')
  })

  it('refuses rates outside 0..1, non-positive storm lengths and unknown types', async () => {
    await expect(stack.admin.post('faults', { type: 'throttle', rate: 1.5 })).rejects.toThrow(
      /rate must be within 0..1/
    )
    await expect(stack.admin.post('faults', { type: 'throttle', forSeconds: 0 })).rejects.toThrow(
      /forSeconds must be positive/
    )
    await expect(stack.admin.post('faults', { type: 'explode' })).rejects.toThrow(
      /throttle, error, latency or reset/
    )
  })

  it('a registry reset with afterBytes cuts an upload part off mid-body', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName: 'faults/mid-layer' }))
    const token = (await ecr().send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
      ?.authorizationToken as string
    const auth = { authorization: `Basic ${token}` }
    const base = `http://${stack.registryHost}/v2/faults/mid-layer/blobs/uploads/`
    const started = await fetch(base, { method: 'POST', headers: auth })
    expect(started.status).toBe(202)
    const location = new URL(started.headers.get('location') as string, base).toString()
    await stack.admin.post('faults', {
      service: 'registry',
      operation: 'registry:blob-upload-part',
      type: 'reset',
      afterBytes: 64 * 1024,
      count: 1
    })
    const since = stack.requestLog().at(-1)?.id ?? 0
    const body = Buffer.alloc(4 * 1024 * 1024, 7)
    const error = await failure(
      fetch(location, {
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body
      })
    )
    expect(error.message).toMatch(/fetch failed|terminated|socket/i)
    await new Promise((r) => setTimeout(r, 50))
    const logged = stack.requestLog({ kind: 'registry:blob-upload-part', sinceId: since })
    expect(logged.map((e) => [e.status, e.errorCode])).toEqual([[0, 'ConnectionReset']])
  })

  it('lists every secret it handed out: keys, session tokens, ECR passwords and tokens, OIDC tokens', async () => {
    const token = (await ecr().send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
      ?.authorizationToken as string
    const password = Buffer.from(token, 'base64').toString('utf8').slice(4)
    const minted = await stack.admin.post<{ token: string }>('oidc/mint', {
      audience: 'sts.amazonaws.com'
    })
    const { secrets } = await stack.admin.get<{ secrets: string[] }>('secrets')
    expect(secrets).toEqual(
      expect.arrayContaining([
        stack.clientConfig.credentials.secretAccessKey,
        token,
        password,
        minted.token,
        stack.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']
      ])
    )
    expect(stack.knownSecrets()).toEqual(secrets)
  })
})
