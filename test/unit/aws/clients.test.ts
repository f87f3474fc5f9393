import { createServer, type IncomingHttpHeaders } from 'node:http'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr'
import { ListClustersCommand, ECSClient } from '@aws-sdk/client-ecs'
import { clientConfig, makeClient } from '@shipline/aws'
import { ISOLATED_AWS_ENV, envSandbox } from './env.js'
import { close, listen } from './local-aws.js'

interface Seen {
  server: string
  target: string | undefined
  headers: IncomingHttpHeaders
}

const seen: Seen[] = []
const servers: { url: string; close(): Promise<void> }[] = []
const env = envSandbox()
const auth = { actionName: 'scan-gate', region: 'eu-west-1', maxAttempts: 3 }
const credentials = () =>
  Promise.resolve({ accessKeyId: 'AKIDCLIENTTEST', secretAccessKey: 'client-test-secret' })

async function jsonServer(name: string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const target = req.headers['x-amz-target']
      seen.push({
        server: name,
        target: typeof target === 'string' ? target : undefined,
        headers: req.headers
      })
      const body = target?.includes('DescribeRepositories')
        ? { repositories: [] }
        : { clusterArns: [] }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body))
    })
  })
  const url = await listen(server)
  servers.push({ url, close: () => close(server) })
  return url
}

let generic: string
let ecrOnly: string

beforeAll(async () => {
  generic = await jsonServer('generic')
  ecrOnly = await jsonServer('ecr-only')
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
})
beforeEach(() => {
  seen.length = 0
  env.set(ISOLATED_AWS_ENV)
})
afterEach(() => env.restore())

describe('clientConfig', () => {
  test('region, adaptive retries, max attempts, user agent; no endpoint', () => {
    const config = clientConfig(auth, credentials)
    expect(config).toEqual({
      region: 'eu-west-1',
      credentials,
      retryMode: 'adaptive',
      maxAttempts: 3,
      customUserAgent: 'shipline/scan-gate'
    })
    expect(config).not.toHaveProperty('endpoint')
    expect(clientConfig(auth)).not.toHaveProperty('credentials')
  })

  test('the SDK client resolves our settings', async () => {
    const client = makeClient(ECRClient, clientConfig(auth, credentials))
    expect(client).toBeInstanceOf(ECRClient)
    expect(await client.config.region()).toBe('eu-west-1')
    expect(await client.config.maxAttempts()).toBe(3)
    const strategy = (await client.config.retryStrategy()) as { mode?: string }
    expect(strategy.mode).toBe('adaptive')
  })
})

describe('AWS_ENDPOINT_URL', () => {
  test('AWS_ENDPOINT_URL points every client at a local server, with our user agent and signature', async () => {
    env.set({ AWS_ENDPOINT_URL: generic })
    await makeClient(ECRClient, clientConfig(auth, credentials)).send(
      new DescribeRepositoriesCommand({})
    )
    await makeClient(ECSClient, clientConfig(auth, credentials)).send(new ListClustersCommand({}))
    expect(seen.map((s) => [s.server, s.target])).toEqual([
      ['generic', 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories'],
      ['generic', 'AmazonEC2ContainerServiceV20141113.ListClusters']
    ])
    for (const s of seen) {
      expect(s.headers['user-agent']).toContain('shipline/scan-gate')
      expect(s.headers['authorization']).toContain('Credential=AKIDCLIENTTEST/')
      expect(s.headers['authorization']).toContain('/eu-west-1/')
    }
  })

  test('AWS_ENDPOINT_URL_<SERVICE> takes precedence for that service only', async () => {
    env.set({ AWS_ENDPOINT_URL: generic, AWS_ENDPOINT_URL_ECR: ecrOnly })
    await makeClient(ECRClient, clientConfig(auth, credentials)).send(
      new DescribeRepositoriesCommand({})
    )
    await makeClient(ECSClient, clientConfig(auth, credentials)).send(new ListClustersCommand({}))
    expect(seen.map((s) => s.server)).toEqual(['ecr-only', 'generic'])
  })
})
