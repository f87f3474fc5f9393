/**
 * Through the real SDK clients: ECR honours `registryId` (the stack holds one registry, its account's), ECS
 * DescribeTaskDefinition honours the region and account an ARN names, and the "other registry" stand-in speaks the
 * anonymous bearer-token flow.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  InvalidParameterException as EcrInvalidParameter,
  RepositoryNotFoundException
} from '@aws-sdk/client-ecr'
import {
  ClientException,
  DescribeTaskDefinitionCommand,
  ECSClient,
  InvalidParameterException,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { PublicRegistry } from '../../packages/sim/src/registry/public.js'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { pushSyntheticImage } from '../helpers/oci-push.js'

let stack: SimStack
let ecr: ECRClient
let ecs: ECSClient

beforeAll(async () => {
  stack = await startStack()
  ecr = new ECRClient({ ...stack.clientConfig })
  ecs = new ECSClient({ ...stack.clientConfig })
})
afterAll(async () => {
  ecr?.destroy()
  ecs?.destroy()
  await stack?.stop()
})

describe('ECR registryId', () => {
  beforeAll(async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scope/app' }))
  })

  it("answers for the stack's own account id, as without registryId", async () => {
    const out = await ecr.send(
      new DescribeImagesCommand({ registryId: stack.accountId, repositoryName: 'scope/app' })
    )
    expect(out.imageDetails).toEqual([])
  })

  it("has no repository in another account's registry", async () => {
    const call = ecr.send(
      new DescribeImagesCommand({
        registryId: '999999999999',
        repositoryName: 'scope/app',
        imageIds: [{ imageTag: 'v1' }]
      })
    )
    await expect(call).rejects.toBeInstanceOf(RepositoryNotFoundException)
    await expect(call).rejects.toThrow(
      "The repository with name 'scope/app' does not exist in the registry with id '999999999999'"
    )
    await expect(
      ecr.send(new DescribeRepositoriesCommand({ registryId: '999999999999' }))
    ).resolves.toMatchObject({ repositories: [] })
  })

  it('refuses a registryId that is not an account id', async () => {
    await expect(
      ecr.send(new DescribeImagesCommand({ registryId: 'acme', repositoryName: 'scope/app' }))
    ).rejects.toBeInstanceOf(EcrInvalidParameter)
  })
})

describe('ECS DescribeTaskDefinition and the ARN’s region and account', () => {
  let arn: string
  beforeAll(async () => {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'scope-web',
        containerDefinitions: [{ name: 'web', image: 'public.example/app:v1', memory: 128 }]
      })
    )
    arn = out.taskDefinition?.taskDefinitionArn as string
  })

  it('describes the ARN in its own region and account', async () => {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))
    expect(out.taskDefinition?.family).toBe('scope-web')
  })

  it('refuses an ARN of another region sent to this region ("Invalid Region in ARN")', async () => {
    const other = arn.replace(`:ecs:${stack.region}:`, ':ecs:eu-west-3:')
    const call = ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: other }))
    await expect(call).rejects.toBeInstanceOf(InvalidParameterException)
    await expect(call).rejects.toThrow('Invalid Region in ARN')
  })

  it("finds nothing in another region, even by the other region's ARN or the family", async () => {
    const west = new ECSClient({ ...stack.clientConfig, region: 'eu-west-3' })
    const other = arn.replace(`:ecs:${stack.region}:`, ':ecs:eu-west-3:')
    await expect(
      west.send(new DescribeTaskDefinitionCommand({ taskDefinition: other }))
    ).rejects.toBeInstanceOf(ClientException)
    await expect(
      west.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'scope-web' }))
    ).rejects.toBeInstanceOf(ClientException)
    west.destroy()
  })

  it('finds nothing under another account', async () => {
    const foreign = arn.replace(`:${stack.accountId}:`, ':999999999999:')
    await expect(
      ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: foreign }))
    ).rejects.toBeInstanceOf(ClientException)
  })
})

describe('PublicRegistry (another registry, anonymous bearer tokens)', () => {
  let registry: PublicRegistry
  let digest: string
  beforeAll(async () => {
    registry = new PublicRegistry({ privateRepositories: ['team/private'] })
    await registry.start()
    digest = await pushSyntheticImage(registry.backend.url, 'team/app', 'v1')
    await pushSyntheticImage(registry.backend.url, 'team/private', 'v1')
  })
  afterAll(async () => {
    await registry?.stop()
  })
  const manifest = (repo: string, auth?: string): Promise<Response> =>
    fetch(`http://${registry.host}/v2/${repo}/manifests/v1`, {
      method: 'HEAD',
      headers: {
        accept: 'application/vnd.oci.image.manifest.v1+json',
        ...(auth ? { authorization: auth } : {})
      }
    })

  it('challenges, hands out a pull token for a public repository, then serves the manifest', async () => {
    const first = await manifest('team/app')
    expect(first.status).toBe(401)
    expect(first.headers.get('www-authenticate')).toBe(
      `Bearer realm="http://${registry.host}/token",service="shipline-sim-public",scope="repository:team/app:pull"`
    )
    const tokenRes = await fetch(
      `http://${registry.host}/token?service=shipline-sim-public&scope=repository:team/app:pull`
    )
    const { token } = (await tokenRes.json()) as { token: string }
    const second = await manifest('team/app', `Bearer ${token}`)
    expect(second.status).toBe(200)
    expect(second.headers.get('docker-content-digest')).toBe(digest)
    // A token is scoped to its repository.
    expect((await manifest('team/private', `Bearer ${token}`)).status).toBe(401)
  })

  it('refuses anonymous tokens for private repositories and for pushes', async () => {
    for (const scope of ['repository:team/private:pull', 'repository:team/app:pull,push']) {
      const res = await fetch(
        `http://${registry.host}/token?service=shipline-sim-public&scope=${scope}`
      )
      await res.arrayBuffer()
      expect(res.status).toBe(401)
    }
  })
})
