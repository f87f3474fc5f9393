import { beforeEach, describe, expect, it } from '@jest/globals'
import { BatchGetImageCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import { InputError } from '../../../packages/action-kit/src/errors.js'
import { parseImageReference } from '../../../packages/oci/src/image-reference.js'
import {
  indexPlatforms,
  platformMatches,
  resolveScanTargets
} from '../../../packages/ecr/src/scan-image.js'
import { awsError } from '../../fixtures/scan-gate/findings.js'

const ecrMock = mockClient(ECRClient)
const ecr = new ECRClient({ region: 'us-east-1' })
const d = (c: string) => `sha256:${c.repeat(64)}`
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com'

const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d('1'),
      platform: { os: 'linux', architecture: 'amd64' }
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d('2'),
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d('3'),
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: {
        'vnd.docker.reference.type': 'attestation-manifest',
        'vnd.docker.reference.digest': d('1')
      }
    }
  ]
})

beforeEach(() => {
  ecrMock.reset()
})

describe('indexPlatforms / platformMatches', () => {
  it('lists platforms and flags attestations', () => {
    expect(indexPlatforms(index)).toEqual([
      { digest: d('1'), platform: 'linux/amd64', attestation: false },
      { digest: d('2'), platform: 'linux/arm64/v8', attestation: false },
      { digest: d('3'), platform: 'unknown/unknown', attestation: true }
    ])
  })
  it.each([
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64/v8', true],
    ['linux/arm64/v7', 'linux/arm64/v8', false],
    ['linux/amd64', 'linux/arm64', false]
  ])('%s matches %s: %s', (wanted, actual, expected) => {
    expect(platformMatches(wanted, actual)).toBe(expected)
  })
})

describe('resolveScanTargets', () => {
  it('resolves a tag of a single image to its digest in the registry of the host', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          imageDigest: d('a'),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json'
        }
      ]
    })
    const r = await resolveScanTargets(
      ecr,
      parseImageReference(`${HOST}/team/api:sha-abc`),
      'linux/amd64'
    )
    expect(ecrMock.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'team/api',
      registryId: '123456789012',
      imageIds: [{ imageTag: 'sha-abc' }]
    })
    expect(r).toMatchObject({
      digest: d('a'),
      isIndex: false,
      targets: [{ digest: d('a'), repositoryName: 'team/api' }]
    })
    expect(ecrMock.commandCalls(BatchGetImageCommand)).toHaveLength(0)
  })

  it('resolves an index by digest to the requested platform image, skipping attestations', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: d('f'), imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }
      ]
    })
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageManifest: index,
          imageManifestMediaType: 'application/vnd.oci.image.index.v1+json'
        }
      ]
    })
    const r = await resolveScanTargets(
      ecr,
      parseImageReference(`team/api@${d('f')}`),
      'linux/amd64'
    )
    expect(ecrMock.commandCalls(DescribeImagesCommand)[0]?.args[0].input.imageIds).toEqual([
      { imageDigest: d('f') }
    ])
    expect(r.isIndex).toBe(true)
    expect(r.digest).toBe(d('f'))
    expect(r.targets).toEqual([
      { repositoryName: 'team/api', registryId: undefined, digest: d('1'), platform: 'linux/amd64' }
    ])
    expect(r.availablePlatforms).toEqual(['linux/amd64', 'linux/arm64/v8'])
    expect(r.skippedChildren).toBe(1)
  })

  it('gates every platform image with platform "all"', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: d('f') }] })
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: index }] })
    const r = await resolveScanTargets(ecr, parseImageReference('team/api:1'), 'all')
    expect(r.targets.map((t) => t.platform)).toEqual(['linux/amd64', 'linux/arm64/v8'])
  })

  it('names the platforms an index has when the requested one is missing', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: d('f'), imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }
      ]
    })
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: index }] })
    const error = await resolveScanTargets(
      ecr,
      parseImageReference('team/api:1'),
      'linux/s390x'
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toContain('input "platform"')
    expect((error as Error).message).toContain('"linux/amd64", "linux/arm64/v8", "all"')
  })

  it('turns ImageNotFoundException into an input error with the fix', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .rejects(
        awsError(
          'ImageNotFoundException',
          "The image with imageId {imageTag:'nope'} does not exist"
        )
      )
    const error = await resolveScanTargets(
      ecr,
      parseImageReference('team/api:nope'),
      'linux/amd64'
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(
      /^input "image": image team\/api:nope does not exist in ECR \(repository "team\/api"\)\. Pass the image-uri or image-ref output of build-tag-push/
    )
  })

  it('turns RepositoryNotFoundException into an input error', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(awsError('RepositoryNotFoundException'))
    await expect(
      resolveScanTargets(ecr, parseImageReference('nope:1'), 'linux/amd64')
    ).rejects.toThrow(/ECR repository "nope" does not exist/)
  })
})
