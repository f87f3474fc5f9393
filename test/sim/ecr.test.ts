import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyCommand,
  GetRegistryScanningConfigurationCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  PutRegistryScanningConfigurationCommand,
  StartImageScanCommand,
  paginateDescribeImageScanFindings,
  paginateDescribeRepositories
} from '@aws-sdk/client-ecr'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { buildImage, docker, dockerConfigDir, dockerOk, loginWithToken } from './docker-helpers.js'

let stack: SimStack
let ecr: ECRClient
let config: string
const configs: string[] = []
const localTags: string[] = []
/** Digest of `app:v1` as docker push reported it. */
let pushedDigest = ''

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

const client = (credentials?: Creds, maxAttempts = 1): ECRClient =>
  new ECRClient({
    ...stack.clientConfig,
    credentials: credentials ?? stack.clientConfig.credentials,
    maxAttempts
  })

async function errorOf(
  p: Promise<unknown>
): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await p
  } catch (e) {
    return e as Error & { $metadata: { httpStatusCode?: number } }
  }
  throw new Error('expected the call to fail')
}

async function login(c: ECRClient, dir: string): Promise<void> {
  const auth = await c.send(new GetAuthorizationTokenCommand({}))
  await loginWithToken(
    stack.registryHost,
    auth.authorizationData?.[0]?.authorizationToken as string,
    dir
  )
}

async function push(ref: string, dir = config): Promise<string> {
  const out = await dockerOk(['push', ref], { config: dir })
  const m = /digest: (sha256:[0-9a-f]{64})/.exec(out)
  if (!m) throw new Error(`no digest in push output: ${out}`)
  return m[1] as string
}

async function tagLocal(source: string, target: string): Promise<void> {
  await dockerOk(['tag', source, target])
  localTags.push(target)
}

async function assumeRole(roleArn: string, allowedActions: string[]): Promise<Creds> {
  await stack.admin.post('sts/roles', { roleArn, trust: { sub: 'repo:*' }, allowedActions })
  const { token } = await stack.admin.post<{ token: string }>('oidc/mint', {
    audience: 'sts.amazonaws.com'
  })
  const sts = new STSClient({ endpoint: stack.endpoint, region: stack.region })
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'ci',
      WebIdentityToken: token
    })
  )
  return {
    accessKeyId: out.Credentials?.AccessKeyId as string,
    secretAccessKey: out.Credentials?.SecretAccessKey as string,
    sessionToken: out.Credentials?.SessionToken
  }
}

beforeAll(async () => {
  stack = await startStack()
  ecr = client()
  config = dockerConfigDir()
  configs.push(config)
  await buildImage('sim-test/base:a')
  await buildImage('sim-test/base:vuln', { 'shipline.sim.scan': 'vulnerable' })
  localTags.push('sim-test/base:a', 'sim-test/base:vuln')
  await ecr.send(
    new CreateRepositoryCommand({
      repositoryName: 'app',
      imageScanningConfiguration: { scanOnPush: true }
    })
  )
  await login(ecr, config)
  await tagLocal('sim-test/base:a', `${stack.registryHost}/app:v1`)
  pushedDigest = await push(`${stack.registryHost}/app:v1`)
}, 120_000)

afterAll(async () => {
  await stack?.stop()
  if (localTags.length) await docker(['rmi', '-f', ...localTags])
  for (const d of configs) rmSync(d, { recursive: true, force: true })
})

describe('repositories', () => {
  it('CreateRepository returns the repository; name validation and duplicates fail like ECR', async () => {
    const out = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'team/api',
        imageTagMutability: 'IMMUTABLE',
        encryptionConfiguration: { encryptionType: 'KMS' },
        tags: [{ Key: 'team', Value: 'platform' }]
      })
    )
    expect(out.repository).toMatchObject({
      repositoryName: 'team/api',
      repositoryArn: `arn:aws:ecr:${stack.region}:${stack.accountId}:repository/team/api`,
      repositoryUri: `${stack.registryHost}/team/api`,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'KMS' }
    })
    expect(out.repository?.encryptionConfiguration?.kmsKey).toMatch(/^arn:aws:kms:/)
    expect(out.repository?.createdAt).toBeInstanceOf(Date)
    const tags = await ecr.send(
      new ListTagsForResourceCommand({ resourceArn: out.repository?.repositoryArn })
    )
    expect(tags.tags).toEqual([{ Key: 'team', Value: 'platform' }])
    const dup = await errorOf(ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/api' })))
    expect(dup.name).toBe('RepositoryAlreadyExistsException')
    expect(dup.message).toBe(
      `The repository with name 'team/api' already exists in the registry with id '${stack.accountId}'`
    )
    const bad = await errorOf(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Bad_Name' })))
    expect(bad.name).toBe('InvalidParameterException')
  })

  it('DescribeRepositories paginates and reports unknown names', async () => {
    for (const n of ['page/a', 'page/b', 'page/c'])
      await ecr.send(new CreateRepositoryCommand({ repositoryName: n }))
    const first = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2 }))
    expect(first.repositories).toHaveLength(2)
    expect(first.nextToken).toBeDefined()
    const names: string[] = []
    for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: 2 }, {})) {
      names.push(...(page.repositories ?? []).map((r) => r.repositoryName as string))
    }
    expect(names).toEqual(expect.arrayContaining(['app', 'page/a', 'page/b', 'page/c', 'team/api']))
    expect(new Set(names).size).toBe(names.length)
    const missing = await errorOf(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] }))
    )
    expect(missing.name).toBe('RepositoryNotFoundException')
    expect(missing.message).toBe(
      `The repository with name 'nope' does not exist in the registry with id '${stack.accountId}'`
    )
  })

  it('DeleteRepository refuses a non-empty repository without force', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'doomed' }))
    await tagLocal('sim-test/base:a', `${stack.registryHost}/doomed:x`)
    await push(`${stack.registryHost}/doomed:x`)
    const e = await errorOf(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed' })))
    expect(e.name).toBe('RepositoryNotEmptyException')
    const out = await ecr.send(
      new DeleteRepositoryCommand({ repositoryName: 'doomed', force: true })
    )
    expect(out.repository?.repositoryName).toBe('doomed')
    const gone = await errorOf(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed' })))
    expect(gone.name).toBe('RepositoryNotFoundException')
  })

  it('PutLifecyclePolicy validates the policy; GetLifecyclePolicy returns it', async () => {
    const none = await errorOf(
      ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'page/a' }))
    )
    expect(none.name).toBe('LifecyclePolicyNotFoundException')
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: 'expire untagged images',
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 14
          },
          action: { type: 'expire' }
        }
      ]
    })
    await ecr.send(
      new PutLifecyclePolicyCommand({ repositoryName: 'page/a', lifecyclePolicyText: policy })
    )
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'page/a' }))
    expect(got.lifecyclePolicyText).toBe(policy)
    const bad = await errorOf(
      ecr.send(
        new PutLifecyclePolicyCommand({
          repositoryName: 'page/a',
          lifecyclePolicyText: JSON.stringify({
            rules: [
              {
                rulePriority: 1,
                selection: {
                  tagStatus: 'sometimes',
                  countType: 'imageCountMoreThan',
                  countNumber: 1
                },
                action: { type: 'expire' }
              }
            ]
          })
        })
      )
    )
    expect(bad.name).toBe('InvalidParameterException')
    expect(bad.message).toMatch(/Lifecycle policy validation failure/)
  })

  it('PutImageScanningConfiguration and PutImageTagMutability update the repository', async () => {
    const s = await ecr.send(
      new PutImageScanningConfigurationCommand({
        repositoryName: 'page/b',
        imageScanningConfiguration: { scanOnPush: true }
      })
    )
    expect(s.imageScanningConfiguration).toEqual({ scanOnPush: true })
    const m = await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'page/b',
        imageTagMutability: 'IMMUTABLE'
      })
    )
    expect(m.imageTagMutability).toBe('IMMUTABLE')
    const d = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/b'] }))
    expect(d.repositories?.[0]).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true }
    })
    const e1 = await errorOf(
      ecr.send(
        new PutImageScanningConfigurationCommand({
          repositoryName: 'nope',
          imageScanningConfiguration: { scanOnPush: true }
        })
      )
    )
    expect(e1.name).toBe('RepositoryNotFoundException')
    const e2 = await errorOf(
      ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: 'page/b',
          imageTagMutability: 'SOMETIMES' as never
        })
      )
    )
    expect(e2.name).toBe('ValidationException')
  })
})

describe('images from the real registry', () => {
  it('DescribeImages returns what docker pushed', async () => {
    const out = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }))
    expect(out.imageDetails).toHaveLength(1)
    const img = out.imageDetails?.[0]
    expect(img).toMatchObject({
      repositoryName: 'app',
      registryId: stack.accountId,
      imageDigest: pushedDigest,
      imageTags: ['v1'],
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      artifactMediaType: 'application/vnd.docker.container.image.v1+json'
    })
    expect(img?.imageSizeInBytes).toBeGreaterThan(500_000)
    expect(img?.imagePushedAt).toBeInstanceOf(Date)
    const pushes =
      await stack.admin.get<Array<{ repository: string; digest: string }>>('ecr/pushes')
    expect(pushes).toContainEqual(
      expect.objectContaining({ repository: 'app', digest: pushedDigest })
    )
    const missing = await errorOf(
      ecr.send(
        new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'nope' }] })
      )
    )
    expect(missing.name).toBe('ImageNotFoundException')
    expect(missing.message).toBe(
      `The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'app' in the registry with id '${stack.accountId}'`
    )
  })

  it('PutImage retags without a push, idempotently; BatchGetImage returns manifests and failures', async () => {
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'app',
        imageIds: [{ imageTag: 'v1' }, { imageTag: 'missing' }]
      })
    )
    expect(got.images).toHaveLength(1)
    expect(got.images?.[0]?.imageId?.imageDigest).toBe(pushedDigest)
    expect(got.failures).toEqual([
      {
        imageId: { imageTag: 'missing' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      }
    ])
    const manifest = got.images?.[0]?.imageManifest as string
    const mediaType = got.images?.[0]?.imageManifestMediaType
    const since = stack.requestLog().at(-1)?.id ?? 0
    const put = await ecr.send(
      new PutImageCommand({
        repositoryName: 'app',
        imageManifest: manifest,
        imageManifestMediaType: mediaType,
        imageTag: 'prod'
      })
    )
    expect(put.image?.imageId).toEqual({ imageDigest: pushedDigest, imageTag: 'prod' })
    expect(stack.requestLog({ sinceId: since, kind: 'registry:blob-upload' })).toHaveLength(0)
    expect(
      stack.requestLog({ sinceId: since, service: 'ecr', operation: 'PutImage' })[0]?.status
    ).toBe(200)
    const d = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: 'app',
        imageIds: [{ imageDigest: pushedDigest }]
      })
    )
    expect(d.imageDetails?.[0]?.imageTags).toEqual(['prod', 'v1'])
    const again = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: manifest,
          imageManifestMediaType: mediaType,
          imageTag: 'prod'
        })
      )
    )
    expect(again.name).toBe('ImageAlreadyExistsException')
  })

  it('an immutable repository rejects a re-tag through PutImage and through docker push', async () => {
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'frozen', imageTagMutability: 'IMMUTABLE' })
    )
    await tagLocal('sim-test/base:a', `${stack.registryHost}/frozen:v1`)
    const first = await push(`${stack.registryHost}/frozen:v1`)
    await tagLocal('sim-test/base:vuln', `${stack.registryHost}/frozen:other`)
    const other = await push(`${stack.registryHost}/frozen:other`)
    expect(other).not.toBe(first)
    const m = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'frozen', imageIds: [{ imageTag: 'other' }] })
    )
    const e = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'frozen',
          imageManifest: m.images?.[0]?.imageManifest,
          imageTag: 'v1'
        })
      )
    )
    expect(e.name).toBe('ImageTagAlreadyExistsException')
    expect(e.message).toBe(
      "The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable."
    )
    await tagLocal('sim-test/base:vuln', `${stack.registryHost}/frozen:v1`)
    const run = await docker(['push', `${stack.registryHost}/frozen:v1`], { config })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(
      /tag invalid: The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable/
    )
    const d = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'frozen', imageIds: [{ imageTag: 'v1' }] })
    )
    expect(d.imageDetails?.[0]?.imageDigest).toBe(first)
  })

  it('PutImage on an IMMUTABLE repository answers each conflict as the ECR API reference documents', async () => {
    // "ImageAlreadyExistsException: the specified image has already been pushed, and there were no changes to the
    // manifest or image tag"; "ImageTagAlreadyExistsException: the specified image is tagged with a tag that already
    // exists. The repository is configured for tag immutability."
    const current = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'frozen', imageIds: [{ imageTag: 'v1' }] })
    )
    const manifest = current.images?.[0]?.imageManifest as string
    const digest = current.images?.[0]?.imageId?.imageDigest as string
    const put = (imageManifest: string, imageTag?: string) =>
      ecr.send(new PutImageCommand({ repositoryName: 'frozen', imageManifest, imageTag }))
    const sameTag = await errorOf(put(manifest, 'v1'))
    expect(sameTag.name).toBe('ImageAlreadyExistsException')
    expect(sameTag.message).toBe(
      `Image with digest '${digest}' and tag 'v1' already exists in the repository with name 'frozen' in registry with id '${stack.accountId}'`
    )
    const noTag = await errorOf(put(manifest))
    expect(noTag.name).toBe('ImageAlreadyExistsException')
    // a different manifest (same layers, one annotation more) under the immutable tag
    const other = JSON.stringify({ ...JSON.parse(manifest), annotations: { variant: 'b' } })
    const moved = await errorOf(put(other, 'v1'))
    expect(moved.name).toBe('ImageTagAlreadyExistsException')
    expect(moved.$metadata.httpStatusCode).toBe(400)
    // a new tag on the same image is a change: accepted
    const added = await put(manifest, 'v1-again')
    expect(added.image?.imageId).toEqual({ imageDigest: digest, imageTag: 'v1-again' })
    const d = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'frozen', imageIds: [{ imageTag: 'v1' }] })
    )
    expect(d.imageDetails?.[0]?.imageDigest).toBe(digest)
    expect(d.imageDetails?.[0]?.imageTags).toEqual(['v1', 'v1-again'])
  })

  it('GetDownloadUrlForLayer hands out a URL that serves the blob without credentials, until it expires', async () => {
    const current = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] })
    )
    const configDigest = (
      JSON.parse(current.images?.[0]?.imageManifest as string) as { config: { digest: string } }
    ).config.digest
    const out = await ecr.send(
      new GetDownloadUrlForLayerCommand({ repositoryName: 'app', layerDigest: configDigest })
    )
    expect(out.layerDigest).toBe(configDigest)
    const response = await fetch(out.downloadUrl as string)
    expect(response.status).toBe(200)
    const body = Buffer.from(await response.arrayBuffer())
    expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(configDigest)
    expect(JSON.parse(body.toString('utf8'))).toHaveProperty('config')
    const missing = await errorOf(
      ecr.send(
        new GetDownloadUrlForLayerCommand({
          repositoryName: 'app',
          layerDigest: `sha256:${'0'.repeat(64)}`
        })
      )
    )
    expect(missing.name).toBe('LayersNotFoundException')
    const noRepo = await errorOf(
      ecr.send(
        new GetDownloadUrlForLayerCommand({ repositoryName: 'nope', layerDigest: configDigest })
      )
    )
    expect(noRepo.name).toBe('RepositoryNotFoundException')
    expect((await fetch(`${out.downloadUrl as string}x`)).status).toBe(403)
    await stack.admin.post('clock/advance', { seconds: 3601 })
    expect((await fetch(out.downloadUrl as string)).status).toBe(403)
  })

  it('an image index reports its media type and is UNSUPPORTED_IMAGE for scans', async () => {
    const base = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] })
    )
    const manifest = base.images?.[0]?.imageManifest as string
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: pushedDigest,
          size: Buffer.byteLength(manifest),
          platform: { architecture: 'amd64', os: 'linux' }
        }
      ]
    })
    await ecr.send(
      new PutImageCommand({ repositoryName: 'app', imageManifest: index, imageTag: 'multi' })
    )
    const d = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'multi' }] })
    )
    expect(d.imageDetails?.[0]?.imageManifestMediaType).toBe(
      'application/vnd.oci.image.index.v1+json'
    )
    expect(d.imageDetails?.[0]?.imageScanStatus?.status).toBe('UNSUPPORTED_IMAGE')
    const e = await errorOf(
      ecr.send(new StartImageScanCommand({ repositoryName: 'app', imageId: { imageTag: 'multi' } }))
    )
    expect(e.name).toBe('UnsupportedImageTypeException')
    const all = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1 }))
    expect(all.imageDetails).toHaveLength(1)
    const rest = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1, nextToken: all.nextToken })
    )
    expect(rest.imageDetails?.[0]?.imageDigest).not.toBe(all.imageDetails?.[0]?.imageDigest)
  })
})

describe('registry access', () => {
  it('docker pull returns the pushed image', async () => {
    const ref = `${stack.registryHost}/app:v1`
    await dockerOk(['rmi', ref])
    const since = stack.requestLog().at(-1)?.id ?? 0
    const out = await dockerOk(['pull', ref], { config })
    expect(out).toContain(pushedDigest)
    // The daemon may first try without credentials (401); the pull itself is authenticated.
    const served = stack
      .requestLog({ service: 'registry', sinceId: since })
      .filter((e) => e.status === 200 && e.path?.startsWith('/v2/app/manifests/'))
    expect(served.length).toBeGreaterThan(0)
    expect(new Set(served.map((e) => e.callerArn))).toEqual(
      new Set([`arn:aws:iam::${stack.accountId}:user/shipline-sim-bootstrap`])
    )
  })

  it('refuses a push to a repository that was never created', async () => {
    await tagLocal('sim-test/base:a', `${stack.registryHost}/never-created:v1`)
    const run = await docker(['push', `${stack.registryHost}/never-created:v1`], { config })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(
      /name unknown: The repository with name 'never-created' does not exist in the registry with id '123456789012'/
    )
  })

  it('a caller without ecr:InitiateLayerUpload gets a denied push naming the action', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'locked' }))
    const creds = await assumeRole(`arn:aws:iam::${stack.accountId}:role/pull-only`, [
      'ecr:GetAuthorizationToken',
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer'
    ])
    const dir = dockerConfigDir()
    configs.push(dir)
    await login(client(creds), dir)
    await tagLocal('sim-test/base:a', `${stack.registryHost}/locked:v1`)
    const run = await docker(['push', `${stack.registryHost}/locked:v1`], { config: dir })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(
      /denied: User: arn:aws:sts::123456789012:assumed-role\/pull-only\/ci is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:123456789012:repository\/locked/
    )
    const api = await errorOf(
      client(creds).send(new CreateRepositoryCommand({ repositoryName: 'x-denied' }))
    )
    expect(api.name).toBe('AccessDeniedException')
    expect(api.message).toMatch(
      /is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository\/x-denied/
    )
  })

  it('two live tokens of different callers push concurrently', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'concurrent' }))
    const creds = await assumeRole(`arn:aws:iam::${stack.accountId}:role/pusher`, ['ecr:*'])
    const [d1, d2] = [dockerConfigDir(), dockerConfigDir()]
    configs.push(d1, d2)
    await login(ecr, d1)
    await login(client(creds), d2)
    await tagLocal('sim-test/base:a', `${stack.registryHost}/concurrent:one`)
    await tagLocal('sim-test/base:vuln', `${stack.registryHost}/concurrent:two`)
    const [a, b] = await Promise.all([
      push(`${stack.registryHost}/concurrent:one`, d1),
      push(`${stack.registryHost}/concurrent:two`, d2)
    ])
    const d = await ecr.send(new DescribeImagesCommand({ repositoryName: 'concurrent' }))
    expect(d.imageDetails?.map((i) => i.imageDigest).sort()).toEqual([a, b].sort())
    const callers = new Set(
      stack
        .requestLog({ kind: 'registry:manifest-put' })
        .filter((e) => e.path?.startsWith('/v2/concurrent/'))
        .map((e) => e.callerArn)
    )
    expect(callers).toEqual(
      new Set([
        `arn:aws:iam::${stack.accountId}:user/shipline-sim-bootstrap`,
        `arn:aws:sts::${stack.accountId}:assumed-role/pusher/ci`
      ])
    )
  })

  it('GetAuthorizationToken returns a 12 h basic-auth token for the proxy', async () => {
    const before = stack.clock.now()
    const out = await ecr.send(new GetAuthorizationTokenCommand({}))
    const data = out.authorizationData?.[0]
    expect(data?.proxyEndpoint).toBe(`http://${stack.registryHost}`)
    expect(Buffer.from(data?.authorizationToken as string, 'base64').toString()).toMatch(
      /^AWS:.{40,}$/
    )
    const ttl = (data?.expiresAt?.getTime() ?? 0) - before
    expect(ttl).toBeGreaterThan(12 * 3600_000 - 5000)
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000 + 5000)
    const e = await errorOf(
      client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(
        new GetAuthorizationTokenCommand({})
      )
    )
    expect(e.name).toBe('UnrecognizedClientException')
  })
})

describe('scanning', () => {
  it('scan-on-push: IN_PROGRESS, then COMPLETE with findings from the image label scenario, paginated', async () => {
    await tagLocal('sim-test/base:vuln', `${stack.registryHost}/app:vuln`)
    const digest = await push(`${stack.registryHost}/app:vuln`)
    const first = await ecr.send(
      new DescribeImageScanFindingsCommand({ repositoryName: 'app', imageId: { imageTag: 'vuln' } })
    )
    expect(first.imageScanStatus?.status).toBe('IN_PROGRESS')
    expect(first.imageScanFindings).toBeUndefined()
    stack.clock.advance(11_000)
    const page1 = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: 'app',
        imageId: { imageDigest: digest },
        maxResults: 2
      })
    )
    expect(page1.imageScanStatus?.status).toBe('COMPLETE')
    expect(page1.imageScanFindings?.findingSeverityCounts).toEqual({
      CRITICAL: 1,
      HIGH: 2,
      MEDIUM: 1,
      LOW: 1
    })
    expect(page1.imageScanFindings?.findings).toHaveLength(2)
    expect(page1.imageScanFindings?.findings?.[0]).toMatchObject({
      name: 'CVE-2024-3094',
      severity: 'CRITICAL'
    })
    expect(page1.imageScanFindings?.findings?.[0]?.attributes).toContainEqual({
      key: 'package_name',
      value: 'xz-utils'
    })
    expect(page1.nextToken).toBeDefined()
    const names: string[] = []
    for await (const p of paginateDescribeImageScanFindings(
      { client: ecr, pageSize: 2 },
      { repositoryName: 'app', imageId: { imageDigest: digest } }
    )) {
      names.push(...(p.imageScanFindings?.findings ?? []).map((f) => f.name as string))
    }
    expect(names).toHaveLength(5)
    const d = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'vuln' }] })
    )
    expect(d.imageDetails?.[0]?.imageScanFindingsSummary?.findingSeverityCounts).toEqual({
      CRITICAL: 1,
      HIGH: 2,
      MEDIUM: 1,
      LOW: 1
    })
  })

  it('StartImageScan: once per 24 h; ScanNotFoundException when never scanned; scenarios set FAILED', async () => {
    await tagLocal('sim-test/base:a', `${stack.registryHost}/page/c:v1`)
    await push(`${stack.registryHost}/page/c:v1`)
    const never = await errorOf(
      ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: 'page/c',
          imageId: { imageTag: 'v1' }
        })
      )
    )
    expect(never.name).toBe('ScanNotFoundException')
    const started = await ecr.send(
      new StartImageScanCommand({ repositoryName: 'page/c', imageId: { imageTag: 'v1' } })
    )
    expect(started.imageScanStatus?.status).toBe('IN_PROGRESS')
    const again = await errorOf(
      ecr.send(new StartImageScanCommand({ repositoryName: 'page/c', imageId: { imageTag: 'v1' } }))
    )
    expect(again.name).toBe('LimitExceededException')
    expect(again.message).toBe('The scan quota per image has been exceeded. Wait and try again.')
    stack.clock.advance(11_000)
    const done = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: 'page/c',
        imageId: { imageTag: 'v1' }
      })
    )
    expect(done.imageScanStatus?.status).toBe('COMPLETE')
    expect(done.imageScanFindings?.findings).toEqual([])
    await stack.admin.post('ecr/scan-scenario', {
      repository: 'page/c',
      tag: 'v1',
      scenario: 'failed'
    })
    const failed = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: 'page/c',
        imageId: { imageTag: 'v1' }
      })
    )
    expect(failed.imageScanStatus?.status).toBe('FAILED')
    const noImage = await errorOf(
      ecr.send(
        new StartImageScanCommand({ repositoryName: 'page/c', imageId: { imageTag: 'nope' } })
      )
    )
    expect(noImage.name).toBe('ImageNotFoundException')
  })

  it('enhanced scanning: ACTIVE at once, enhancedFindings arriving over simulated time (not per poll)', async () => {
    const basic = await ecr.send(new GetRegistryScanningConfigurationCommand({}))
    expect(basic.scanningConfiguration?.scanType).toBe('BASIC')
    await stack.admin.post('ecr/scenarios', {
      name: 'two-crit',
      findings: [
        {
          id: 'CVE-2024-0001',
          severity: 'CRITICAL',
          package: 'openssl',
          version: '3.0.1',
          fixedVersion: '3.0.2',
          atSeconds: 30
        },
        {
          id: 'CVE-2024-0002',
          severity: 'CRITICAL',
          package: 'zlib',
          version: '1.2.11',
          atSeconds: 90
        }
      ]
    })
    await stack.admin.post('ecr/scan-scenario', { repository: 'concurrent', scenario: 'two-crit' })
    const bad = await errorOf(
      ecr.send(
        new PutRegistryScanningConfigurationCommand({
          scanType: 'ENHANCED',
          rules: [
            {
              scanFrequency: 'MANUAL',
              repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }]
            }
          ]
        })
      )
    )
    expect(bad.name).toBe('InvalidParameterException')
    await ecr.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: 'ENHANCED',
        rules: [
          {
            scanFrequency: 'CONTINUOUS_SCAN',
            repositoryFilters: [{ filter: 'concurrent', filterType: 'WILDCARD' }]
          }
        ]
      })
    )
    const cfg = await ecr.send(new GetRegistryScanningConfigurationCommand({}))
    expect(cfg.scanningConfiguration?.scanType).toBe('ENHANCED')
    const read = () =>
      ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: 'concurrent',
          imageId: { imageTag: 'one' }
        })
      )
    // The image was pushed before enhanced scanning was on: its scan counts from the push. Polling many times
    // without simulated time passing must not make findings appear.
    const one = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'concurrent', imageIds: [{ imageTag: 'one' }] })
    )
    const pushedAt = one.imageDetails?.[0]?.imagePushedAt?.getTime() as number
    stack.clock.speed = 0.000001
    stack.clock.advance(Math.max(0, pushedAt + 10_000 - stack.clock.now()))
    const polls = []
    for (let i = 0; i < 5; i++) polls.push(await read())
    stack.clock.advance(25_000) // +35 s: the first finding has arrived
    polls.push(await read())
    stack.clock.advance(60_000) // +95 s: both
    polls.push(await read())
    stack.clock.speed = 1
    expect(polls.map((p) => p.imageScanStatus?.status)).toEqual(Array(7).fill('ACTIVE'))
    expect(polls.map((p) => p.imageScanFindings?.enhancedFindings?.length)).toEqual([
      0, 0, 0, 0, 0, 1, 2
    ])
    const f = polls[6]?.imageScanFindings?.enhancedFindings?.find(
      (x) => x.packageVulnerabilityDetails?.vulnerabilityId === 'CVE-2024-0001'
    )
    expect(f).toMatchObject({
      severity: 'CRITICAL',
      fixAvailable: 'YES',
      type: 'PACKAGE_VULNERABILITY',
      status: 'ACTIVE'
    })
    expect(f?.packageVulnerabilityDetails?.vulnerablePackages?.[0]).toMatchObject({
      name: 'openssl',
      version: '3.0.1',
      fixedInVersion: '3.0.2'
    })
    expect(polls[6]?.imageScanFindings?.findings).toBeUndefined()
    expect(polls[6]?.imageScanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 2 })
    const e = await errorOf(
      ecr.send(
        new StartImageScanCommand({ repositoryName: 'concurrent', imageId: { imageTag: 'one' } })
      )
    )
    expect(e.name).toBe('ValidationException')
    await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [] }))
  })
})

describe('faults', () => {
  it('the SDK retries injected ThrottlingException (HTTP 429) and succeeds; the log shows each attempt', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeRepositories',
      type: 'throttle',
      status: 429,
      count: 2
    })
    const since = stack.requestLog().at(-1)?.id ?? 0
    const out = await client(undefined, 3).send(
      new DescribeRepositoriesCommand({ repositoryNames: ['app'] })
    )
    expect(out.$metadata.attempts).toBe(3)
    const log = stack.requestLog({
      service: 'ecr',
      operation: 'DescribeRepositories',
      sinceId: since
    })
    expect(log.map((e) => [e.status, e.errorCode])).toEqual([
      [429, 'ThrottlingException'],
      [429, 'ThrottlingException'],
      [200, undefined]
    ])
  })

  it('a 5xx fault surfaces after the SDK gives up', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'GetAuthorizationToken',
      type: 'error',
      status: 503,
      count: 2
    })
    const e = await errorOf(client(undefined, 2).send(new GetAuthorizationTokenCommand({})))
    expect(e.$metadata.httpStatusCode).toBe(503)
    await stack.admin.delete('faults')
  })
})

describe('repository tags and lifecycle policies', () => {
  it('CreateRepository keeps its tags; TagResource, UntagResource and ListTagsForResource work by ARN', async () => {
    const created = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'tags/a',
        tags: [{ Key: 'created-by', Value: 'shipline/build-tag-push' }]
      })
    )
    const resourceArn = created.repository?.repositoryArn as string
    const list = async () =>
      (await ecr.send(new ListTagsForResourceCommand({ resourceArn }))).tags?.map(
        (t) => `${t.Key}=${t.Value}`
      )
    expect(await list()).toEqual(['created-by=shipline/build-tag-push'])
    await ecr.send(
      new TagResourceCommand({
        resourceArn,
        tags: [
          { Key: 'team', Value: 'shop' },
          { Key: 'created-by', Value: 'someone-else' }
        ]
      })
    )
    expect(await list()).toEqual(['created-by=someone-else', 'team=shop'])
    await ecr.send(new UntagResourceCommand({ resourceArn, tagKeys: ['created-by'] }))
    expect(await list()).toEqual(['team=shop'])
    const missing = await errorOf(
      ecr.send(
        new ListTagsForResourceCommand({
          resourceArn: resourceArn.replace('tags/a', 'tags/none')
        })
      )
    )
    expect(missing.name).toBe('InvalidParameterException')
  })

  it('lifecycle-run applies the policy with ECR rule-priority semantics; an "any" rule must come last', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'life/a' }))
    await tagLocal('sim-test/base:a', `${stack.registryHost}/life/a:base`)
    await push(`${stack.registryHost}/life/a:base`)
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'life/a', imageIds: [{ imageTag: 'base' }] })
    )
    const manifest = got.images?.[0]?.imageManifest as string
    // Three more builds, each tagged twice like build-tag-push's short and full SHA (distinct bytes → digests).
    for (const n of [1, 2, 3]) {
      stack.clock.advance(60_000)
      for (const tag of [`s${n}`, `full-${n}`])
        await ecr.send(
          new PutImageCommand({
            repositoryName: 'life/a',
            imageManifest: `${manifest}${' '.repeat(n)}`,
            imageTag: tag
          })
        )
    }
    const policy = (rules: unknown[]) =>
      ecr.send(
        new PutLifecyclePolicyCommand({
          repositoryName: 'life/a',
          lifecyclePolicyText: JSON.stringify({ rules })
        })
      )
    const rule = (rulePriority: number, selection: Record<string, unknown>) => ({
      rulePriority,
      description: `rule ${rulePriority} of a lifecycle policy for the simulator test`,
      selection: { countType: 'imageCountMoreThan', countNumber: 2, ...selection },
      action: { type: 'expire' }
    })
    const run = async (dryRun = true) =>
      (
        await stack.admin.post<{ expired: { imageTags: string[]; appliedRulePriority: number }[] }>(
          'ecr/lifecycle-run',
          { repository: 'life/a', dryRun }
        )
      ).expired.map((e) => `${[...e.imageTags].sort().join('+') || '-'}@${e.appliedRulePriority}`)

    // Untagged-only: every image is tagged, nothing expires.
    await policy([rule(1, { tagStatus: 'untagged' })])
    expect(await run()).toEqual([])
    // A tagged rule first claims the images it selects; the "any" rule cannot expire them.
    await policy([
      rule(1, { tagStatus: 'tagged', tagPatternList: ['s1'], countNumber: 100 }),
      rule(2, { tagStatus: 'any', countNumber: 1 })
    ])
    expect(await run()).toEqual(['full-2+s2@2', 'base@2'])
    const misordered = await errorOf(
      policy([rule(1, { tagStatus: 'any' }), rule(2, { tagStatus: 'untagged' })])
    )
    expect(misordered.name).toBe('InvalidParameterException')
    expect(misordered.message).toContain("tagStatus 'any' must have the highest rulePriority")
    // Keep the last 2 over all images: the two oldest go, whatever their tags.
    await policy([rule(1, { tagStatus: 'any' })])
    expect(await run(false)).toEqual(['full-1+s1@1', 'base@1'])
    const left = await ecr.send(new DescribeImagesCommand({ repositoryName: 'life/a' }))
    expect(left.imageDetails?.map((d) => [...(d.imageTags ?? [])].sort().join('+')).sort()).toEqual(
      ['full-2+s2', 'full-3+s3']
    )
    expect(await run()).toEqual([])
  })
})

// Last in this file: it moves the simulated clock by days (registry tokens expire).
describe('the clock: Date header in simulated time, basic scans as snapshots', () => {
  it('a basic scan keeps the findings it had; after 8 simulated days the SDK sees the simulated date and a new scan sees new CVEs', async () => {
    await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [] }))
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'aged/a' }))
    await tagLocal('sim-test/base:a', `${stack.registryHost}/aged/a:v1`)
    await push(`${stack.registryHost}/aged/a:v1`)
    const high = { id: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.36-9' }
    const critical = { id: 'CVE-2024-3094', severity: 'CRITICAL', package: 'xz', version: '5.6.0' }
    await stack.admin.post('ecr/scan-scenario', {
      repository: 'aged/a',
      scenario: { findings: [high] }
    })
    const read = () =>
      ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: 'aged/a',
          imageId: { imageTag: 'v1' }
        })
      )
    await ecr.send(
      new StartImageScanCommand({ repositoryName: 'aged/a', imageId: { imageTag: 'v1' } })
    )
    stack.clock.advance(11_000)
    const first = await read()
    expect(first.imageScanFindings?.findings?.map((f) => f.name)).toEqual(['CVE-2023-4911'])
    // Earlier tests in this file moved the clock too: the offset follows the simulated clock, whatever it is.
    const skewBefore = ecr.config.systemClockOffset ?? 0
    expect(Math.abs(Date.now() + skewBefore - stack.clock.now())).toBeLessThan(2000)
    // The vulnerability database learns a new CVE: the completed basic scan does not change.
    await stack.admin.post('ecr/scan-scenario', {
      repository: 'aged/a',
      scenario: { findings: [high, critical] }
    })
    const same = await read()
    expect(same.imageScanFindings?.findings?.map((f) => f.name)).toEqual(['CVE-2023-4911'])
    expect(same.imageScanFindings?.imageScanCompletedAt).toEqual(
      first.imageScanFindings?.imageScanCompletedAt
    )

    const eightDays = 8 * 24 * 3600 * 1000
    stack.clock.advance(eightDays)
    const raw = await fetch(`${stack.endpoint}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' }
    })
    expect(Math.abs(Date.parse(raw.headers.get('date') ?? '') - stack.clock.now())).toBeLessThan(
      2000
    )
    await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['aged/a'] }))
    // The SDK's clock-skew correction now follows the simulated clock (to the Date header's second).
    expect((ecr.config.systemClockOffset ?? 0) - skewBefore).toBeGreaterThan(eightDays - 5000)
    const old = await read()
    expect(old.imageScanFindings?.findings?.map((f) => f.name)).toEqual(['CVE-2023-4911'])
    await ecr.send(
      new StartImageScanCommand({ repositoryName: 'aged/a', imageId: { imageTag: 'v1' } })
    )
    stack.clock.advance(11_000)
    const fresh = await read()
    expect(fresh.imageScanStatus?.status).toBe('COMPLETE')
    expect(fresh.imageScanFindings?.findings?.map((f) => f.name)).toEqual([
      'CVE-2024-3094',
      'CVE-2023-4911'
    ])
    expect(
      (fresh.imageScanFindings?.imageScanCompletedAt?.getTime() ?? 0) -
        (first.imageScanFindings?.imageScanCompletedAt?.getTime() ?? 0)
    ).toBeGreaterThanOrEqual(eightDays)
  })
})
