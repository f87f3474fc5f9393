import { afterEach, describe, expect, it } from '@jest/globals'
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  LayersNotFoundException,
  PutImageCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import {
  describeImage,
  getImageConfigs,
  getImageManifest,
  MEDIA_TYPES,
  platformManifests,
  putImageTags,
  TagConflictError
} from '@shipline/ecr'

const ecrMock = mockClient(ECRClient)
const ecr = new ECRClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
})
const repo = { repositoryName: 'api', registryId: '123456789012' }
const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`
const CFG = `sha256:${'c'.repeat(64)}`
const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifest,
  config: { digest: CFG },
  layers: []
})
const image = { digest: D1, manifest, mediaType: MEDIA_TYPES.dockerManifest }
const notFound = () => new ImageNotFoundException({ message: 'not found', $metadata: {} })

afterEach(() => {
  ecrMock.reset()
})

describe('describeImage', () => {
  it('returns undefined for a missing image and the detail otherwise', async () => {
    ecrMock.on(DescribeImagesCommand, { imageIds: [{ imageTag: 'missing' }] }).rejects(notFound())
    ecrMock
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'v1' }] })
      .resolves({ imageDetails: [{ imageDigest: D1, imageTags: ['v1'] }] })
    expect(await describeImage(ecr, repo, { imageTag: 'missing' })).toBeUndefined()
    expect((await describeImage(ecr, repo, { imageTag: 'v1' }))?.imageDigest).toBe(D1)
  })
})

describe('getImageManifest', () => {
  it('asks for every manifest media type and returns the manifest', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageDigest: D1 },
          imageManifest: manifest,
          imageManifestMediaType: MEDIA_TYPES.dockerManifest
        }
      ]
    })
    const got = await getImageManifest(ecr, repo, { imageTag: 'v1' })
    expect(got).toEqual(image)
    expect(ecrMock.commandCalls(BatchGetImageCommand)[0]?.args[0].input.acceptedMediaTypes).toEqual(
      expect.arrayContaining([
        MEDIA_TYPES.ociIndex,
        MEDIA_TYPES.dockerList,
        MEDIA_TYPES.ociManifest,
        MEDIA_TYPES.dockerManifest
      ])
    )
  })

  it('explains a failure entry', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'nope' }]
    })
    await expect(getImageManifest(ecr, repo, { imageTag: 'v9' })).rejects.toThrow(
      /api:v9 was not found in ECR \(ImageTagDoesNotMatchDigest: nope\)/
    )
  })
})

describe('putImageTags', () => {
  /** ECR's view: tag → digest; DescribeImages by tag or digest answers from it. */
  function registry(initial: Record<string, string>) {
    const tags = new Map(Object.entries(initial))
    ecrMock
      .on(DescribeImagesCommand)
      .callsFake((input: { imageIds: { imageTag?: string; imageDigest?: string }[] }) => {
        const id = input.imageIds[0] ?? {}
        const digest = id.imageDigest ?? tags.get(id.imageTag ?? '')
        if (!digest || ![...tags.values()].includes(digest)) throw notFound()
        const imageTags = [...tags].filter(([, d]) => d === digest).map(([t]) => t)
        return { imageDetails: [{ imageDigest: digest, imageTags }] }
      })
    return tags
  }

  it('adds missing tags, skips tags already on the image and sends media type + digest', async () => {
    const tags = registry({ a: D1 })
    ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string }) => {
      tags.set(input.imageTag, D1)
      return {}
    })
    expect(await putImageTags(ecr, repo, image, ['a', 'b'])).toEqual({
      added: ['b'],
      existing: ['a']
    })
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input)).toEqual([
      {
        repositoryName: 'api',
        registryId: '123456789012',
        imageManifest: manifest,
        imageManifestMediaType: MEDIA_TYPES.dockerManifest,
        imageDigest: D1,
        imageTag: 'b'
      }
    ])
  })

  it('treats ImageAlreadyExists as done only when the tag, described again, names this digest (re-run safe)', async () => {
    const tags = registry({})
    ecrMock.on(PutImageCommand).callsFake(() => {
      tags.set('a', D1) // a concurrent writer tagged the same image first
      throw new ImageAlreadyExistsException({ message: 'already pushed', $metadata: {} })
    })
    expect(await putImageTags(ecr, repo, image, ['a'])).toEqual({ added: [], existing: ['a'] })
  })

  it.each([
    [
      'ImageAlreadyExistsException',
      () => new ImageAlreadyExistsException({ message: 'exists', $metadata: {} })
    ],
    [
      'ImageTagAlreadyExistsException',
      () => new ImageTagAlreadyExistsException({ message: 'tag exists', $metadata: {} })
    ]
  ])('fails on %s when the tag names another image (IMMUTABLE repository)', async (code, error) => {
    registry({ v1: D2 })
    ecrMock.on(PutImageCommand).rejects(error())
    const failure = await putImageTags(ecr, repo, image, ['v1']).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(TagConflictError)
    expect((failure as TagConflictError).currentDigest).toBe(D2)
    expect(String(failure)).toContain(
      `Tag "v1" already points at another image (${D2}, not ${D1}) in the repository api: ECR refused to move it (${code}). Immutable tags cannot move`
    )
  })

  it('fails when PutImage says ImageAlreadyExists but the tag names no image at all', async () => {
    registry({})
    ecrMock
      .on(PutImageCommand)
      .rejects(new ImageAlreadyExistsException({ message: 'exists', $metadata: {} }))
    await expect(putImageTags(ecr, repo, image, ['v1'])).rejects.toThrow(
      'ECR refused to write tag "v1" for ' + D1
    )
  })

  it('confirms every tag landed before reporting it', async () => {
    registry({})
    ecrMock.on(PutImageCommand).resolves({}) // a PutImage that "succeeds" without tagging anything
    await expect(putImageTags(ecr, repo, image, ['v1', 'v2'])).rejects.toThrow(
      `ECR lists no image api@${D1} after tagging it`
    )
    const tags = registry({ v1: D1 })
    ecrMock.on(PutImageCommand).resolves({})
    expect(tags.size).toBe(1)
    await expect(putImageTags(ecr, repo, image, ['v1', 'v2'])).rejects.toThrow(
      `ECR does not list "v2" on api@${D1} after tagging it (it lists v1)`
    )
  })

  it('explains the cross-repository limit when layers are missing', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(notFound())
    ecrMock.on(PutImageCommand).rejects(
      new LayersNotFoundException({
        message: 'The image manifest refers to layers that do not exist',
        $metadata: {}
      })
    )
    await expect(putImageTags(ecr, repo, image, ['v1'])).rejects.toThrow(
      /LayersNotFoundException.*every layer .* must already be in the target repository/
    )
  })
})

describe('index manifests', () => {
  const index = JSON.stringify({
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: D1,
        platform: { os: 'linux', architecture: 'amd64' }
      },
      {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: D2,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }
      },
      {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: `sha256:${'a'.repeat(64)}`,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: {
          'vnd.docker.reference.type': 'attestation-manifest',
          'vnd.docker.reference.digest': D1
        }
      }
    ]
  })

  it('lists the platform images without attestation manifests', () => {
    expect(platformManifests(index)).toEqual([
      { platform: 'linux/amd64', digest: D1, mediaType: MEDIA_TYPES.ociManifest },
      { platform: 'linux/arm64/v8', digest: D2, mediaType: MEDIA_TYPES.ociManifest }
    ])
  })

  it('reads each platform config through GetDownloadUrlForLayer', async () => {
    const top = `sha256:${'f'.repeat(64)}`
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: top }] }).resolves({
      images: [
        {
          imageId: { imageDigest: top },
          imageManifest: index,
          imageManifestMediaType: MEDIA_TYPES.ociIndex
        }
      ]
    })
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: D1 }] }).resolves({
      images: [
        {
          imageId: { imageDigest: D1 },
          imageManifest: manifest.replace(CFG, `sha256:${'3'.repeat(64)}`),
          imageManifestMediaType: MEDIA_TYPES.ociManifest
        }
      ]
    })
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: D2 }] }).resolves({
      images: [
        {
          imageId: { imageDigest: D2 },
          imageManifest: manifest.replace(CFG, `sha256:${'4'.repeat(64)}`),
          imageManifestMediaType: MEDIA_TYPES.ociManifest
        }
      ]
    })
    ecrMock.on(GetDownloadUrlForLayerCommand).callsFake((input: { layerDigest: string }) => ({
      downloadUrl: `https://s3.example/${input.layerDigest}`
    }))
    const users: Record<string, string> = {
      [`sha256:${'3'.repeat(64)}`]: '65532',
      [`sha256:${'4'.repeat(64)}`]: ''
    }
    const fetched: string[] = []
    const fetcher = (url: string) => {
      fetched.push(url)
      const digest = url.slice('https://s3.example/'.length)
      return Promise.resolve({
        ok: true,
        status: 200,
        text: () =>
          Promise.resolve(JSON.stringify({ config: { User: users[digest], Labels: { a: 'b' } } }))
      })
    }
    const configs = await getImageConfigs(ecr, repo, top, fetcher)
    expect(configs).toEqual([
      { platform: 'linux/amd64', digest: D1, user: '65532', labels: { a: 'b' } },
      { platform: 'linux/arm64/v8', digest: D2, user: '', labels: { a: 'b' } }
    ])
    expect(fetched).toHaveLength(2)
  })
})
