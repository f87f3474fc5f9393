import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Exec, ExecOptions } from '../../../packages/action-kit/src/index.js'
import { ecrCacheRefs } from '@shipline/ecr'
import {
  buildxArgs,
  classifyDockerError,
  createDockerConfigDir,
  detectBuilder,
  dockerLogin,
  dockerPush,
  engineBuildArgs,
  inspectLocalImage,
  isRootUser,
  parsePushDigest,
  writeSecretFiles,
  type BuildSpec
} from '@shipline/oci'

interface Call {
  command: string
  args: string[]
  options: ExecOptions | undefined
}

function fakeExec(
  respond: (args: string[]) => { exitCode?: number; stdout?: string; stderr?: string }
): { exec: Exec; calls: Call[] } {
  const calls: Call[] = []
  const exec: Exec = (command, args, options) => {
    calls.push({ command, args, options })
    const r = respond(args)
    return Promise.resolve({
      exitCode: r.exitCode ?? 0,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? ''
    })
  }
  return { exec, calls }
}

const spec: BuildSpec = {
  context: '/ws/app',
  dockerfile: '/ws/app/Dockerfile',
  buildArgs: [
    { key: 'NODE_ENV', value: 'production' },
    { key: 'URL', value: 'a=b' }
  ],
  labels: { 'org.opencontainers.image.revision': 'abc', 'a.b': 'c' },
  target: 'runtime',
  platforms: [],
  secretFiles: [{ id: 'npm', path: '/tmp/rt/s/secret-0' }],
  cacheFrom: ['type=registry,ref=r/api:buildcache'],
  cacheTo: []
}

describe('buildx argv', () => {
  it('pushes by digest with metadata file, attestations, platforms and the ECR cache shorthand', () => {
    const cache = ecrCacheRefs('123456789012.dkr.ecr.us-east-1.amazonaws.com/api')
    expect(cache).toEqual({
      from: 'type=registry,ref=123456789012.dkr.ecr.us-east-1.amazonaws.com/api:buildcache',
      to: 'type=registry,ref=123456789012.dkr.ecr.us-east-1.amazonaws.com/api:buildcache,mode=max,image-manifest=true,oci-mediatypes=true'
    })
    const args = buildxArgs({
      ...spec,
      cacheFrom: [cache.from],
      cacheTo: [cache.to],
      platforms: ['linux/amd64', 'linux/arm64'],
      repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/api',
      metadataFile: '/tmp/rt/meta.json',
      provenance: 'mode=max',
      sbom: false
    })
    expect(args).toEqual([
      'buildx',
      'build',
      '--file',
      '/ws/app/Dockerfile',
      '--build-arg',
      'NODE_ENV=production',
      '--build-arg',
      'URL=a=b',
      '--label',
      'a.b=c',
      '--label',
      'org.opencontainers.image.revision=abc',
      '--target',
      'runtime',
      '--secret',
      'id=npm,src=/tmp/rt/s/secret-0',
      '--cache-from',
      cache.from,
      '--cache-to',
      cache.to,
      '--platform',
      'linux/amd64,linux/arm64',
      '--provenance',
      'mode=max',
      '--sbom',
      'false',
      '--output',
      'type=image,name=123456789012.dkr.ecr.us-east-1.amazonaws.com/api,push-by-digest=true,name-canonical=true,push=true',
      '--metadata-file',
      '/tmp/rt/meta.json',
      '/ws/app'
    ])
  })
})

describe('engine builder argv', () => {
  it('uses the classic builder when BuildKit needs buildx', () => {
    const { args, env } = engineBuildArgs(
      { ...spec, secretFiles: [], cacheFrom: [] },
      { buildkit: false },
      'r/api:sha'
    )
    expect(env).toEqual({ DOCKER_BUILDKIT: '0' })
    expect(args).toEqual([
      'build',
      '--file',
      '/ws/app/Dockerfile',
      '--build-arg',
      'NODE_ENV=production',
      '--build-arg',
      'URL=a=b',
      '--label',
      'a.b=c',
      '--label',
      'org.opencontainers.image.revision=abc',
      '--target',
      'runtime',
      '--tag',
      'r/api:sha',
      '/ws/app'
    ])
  })

  it('enables BuildKit on old clients', () => {
    expect(engineBuildArgs(spec, { buildkit: true }, 't').env).toEqual({ DOCKER_BUILDKIT: '1' })
  })
})

describe('detectBuilder', () => {
  it('prefers buildx', async () => {
    const { exec } = fakeExec((a) =>
      a[0] === 'buildx' ? { stdout: 'github.com/docker/buildx v0.29.1 abc\n' } : {}
    )
    expect(await detectBuilder({ exec, configDir: '/c' })).toEqual({
      kind: 'buildx',
      version: '0.29.1'
    })
  })

  it.each([
    ['28.2.2', false],
    ['20.10.24+dfsg1', true]
  ])('without buildx, client %s → BuildKit %s', async (version, buildkit) => {
    const { exec, calls } = fakeExec((a) =>
      a[0] === 'buildx'
        ? { exitCode: 1, stderr: 'docker: unknown command: docker buildx' }
        : { stdout: `${version}\n` }
    )
    expect(await detectBuilder({ exec, configDir: '/c' })).toEqual({
      kind: 'engine',
      buildkit,
      clientVersion: version
    })
    expect(calls.every((c) => c.options?.env?.['DOCKER_CONFIG'] === '/c')).toBe(true)
  })
})

describe('docker login', () => {
  it('sends the password on stdin, never on argv, with the private DOCKER_CONFIG', async () => {
    const { exec, calls } = fakeExec(() => ({ stdout: 'Login Succeeded' }))
    await dockerLogin(
      { exec, configDir: '/rt/cfg' },
      { registry: '127.0.0.1:5001', username: 'AWS', password: 'hunter2-secret' }
    )
    expect(calls).toHaveLength(1)
    expect(calls[0]?.args).toEqual([
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '127.0.0.1:5001'
    ])
    expect(calls[0]?.options).toMatchObject({
      stdin: 'hunter2-secret',
      silent: true,
      env: { DOCKER_CONFIG: '/rt/cfg' }
    })
    expect(JSON.stringify(calls[0]?.args)).not.toContain('hunter2')
  })

  it('reports a failed login', async () => {
    const { exec } = fakeExec(() => ({
      exitCode: 1,
      stderr: 'Error response from daemon: Get "http://x/v2/": dial tcp: connection refused'
    }))
    await expect(
      dockerLogin(
        { exec, configDir: '/c' },
        { registry: 'x', username: 'AWS', password: 'p4ssw0rd' }
      )
    ).rejects.toThrow(/docker login to x failed: .*connection refused/)
  })

  it('creates a private config dir under RUNNER_TEMP', () => {
    const dir = createDockerConfigDir(mkdtempSync(join(tmpdir(), 'rt-')))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(readFileSync(join(dir, 'config.json'), 'utf8').trim()).toBe('{}')
  })
})

describe('push', () => {
  const digest = `sha256:${'ab'.repeat(32)}`
  const output = [
    'The push refers to repository [127.0.0.1:5001/api]',
    '5f70bf18a086: Pushed',
    `0123456789abcdef0123456789abcdef01234567: digest: ${digest} size: 735`
  ].join('\n')

  it('parses the digest line of the pushed tag', () => {
    expect(parsePushDigest(output, '0123456789abcdef0123456789abcdef01234567')).toBe(digest)
    expect(parsePushDigest(output, 'other')).toBeUndefined()
    expect(parsePushDigest('nothing')).toBeUndefined()
  })

  it('returns the registry digest of a push', async () => {
    const { exec, calls } = fakeExec(() => ({ stdout: output }))
    expect(
      await dockerPush(
        { exec, configDir: '/c' },
        '127.0.0.1:5001/api:0123456789abcdef0123456789abcdef01234567',
        '0123456789abcdef0123456789abcdef01234567'
      )
    ).toBe(digest)
    expect(calls[0]?.args).toEqual([
      'push',
      '127.0.0.1:5001/api:0123456789abcdef0123456789abcdef01234567'
    ])
  })

  it('names the IAM action when the registry denies a layer upload', async () => {
    const { exec } = fakeExec(() => ({
      exitCode: 1,
      stderr:
        'denied: User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:123456789012:repository/api because no identity-based policy allows the ecr:InitiateLayerUpload action'
    }))
    await expect(dockerPush({ exec, configDir: '/c' }, 'r/api:t', 't')).rejects.toThrow(
      /docker push r\/api:t was denied: .*ecr:InitiateLayerUpload\. Grant the principal arn:aws:sts::123456789012:assumed-role\/ci\/run the IAM permission "ecr:InitiateLayerUpload" on the repository r\/api:t/
    )
  })
})

describe('classifyDockerError', () => {
  it.each([
    [
      "tag invalid: The image tag 'v1' already exists in the 'api' repository and cannot be overwritten because the repository is immutable.",
      /IMMUTABLE repository/
    ],
    [
      'denied: Your authorization token has expired. Reauthenticate and try again.',
      /login is missing or expired/
    ],
    [
      "name unknown: The repository with name 'api' does not exist in the registry with id '123456789012'",
      /create-repository: true/
    ],
    [
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      /Start the Docker daemon/
    ],
    ['something else', /See the docker output above/]
  ])('%s', (text, expected) => {
    expect(classifyDockerError('docker push x', text).message).toMatch(expected)
  })
})

describe('image user', () => {
  it.each([
    ['', true],
    ['root', true],
    ['0', true],
    ['0:0', true],
    ['root:root', true],
    ['00', true],
    ['65532:65532', false],
    ['app', false],
    ['1000', false]
  ])('isRootUser(%j) = %s', (user, root) => {
    expect(isRootUser(user)).toBe(root)
  })

  it('inspects the local image config', async () => {
    const { exec, calls } = fakeExec(() => ({
      stdout: '{"User":"65532:65532","Labels":{"a":"b"}}|sha256:abc\n'
    }))
    expect(await inspectLocalImage({ exec, configDir: '/c' }, 'r/api:t')).toEqual({
      user: '65532:65532',
      labels: { a: 'b' },
      id: 'sha256:abc'
    })
    expect(calls[0]?.args).toEqual([
      'image',
      'inspect',
      '--format',
      '{{json .Config}}|{{.Id}}',
      'r/api:t'
    ])
  })
})

describe('writeSecretFiles', () => {
  it('writes 0600 files and masks the values', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rt-')), 'secrets')
    const files = writeSecretFiles(dir, [{ id: 'npm', value: 's3cr3t-value' }])
    expect(files).toEqual([{ id: 'npm', path: join(dir, 'secret-0') }])
    expect(readFileSync(files[0]!.path, 'utf8')).toBe('s3cr3t-value')
    expect(statSync(files[0]!.path).mode & 0o777).toBe(0o600)
  })
})
