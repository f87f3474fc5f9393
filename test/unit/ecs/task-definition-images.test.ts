import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException
} from '@aws-sdk/client-ecr'
import { ClientException, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs'
import { mockClient } from 'aws-sdk-client-mock'
import { ActionError, InputError } from '@shipline/action-kit'
import { RegistryLookupError } from '@shipline/oci'
import {
  imageDigestLookup,
  planImage,
  renderImage
} from '../../../packages/ecs/src/task-definition/images.js'
import { describeTaskDefinitionSource } from '../../../packages/ecs/src/task-definition/ecs-source.js'

const D = `sha256:${'b'.repeat(64)}`
const OTHER = `sha256:${'c'.repeat(64)}`
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const pin = { pinDigest: true, allowLatest: false }

describe('planImage', () => {
  it('pins an image whose reference carries a digest without a lookup', () => {
    const plan = planImage({ container: 'web', image: `${ECR}/web:v1@${D}`, input: 'image' }, pin)
    expect(plan.lookup).toBe(false)
    expect(renderImage(plan)).toBe(`${ECR}/web@${D}`)
  })

  it('uses a separately given digest', () => {
    const plan = planImage(
      { container: 'web', image: `${ECR}/web:v1`, digest: D, input: 'image' },
      pin
    )
    expect(plan.digest).toBe(D)
    expect(renderImage(plan)).toBe(`${ECR}/web@${D}`)
  })

  it('needs a lookup for a tag when pinning, and none when not', () => {
    expect(
      planImage({ container: 'web', image: '127.0.0.1:5000/shop/web:abc', input: 'image' }, pin)
        .lookup
    ).toBe(true)
    const plan = planImage(
      { container: 'web', image: '127.0.0.1:5000/shop/web:abc', input: 'image' },
      { ...pin, pinDigest: false }
    )
    expect(plan.lookup).toBe(false)
    expect(renderImage(plan)).toBe('127.0.0.1:5000/shop/web:abc')
  })

  it.each([
    [`${ECR}/web:latest`, 'image', 'uses the "latest" tag'],
    [`${ECR}/web`, 'image', 'has no tag, which means "latest"'],
    ['Web:1', 'image', 'is not a valid image reference'],
    [`${ECR}/web:v1@sha256:short`, 'image', 'is not a valid image reference']
  ])('rejects %s', (image, input, message) => {
    expect(() => planImage({ container: 'web', image, input }, pin)).toThrow(message)
  })

  it('allows latest when asked, and a latest tag pinned by digest', () => {
    expect(
      planImage(
        { container: 'w', image: `${ECR}/web:latest`, input: 'image' },
        { ...pin, allowLatest: true }
      ).lookup
    ).toBe(true)
    expect(
      planImage({ container: 'w', image: `${ECR}/web:latest@${D}`, input: 'image' }, pin).lookup
    ).toBe(false)
  })

  it('names image-digest for a bad or contradicting digest', () => {
    expect(() =>
      planImage(
        { container: 'w', image: `${ECR}/web:v1`, digest: 'sha256:nope', input: 'image' },
        pin
      )
    ).toThrow(/^input "image-digest": "sha256:nope" is not a sha256 digest/)
    const other = `sha256:${'c'.repeat(64)}`
    expect(() =>
      planImage(
        { container: 'w', image: `${ECR}/web@${D}`, digest: other, input: 'containers.w.image' },
        pin
      )
    ).toThrow(/^input "containers\.w\.image-digest": .* contradicts/)
  })
})

describe('ecrDigestLookup', () => {
  const ecr = mockClient(ECRClient)
  beforeEach(() => {
    ecr.reset()
  })
  const regions: (string | undefined)[] = []
  const registryCalls: string[] = []
  const lookup = imageDigestLookup({
    ecrFor: (region) => {
      regions.push(region)
      return new ECRClient({ region: region ?? 'us-east-1' })
    },
    endpointRegistry: () => Promise.resolve('127.0.0.1:5000'),
    resolveRegistry: (ref) => {
      registryCalls.push(`${ref.registry}/${ref.repository}:${ref.tag}`)
      if (ref.tag === 'missing')
        return Promise.reject(
          new RegistryLookupError('ghcr.io/acme/api:missing was not found', 404)
        )
      return Promise.resolve(OTHER)
    }
  })

  it('asks the account and region of an ECR host', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D }] })
    const plan = planImage({ container: 'w', image: `${ECR}/team/web:v1`, input: 'image' }, pin)
    await expect(lookup(plan.ref, 'image')).resolves.toBe(D)
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'team/web',
      imageIds: [{ imageTag: 'v1' }]
    })
    expect(regions.at(-1)).toBe('eu-west-1')
  })

  it("asks the caller's own registry only for the configured endpoint's registry host", async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D }] })
    const plan = planImage(
      { container: 'w', image: '127.0.0.1:5000/shop/web:abc', input: 'image' },
      pin
    )
    await lookup(plan.ref, 'image')
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'shop/web',
      imageIds: [{ imageTag: 'abc' }]
    })
    expect(regions.at(-1)).toBeUndefined()
  })

  it.each([
    'ghcr.io/acme/api:v1.2.3',
    'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
    'nginx:1.27',
    '127.0.0.1:5999/acme/api:v1'
  ])('resolves %s through its own registry, never through ECR', async (image) => {
    registryCalls.length = 0
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D }] })
    const plan = planImage({ container: 'w', image, input: 'image' }, pin)
    await expect(lookup(plan.ref, 'image')).resolves.toBe(OTHER)
    expect(ecr.commandCalls(DescribeImagesCommand)).toHaveLength(0)
    expect(registryCalls).toHaveLength(1)
  })

  it('names the image and the fixes when its registry cannot resolve it', async () => {
    const plan = planImage(
      { container: 'w', image: 'ghcr.io/acme/api:missing', input: 'containers.w.image' },
      pin
    )
    const failure = lookup(plan.ref, 'containers.w.image')
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      /Could not resolve the digest of "ghcr\.io\/acme\/api:missing" \(containers\.w\.image\) through its registry: .*was not found.*"pin-digest: false".*containers\.w\.image-digest/
    )
  })

  it.each([
    [
      new ImageNotFoundException({ message: 'not found', $metadata: {} }),
      'no image is tagged "v1"'
    ],
    [
      new RepositoryNotFoundException({ message: 'no repo', $metadata: {} }),
      'repository "web" does not exist'
    ]
  ])('names the image and the fix when ECR has no such image (%#)', async (error, message) => {
    ecr.on(DescribeImagesCommand).rejects(error)
    const plan = planImage({ container: 'w', image: `${ECR}/web:v1`, input: 'image' }, pin)
    const failure = lookup(plan.ref, 'image')
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      new RegExp(
        `Image "${ECR}/web:v1" \\(image\\) was not found in ECR: ${message}.*Push it first`
      )
    )
  })
})

describe('describeTaskDefinitionSource', () => {
  const ecs = mockClient(ECSClient)
  beforeEach(() => {
    ecs.reset()
  })
  const client = new ECSClient({ region: 'us-east-1' })

  it('describes with tags and returns the document with its tags', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        family: 'web',
        revision: 3,
        containerDefinitions: [{ name: 'web', image: 'a:1' }],
        registeredAt: new Date(0)
      },
      tags: [{ key: 'team', value: 'core' }]
    })
    const doc = await describeTaskDefinitionSource(
      client,
      'web',
      'task-definition-family',
      'us-east-1'
    )
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]?.args[0].input).toEqual({
      taskDefinition: 'web',
      include: ['TAGS']
    })
    expect(doc).toEqual({
      family: 'web',
      revision: 3,
      containerDefinitions: [{ name: 'web', image: 'a:1' }],
      registeredAt: '1970-01-01T00:00:00.000Z',
      tags: [{ key: 'team', value: 'core' }]
    })
  })

  it('turns "Unable to describe" into an error naming the source and the fix', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(
        new ClientException({ message: 'Unable to describe task definition.', $metadata: {} })
      )
    await expect(
      describeTaskDefinitionSource(client, 'nope:4', 'task-definition-family', 'us-east-1')
    ).rejects.toThrow(
      /Task definition "nope:4" \(task-definition-family\) could not be described in us-east-1: ClientException: Unable to describe task definition\..*Check the family/
    )
  })

  it('is not an InputError (the inputs were well-formed)', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(new ClientException({ message: 'x', $metadata: {} }))
    await expect(
      describeTaskDefinitionSource(client, 'web', 'task-definition-family', 'us-east-1')
    ).rejects.not.toBeInstanceOf(InputError)
  })
})
