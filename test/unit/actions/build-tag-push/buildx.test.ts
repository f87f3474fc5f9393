import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  PutImageCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import type { Exec } from '../../../../packages/action-kit/src/index.js'
import { type Deps, run } from '../../../../actions/build-tag-push/src/main.js'
import { parseFileCommands } from '../../../helpers/runner.js'

const SHA = '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567'
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const URI = `${REGISTRY}/api`
const INDEX = `sha256:${'1'.repeat(64)}`
const AMD = `sha256:${'2'.repeat(64)}`
const ARM = `sha256:${'3'.repeat(64)}`
const ATT = `sha256:${'4'.repeat(64)}`
/** The index another build of the same commit pushed first. */
const OTHER = `sha256:${'5'.repeat(64)}`
const indexManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: AMD,
      platform: { os: 'linux', architecture: 'amd64' }
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: ARM,
      platform: { os: 'linux', architecture: 'arm64' }
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: ATT,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' }
    }
  ]
})
const child = (config: string) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { digest: config },
    layers: []
  })

const ecrMock = mockClient(ECRClient)
const saved = { ...process.env }
let dir: string
let argvs: string[][]
let tags: Map<string, string>
let users: Record<string, string>
/** Labels of the configs in ECR: those of the last buildx build (as pushed), unless a test overrides them. */
let configLabels: Record<string, string>
/** Makes the first PutImage of the full-SHA tag lose a race against another build of the commit. */
let raceWinner: string | undefined
let restore: () => void
let log: string[]

function exec(): Exec {
  return (command, args) => {
    if (command === 'docker') argvs.push(args)
    if (command === 'git')
      return Promise.resolve({ exitCode: 128, stdout: '', stderr: 'not a git repository' })
    if (args[0] === 'buildx' && args[1] === 'version')
      return Promise.resolve({
        exitCode: 0,
        stdout: 'github.com/docker/buildx v0.30.1 1a2b3c\n',
        stderr: ''
      })
    if (args[0] === 'buildx' && args[1] === 'build') {
      configLabels = Object.fromEntries(
        args
          .filter((_a, i) => args[i - 1] === '--label')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
      )
      const file = args[args.indexOf('--metadata-file') + 1] as string
      writeFileSync(
        file,
        JSON.stringify({
          'containerimage.digest': INDEX,
          'containerimage.descriptor': {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: INDEX,
            size: 900
          }
        })
      )
    }
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' })
  }
}

const deps = (): Deps => ({
  exec: exec(),
  ecr: () =>
    Promise.resolve(
      new ECRClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
      })
    ),
  fetch: (url) =>
    Promise.resolve({
      ok: true,
      status: 200,
      text: () =>
        Promise.resolve(
          JSON.stringify({
            config: { User: users[url.split('/').pop() as string] ?? '', Labels: configLabels }
          })
        )
    }),
  now: () => 0,
  env: process.env
})

beforeEach(() => {
  process.exitCode = undefined
  dir = mkdtempSync(join(tmpdir(), 'btp-buildx-'))
  mkdirSync(join(dir, 'ws'))
  writeFileSync(join(dir, 'ws', 'Dockerfile'), 'FROM scratch\n')
  writeFileSync(join(dir, 'output'), '')
  writeFileSync(join(dir, 'state'), '')
  Object.assign(process.env, {
    GITHUB_WORKSPACE: join(dir, 'ws'),
    GITHUB_SHA: SHA,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    RUNNER_TEMP: join(dir, 'rt'),
    AWS_REGION: 'us-east-1',
    SOURCE_DATE_EPOCH: '1700000000',
    INPUT_REPOSITORY: 'api',
    INPUT_PLATFORMS: 'linux/amd64,linux/arm64',
    INPUT_PROVENANCE: 'mode=max',
    'INPUT_ECR-CACHE': 'true'
  })
  argvs = []
  configLabels = {}
  raceWinner = undefined
  tags = new Map()
  users = { [`sha256:${'a'.repeat(64)}`]: '65532', [`sha256:${'b'.repeat(64)}`]: '65532' }
  ecrMock.on(DescribeRepositoriesCommand).resolves({
    repositories: [
      {
        repositoryName: 'api',
        repositoryUri: URI,
        registryId: '123456789012',
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true }
      }
    ]
  })
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from('AWS:pw-buildx-test').toString('base64'),
        proxyEndpoint: `https://${REGISTRY}`
      }
    ]
  })
  ecrMock
    .on(DescribeImagesCommand)
    .callsFake((input: { imageIds: { imageTag?: string; imageDigest?: string }[] }) => {
      const id = input.imageIds[0] ?? {}
      const digest = id.imageDigest ?? tags.get(id.imageTag ?? '')
      if (!digest || ![...tags.values()].includes(digest))
        throw new ImageNotFoundException({ message: 'nf', $metadata: {} })
      const imageTags = [...tags].filter(([, d]) => d === digest).map(([t]) => t)
      return { imageDetails: [{ imageDigest: digest, imageTags, imageSizeInBytes: 42 }] }
    })
  ecrMock.on(BatchGetImageCommand).callsFake((input: { imageIds: { imageDigest?: string }[] }) => {
    const d = input.imageIds[0]?.imageDigest
    const body =
      d === INDEX || d === OTHER
        ? indexManifest
        : child(d === AMD ? `sha256:${'a'.repeat(64)}` : `sha256:${'b'.repeat(64)}`)
    return {
      images: [
        {
          imageId: { imageDigest: d },
          imageManifest: body,
          imageManifestMediaType:
            d === INDEX || d === OTHER
              ? 'application/vnd.oci.image.index.v1+json'
              : 'application/vnd.oci.image.manifest.v1+json'
        }
      ]
    }
  })
  ecrMock.on(GetDownloadUrlForLayerCommand).callsFake((input: { layerDigest: string }) => ({
    downloadUrl: `https://s3.test/${input.layerDigest}`
  }))
  ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string; imageDigest: string }) => {
    if (raceWinner && input.imageTag === SHA) {
      tags.set(SHA, raceWinner)
      tags.set(SHA.slice(0, 7), raceWinner)
      raceWinner = undefined
      throw new ImageTagAlreadyExistsException({ message: 'tag exists', $metadata: {} })
    }
    tags.set(input.imageTag, input.imageDigest)
    return {}
  })
  log = []
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      log.push(String(chunk))
      return true
    })
  restore = () => spy.mockRestore()
})

afterEach(() => {
  restore()
  ecrMock.reset()
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  process.exitCode = undefined
})

describe('build-tag-push with buildx', () => {
  it('pushes by digest, checks every platform config in ECR, then tags the index and outputs per-platform digests', async () => {
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    const build = argvs.find((a) => a[1] === 'build') ?? []
    const metadataFile = build[build.indexOf('--metadata-file') + 1] as string
    expect(build).toEqual([
      'buildx',
      'build',
      '--file',
      join(dir, 'ws', 'Dockerfile'),
      '--label',
      expect.stringMatching(
        /^dev\.shipline\.build-inputs=v1;context=[0-9a-f]{16};dockerfile=[0-9a-f]{16};target=[0-9a-f]{16};platforms=[0-9a-f]{16};build-arg-names=[0-9a-f]{16};build-arg-values=[0-9a-f]{16}$/
      ),
      '--label',
      'org.opencontainers.image.created=2023-11-14T22:13:20Z',
      '--label',
      `org.opencontainers.image.revision=${SHA}`,
      '--label',
      'org.opencontainers.image.source=https://github.com/acme/shop',
      '--label',
      'org.opencontainers.image.version=0a1b2c3',
      '--cache-from',
      `type=registry,ref=${URI}:buildcache`,
      '--cache-to',
      `type=registry,ref=${URI}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`,
      '--platform',
      'linux/amd64,linux/arm64',
      '--provenance',
      'mode=max',
      '--sbom',
      'false',
      '--output',
      `type=image,name=${URI},push-by-digest=true,name-canonical=true,push=true`,
      '--metadata-file',
      metadataFile,
      join(dir, 'ws')
    ])
    expect(metadataFile.startsWith(join(dir, 'rt'))).toBe(true)
    expect(argvs.some((a) => a[0] === 'push' || (a[0] === 'build' && a.length > 1))).toBe(false)
    expect(ecrMock.commandCalls(GetDownloadUrlForLayerCommand)).toHaveLength(2)
    expect(
      ecrMock
        .commandCalls(PutImageCommand)
        .map((c) => [c.args[0].input.imageTag, c.args[0].input.imageDigest])
    ).toEqual([
      [SHA, INDEX], // the full-SHA tag first: a run interrupted after it is reused by the re-run
      ['0a1b2c3', INDEX]
    ])
    const out = parseFileCommands(readFileSync(join(dir, 'output'), 'utf8'))
    expect(out['image-digest']).toBe(INDEX)
    expect(JSON.parse(out['platform-digests'] ?? '')).toEqual({
      'linux/amd64': AMD,
      'linux/arm64': ARM
    })
  })

  it('refuses a root platform image before any tag is written', async () => {
    users[`sha256:${'b'.repeat(64)}`] = 'root'
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0)
    expect(log.join('')).toMatch(
      new RegExp(
        `::error::build-tag-push: The image ${URI}@${ARM} \\(linux/arm64\\) runs as root \\(its config User is "root"\\)`
      )
    )
  })

  it('reuses the image of a concurrent build of the same commit that tagged it first (same build inputs): built=false, and why', async () => {
    raceWinner = OTHER
    await run(deps())
    expect(log.join('')).not.toContain('::error::')
    expect(process.exitCode).toBeUndefined()
    const out = parseFileCommands(readFileSync(join(dir, 'output'), 'utf8'))
    expect(out).toMatchObject({
      built: 'false',
      'image-digest': OTHER,
      'image-ref': `${URI}@${OTHER}`
    })
    expect(tags.get(SHA)).toBe(OTHER)
    expect(log.join('')).toContain(
      '::notice::built=false: another build of this commit pushed api:' +
        SHA +
        ' first, from the same build inputs'
    )
    expect(log.join('')).not.toMatch(/remove .* from "tags"/)
  })

  it('fails a lost race when the winner was built from other build inputs, naming the input and the fix', async () => {
    raceWinner = OTHER
    process.env['INPUT_BUILD-ARGS'] = 'API_TOKEN=s3cr3t-value-123'
    const realExec = deps().exec
    const d = deps()
    d.exec = async (command, args, options) => {
      const result = await realExec(command, args, options)
      // the other build had no build-args: its label differs in build-arg names and values
      if (args[1] === 'build') {
        configLabels['dev.shipline.build-inputs'] = (
          configLabels['dev.shipline.build-inputs'] ?? ''
        ).replace(/build-arg-names=[0-9a-f]{16}/, `build-arg-names=${'0'.repeat(16)}`)
      }
      return result
    }
    await run(d)
    expect(process.exitCode).toBe(1)
    const text = log.join('')
    expect(text).toMatch(
      /::error::build-tag-push: api:0a1b2c3\S* \(sha256:5+\) was built from different build inputs: "build-args" \(different argument names\) differs\. Reusing it would deploy the wrong image\. Set "tag-suffix"/
    )
    expect(text).not.toContain('s3cr3t-value-123')
    expect(text).not.toMatch(/remove .* from "tags"/)
  })
})
