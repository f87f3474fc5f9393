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
  putImageTags
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
  it('adds missing tags, skips tags already on the image and sends media type + digest', async () => {
    ecrMock
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'a' }] })
      .resolves({ imageDetails: [{ imageDigest: D1 }] })
    ecrMock.on(DescribeImagesCommand, { imageIds: [{ imageTag: 'b' }] }).rejects(notFound())
    ecrMock.on(PutImageCommand).resolves({})
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

  it('treats ImageAlreadyExists as done (re-run safe)', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(notFound())
    ecrMock
      .on(PutImageCommand)
      .rejects(new ImageAlreadyExistsException({ message: 'already pushed', $metadata: {} }))
    expect(await putImageTags(ecr, repo, image, ['a'])).toEqual({ added: [], existing: ['a'] })
  })

  it('fails clearly when an immutable tag points at another image', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: D2 }] })
      .resolves({ imageDetails: [{ imageDigest: D2 }] })
    ecrMock
      .on(PutImageCommand)
      .rejects(new ImageTagAlreadyExistsException({ message: 'tag exists', $metadata: {} }))
    await expect(putImageTags(ecr, repo, image, ['v1'])).rejects.toThrow(
      `Tag "v1" already points at another image (${D2}) in the IMMUTABLE repository api. Immutable tags cannot move`
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
