import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  ImageNotFoundException,
  PutImageCommand,
  RepositoryNotFoundException
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import type { Exec, ExecOptions } from '../../../../packages/action-kit/src/index.js'
import { type Deps, run } from '../../../../actions/build-tag-push/src/main.js'
import {
  buildFingerprint,
  formatFingerprint
} from '../../../../actions/build-tag-push/src/fingerprint.js'
import type { BuildInputs } from '../../../../actions/build-tag-push/src/inputs.js'
import { parseFileCommands } from '../../../helpers/runner.js'

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const HEAD = 'ffffeeeeddddccccbbbbaaaa9999888877776666'
const DIGEST = `sha256:${'d'.repeat(64)}`
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const URI = `${REGISTRY}/api`
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { digest: `sha256:${'c'.repeat(64)}` },
  layers: []
})
const PASSWORD = 'ecr-password-Zq9'

const ecrMock = mockClient(ECRClient)
const saved = { ...process.env }

interface Call {
  command: string
  args: string[]
  options: ExecOptions | undefined
}

let dir: string
let workspace: string
let tags: Map<string, string>
let calls: Call[]
let user: string
/** The commit `git rev-parse HEAD` reports for the workspace. */
let checkedOut: string
/** Labels of the image config in ECR (read through GetDownloadUrlForLayer + fetch). */
let configLabels: Record<string, string>
let repoExists: boolean
let log: string[]
let restoreStdout: () => void
const logText = () => log.join('')

function fakeExec(): Exec {
  return (command, args, options) => {
    calls.push({ command, args, options })
    const ok = (stdout = '') => Promise.resolve({ exitCode: 0, stdout, stderr: '' })
    if (command === 'git' && args[0] === 'log') return ok('2026-05-01T12:34:56+02:00\n')
    if (command === 'git' && args[0] === 'rev-parse') return ok(`${checkedOut}\n`)
    if (args[0] === 'buildx')
      return Promise.resolve({
        exitCode: 1,
        stdout: '',
        stderr: 'docker: unknown command: docker buildx'
      })
    if (args[0] === 'version') return ok('28.2.2\n')
    if (args[0] === 'image') return ok(`{"User":"${user}","Labels":{}}|sha256:localid\n`)
    if (args[0] === 'push') {
      const tag = (args[1] ?? '').split(':').pop() ?? ''
      tags.set(tag, DIGEST)
      return ok(`${tag}: digest: ${DIGEST} size: 527\n`)
    }
    return ok()
  }
}

function deps(): Deps {
  return {
    exec: fakeExec(),
    ecr: () =>
      Promise.resolve(
        new ECRClient({
          region: 'us-east-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
        })
      ),
    fetch: (url) =>
      url === 'https://layers.test/config'
        ? Promise.resolve({
            ok: true,
            status: 200,
            text: () =>
              Promise.resolve(JSON.stringify({ config: { User: '65532', Labels: configLabels } }))
          })
        : Promise.reject(new Error(`unexpected fetch ${url}`)),
    now: (() => {
      let t = 0
      return () => (t += 4000)
    })(),
    env: process.env
  }
}

function setInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

function outputs(): Record<string, string> {
  return parseFileCommands(readFileSync(join(dir, 'output'), 'utf8'))
}

function stubEcr(): void {
  const repository = {
    repositoryName: 'api',
    repositoryUri: URI,
    registryId: '123456789012',
    repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/api',
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: true }
  }
  ecrMock.on(DescribeRepositoriesCommand).callsFake(() => {
    if (!repoExists) throw new RepositoryNotFoundException({ message: 'no repo', $metadata: {} })
    return { repositories: [repository] }
  })
  ecrMock.on(CreateRepositoryCommand).callsFake(() => {
    repoExists = true
    return { repository }
  })
  ecrMock
    .on(DescribeImagesCommand)
    .callsFake((input: { imageIds: { imageTag?: string; imageDigest?: string }[] }) => {
      const id = input.imageIds[0] ?? {}
      const digest = id.imageDigest ?? (id.imageTag ? tags.get(id.imageTag) : undefined)
      if (!digest || ![...tags.values()].includes(digest))
        throw new ImageNotFoundException({ message: 'not found', $metadata: {} })
      return {
        imageDetails: [
          {
            imageDigest: digest,
            imageTags: [...tags].filter(([, d]) => d === digest).map(([t]) => t),
            imageSizeInBytes: 1_000_000
          }
        ]
      }
    })
  ecrMock
    .on(BatchGetImageCommand)
    .callsFake((input: { imageIds: { imageDigest?: string; imageTag?: string }[] }) => {
      const id = input.imageIds[0] ?? {}
      const digest = id.imageDigest ?? tags.get(id.imageTag ?? '')
      return digest
        ? {
            images: [
              {
                imageId: { imageDigest: digest },
                imageManifest: MANIFEST,
                imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json'
              }
            ]
          }
        : {
            images: [],
            failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }]
          }
    })
  ecrMock.on(PutImageCommand).callsFake((input: { imageTag: string; imageDigest: string }) => {
    tags.set(input.imageTag, input.imageDigest)
    return { image: {} }
  })
  ecrMock.on(GetDownloadUrlForLayerCommand).resolves({ downloadUrl: 'https://layers.test/config' })
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64'),
        proxyEndpoint: `https://${REGISTRY}`
      }
    ]
  })
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'btp-main-'))
  workspace = join(dir, 'ws')
  mkdirSync(workspace)
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\nUSER 65532\n')
  writeFileSync(join(dir, 'output'), '')
  writeFileSync(join(dir, 'summary'), '')
  writeFileSync(join(dir, 'state'), '')
  Object.assign(process.env, {
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: SHA,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
    RUNNER_TEMP: join(dir, 'rt'),
    AWS_REGION: 'us-east-1'
  })
  tags = new Map()
  calls = []
  user = '65532'
  checkedOut = SHA
  configLabels = {}
  repoExists = true
  stubEcr()
  log = []
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      log.push(String(chunk))
      return true
    })
  restoreStdout = () => spy.mockRestore()
})

afterEach(() => {
  restoreStdout()
  ecrMock.reset()
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  process.exitCode = undefined
})

const dockerCalls = () => calls.filter((c) => c.command === 'docker').map((c) => c.args)

/** The fingerprint label of a build with the default inputs in this workspace. */
function defaultFingerprint(overrides: Partial<BuildInputs> = {}): string {
  const build = {
    context: workspace,
    dockerfile: join(workspace, 'Dockerfile'),
    buildArgs: [],
    target: undefined,
    platforms: [],
    ...overrides
  } as unknown as BuildInputs
  return formatFingerprint(buildFingerprint(build, workspace))
}

describe('build-tag-push run()', () => {
  it('builds with the engine builder, pushes the commit tag and adds the short tag with PutImage', async () => {
    setInputs({ repository: 'api' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    const docker = dockerCalls()
    expect(docker.map((a) => a[0])).toEqual([
      'login',
      'buildx',
      'version',
      'build',
      'image',
      'push'
    ])
    expect(docker[3]).toEqual([
      'build',
      '--file',
      join(workspace, 'Dockerfile'),
      '--label',
      `dev.shipline.build-inputs=${defaultFingerprint()}`,
      '--label',
      'org.opencontainers.image.created=2026-05-01T10:34:56Z',
      '--label',
      `org.opencontainers.image.revision=${SHA}`,
      '--label',
      'org.opencontainers.image.source=https://github.com/acme/shop',
      '--label',
      'org.opencontainers.image.version=a1b2c3d',
      '--tag',
      `${URI}:${SHA}`,
      workspace
    ])
    expect(docker[5]).toEqual(['push', `${URI}:${SHA}`])
    const configDir =
      calls.find((c) => c.args[0] === 'login')?.options?.env?.['DOCKER_CONFIG'] ?? ''
    expect(configDir.startsWith(join(dir, 'rt'))).toBe(true)
    expect(calls.every((c) => !c.args.join(' ').includes(PASSWORD))).toBe(true)
    expect(calls.find((c) => c.args[0] === 'login')?.options?.stdin).toBe(PASSWORD)
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual([
      'a1b2c3d'
    ])
    expect(outputs()).toEqual({
      'image-uri': `${URI}:a1b2c3d`,
      'image-digest': DIGEST,
      'image-ref': `${URI}@${DIGEST}`,
      tags: JSON.stringify(['a1b2c3d', SHA]),
      registry: REGISTRY,
      'repository-uri': URI,
      built: 'true',
      'platform-digests': '{}'
    })
    const summary = readFileSync(join(dir, 'summary'), 'utf8')
    expect(summary).toContain('built and pushed')
    expect(summary).toContain(
      'https://us-east-1.console.aws.amazon.com/ecr/repositories/private/123456789012/api/_/image/'
    )
    expect(summary).toContain('976.6 KiB')
  })

  it('reuses an image already pushed for the commit: no docker at all, only the missing tags', async () => {
    tags.set(SHA, DIGEST)
    tags.set('a1b2c3d', DIGEST)
    configLabels = { 'dev.shipline.build-inputs': defaultFingerprint() }
    setInputs({ repository: 'api', tags: 'v1.0.0' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(logText()).toContain(`api:${SHA} already exists (${DIGEST}): checking its build inputs`)
    expect(logText()).toContain('Its build inputs match: skipping the build')
    expect(dockerCalls()).toEqual([])
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0)
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ imageTag: 'v1.0.0', imageDigest: DIGEST, imageManifest: MANIFEST })
    ])
    expect(outputs()).toMatchObject({
      built: 'false',
      'image-digest': DIGEST,
      tags: JSON.stringify(['a1b2c3d', SHA, 'v1.0.0'])
    })
  })

  it('refuses a root image before pushing it', async () => {
    user = ''
    setInputs({ repository: 'api' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(dockerCalls().map((a) => a[0])).not.toContain('push')
    expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0)
    expect(outputs()).toEqual({})
    expect(logText()).toMatch(
      /::error::build-tag-push: The image built from .*Dockerfile runs as root \(its config User is empty\)\. Add a non-root user .*USER 65532:65532/
    )
  })

  it('allows a root image with allow-root', async () => {
    user = '0:0'
    setInputs({ repository: 'api', 'allow-root': 'true' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(outputs()['built']).toBe('true')
    expect(logText()).toMatch(
      /::warning::The image built from .* runs as root \(its config User is "0:0"\); allowed because "allow-root" is true/
    )
  })

  it('tags the pull request head commit, not the merge commit', async () => {
    const event = join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { head: { sha: HEAD } } }))
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event })
    checkedOut = HEAD
    setInputs({ repository: 'api', 'short-sha-length': '12' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(JSON.parse(outputs()['tags'] ?? '')).toEqual([HEAD.slice(0, 12), HEAD])
    expect(dockerCalls().find((a) => a[0] === 'build')).toContain(
      `org.opencontainers.image.revision=${HEAD}`
    )
  })

  it('promotes with BatchGetImage + PutImage only', async () => {
    tags.set('rc1', DIGEST)
    setInputs({ repository: 'api', 'source-image': 'api:rc1', tags: 'v2.0.0' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(calls).toEqual([])
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual([
      'v2.0.0'
    ])
    expect(outputs()).toMatchObject({
      'image-uri': `${URI}:v2.0.0`,
      built: 'false',
      'image-ref': `${URI}@${DIGEST}`
    })
  })

  it('fails on a bad input before any AWS call', async () => {
    let ecrCreated = false
    setInputs({ repository: 'api', tags: 'bad tag' })
    await run({
      ...deps(),
      ecr: () => ((ecrCreated = true), Promise.reject(new Error('unreachable')))
    })
    expect(process.exitCode).toBe(1)
    expect(ecrCreated).toBe(false)
    expect(ecrMock.calls()).toHaveLength(0)
    expect(logText()).toContain(
      '::error::build-tag-push: input "tags": "bad tag" is not a valid image tag'
    )
  })

  it('names the repository and the fix when it is missing and create-repository is false', async () => {
    repoExists = false
    setInputs({ repository: 'api', 'create-repository': 'false' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(calls.filter((c) => c.command === 'docker')).toEqual([])
    expect(logText()).toContain(
      '::error::build-tag-push: ECR repository "api" does not exist and "create-repository" is false. Create it first'
    )
  })

  it('writes CodePipeline artifacts by digest', async () => {
    setInputs({ repository: 'api', 'codepipeline-artifacts': 'out', 'container-name': 'web' })
    await run(deps())
    expect(
      JSON.parse(readFileSync(join(workspace, 'out', 'imagedefinitions.json'), 'utf8'))
    ).toEqual([{ name: 'web', imageUri: `${URI}@${DIGEST}` }])
    expect(JSON.parse(readFileSync(join(workspace, 'out', 'imageDetail.json'), 'utf8'))).toEqual({
      ImageURI: `${URI}@${DIGEST}`
    })
  })

  it('refuses buildx-only inputs on the engine builder instead of ignoring them', async () => {
    setInputs({ repository: 'api', provenance: 'true' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toMatch(
      /::error::build-tag-push: "provenance" needs docker buildx \(provenance attestations\)/
    )
    expect(dockerCalls().map((a) => a[0])).not.toContain('build')
  })

  it('post step logs out and deletes the private docker config', async () => {
    const configDir = mkdtempSync(join(dir, 'cfg-'))
    Object.assign(process.env, {
      STATE_phase: 'main',
      'STATE_docker-config': configDir,
      STATE_registry: REGISTRY
    })
    await run(deps())
    expect(dockerCalls()).toEqual([['logout', REGISTRY]])
    expect(existsSync(configDir)).toBe(false)
    expect(ecrMock.calls()).toHaveLength(0)
  })

  it.each([
    ['a different target', { target: 'debug' }, { target: 'release' }, '"target" differs'],
    ['another Dockerfile', { dockerfile: 'worker.Dockerfile' }, {}, '"dockerfile" differs'],
    [
      'another build-arg value',
      { 'build-args': 'API_KEY=new-value-9f8e' },
      { buildArgs: [{ key: 'API_KEY', value: 'old-value-1a2b' }] },
      '"build-args" (a value differs; values are compared by hash and never printed) differs'
    ]
  ])(
    'refuses to reuse the commit image built with %s, naming the input and the fix',
    async (_what, inputs, built, message) => {
      writeFileSync(join(workspace, 'worker.Dockerfile'), 'FROM scratch\nUSER 65532\n')
      tags.set(SHA, DIGEST)
      configLabels = { 'dev.shipline.build-inputs': defaultFingerprint(built) }
      setInputs({ repository: 'api', ...inputs })
      await run(deps())
      expect(process.exitCode).toBe(1)
      expect(logText()).toContain(
        `::error::build-tag-push: api:${SHA} (${DIGEST}) was built from different build inputs: ${message}. Reusing it would deploy the wrong image. Set "tag-suffix"`
      )
      expect(logText()).not.toMatch(/new-value-9f8e|old-value-1a2b/)
      expect(dockerCalls()).toEqual([])
      expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0)
    }
  )

  it('refuses to reuse an image without the build-inputs label', async () => {
    tags.set(SHA, DIGEST)
    setInputs({ repository: 'api' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toContain(
      `::error::build-tag-push: api:${SHA} (${DIGEST}) already exists but carries no dev.shipline.build-inputs label`
    )
    expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0)
  })

  it('tag-suffix gives the build its own commit tags', async () => {
    tags.set(SHA, DIGEST) // another target's image holds the plain commit tag
    setInputs({ repository: 'api', 'tag-suffix': 'worker', target: 'worker' })
    writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch AS worker\nUSER 65532\n')
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(JSON.parse(outputs()['tags'] ?? '')).toEqual(['a1b2c3d-worker', `${SHA}-worker`])
    expect(dockerCalls().find((a) => a[0] === 'push')).toEqual(['push', `${URI}:${SHA}-worker`])
    expect(outputs()['image-uri']).toBe(`${URI}:a1b2c3d-worker`)
  })

  it.each([
    [
      'pull_request (the default checkout is the merge commit)',
      'pull_request',
      /^$/,
      /The workspace is checked out at ffff\w+ \(the merge commit GITHUB_SHA, actions\/checkout's default\), but the image would be tagged with the pull request head 0123\w+: its content would not match its tag\. Check out the head commit \(actions\/checkout with ref: \$\{\{ github\.event\.pull_request\.head\.sha \}\}\), or tag the merge commit you built explicitly with commit-sha: \$\{\{ github\.sha \}\}/
    ],
    [
      'pull_request_target (never advise checking out the head)',
      'pull_request_target',
      /pull_request\.head\.sha/,
      /\(the base branch, as pull_request_target checks out\), but the image would be tagged with the pull request head 0123\w+: its content would not match its tag\. Do not check out the pull request head under pull_request_target: that job runs with the base repository's secrets and a privileged token and AWS role, so building the head would run untrusted code with them/
    ]
  ])('fails on %s before any AWS call', async (_what, eventName, forbidden, message) => {
    const prHead = '0123456789abcdef0123456789abcdef01234567'
    const event = join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { head: { sha: prHead } } }))
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: event,
      GITHUB_SHA: HEAD
    })
    checkedOut = HEAD
    setInputs({ repository: 'api' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toMatch(message)
    expect(logText()).not.toMatch(forbidden)
    expect(ecrMock.calls()).toHaveLength(0)
    expect(dockerCalls()).toEqual([])
  })

  it('commit-sha tags the merge commit that was checked out', async () => {
    const event = join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { head: { sha: HEAD } } }))
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event })
    checkedOut = SHA // GITHUB_SHA, the merge commit
    setInputs({ repository: 'api', 'commit-sha': SHA })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(JSON.parse(outputs()['tags'] ?? '')).toEqual(['a1b2c3d', SHA])
  })

  it('warns when the pull request head is built under pull_request_target', async () => {
    const event = join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { head: { sha: HEAD } } }))
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: event
    })
    checkedOut = HEAD
    setInputs({ repository: 'api' })
    await run(deps())
    expect(logText()).toMatch(
      /::warning::pull_request_target: the workspace is checked out at the pull request head ffff\w+\. This job runs with the base repository's secrets/
    )
  })

  it('fails when commit-sha is not the checked-out commit', async () => {
    checkedOut = HEAD
    setInputs({ repository: 'api', 'commit-sha': SHA })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toContain(
      `::error::build-tag-push: The workspace is checked out at ${HEAD}, but "commit-sha" is ${SHA}: the image content would not match its tag. Check out that commit`
    )
    expect(ecrMock.calls()).toHaveLength(0)
  })
})
