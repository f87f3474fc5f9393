/**
 * build-tag-push and the job's Docker setup, end to end: the bundled action against the local stack and the real
 * Docker engine (engine builder, no buildx here).
 * - the private DOCKER_CONFIG inherits the job's other registry logins (a base image from a second registry behind
 *   basic auth), its credential store and its buildx (CLI plugin + BUILDX_CONFIG), and never writes to them;
 * - a named USER is resolved through the image's own /etc/passwd (UID 0 is root; no file / no user fails closed);
 * - without RUNNER_TEMP the ECR login is written under os.tmpdir(), never into the build context;
 * - the OIDC denial hint proposes StringEquals on the exact `sub`, and that statement works;
 * - scan-gate's `platform: linux/arm64/v8` selects an index entry `linux/arm64`.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, type AppWorkspace, git } from '../helpers/app-workspace.js'
import {
  AUTH_REGISTRY_PASSWORD,
  AUTH_REGISTRY_USER,
  type AuthRegistry,
  startAuthRegistry
} from '../helpers/auth-registry.js'
import { runAction, type RunOptions, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecr: ECRClient
let other: AuthRegistry
/** The job's own docker config (what ~/.docker is on a runner), logged in to `other` beforehand. */
let jobConfig: string
/** Where the fake buildx plugin records the BUILDX_CONFIG it was started with. */
let buildxRecord: string
let baseImage: string
const scratch = mkdtempSync(join(tmpdir(), 'fix-oci-e2e-'))
const localImages: string[] = []

/** Asynchronous on purpose: the stack's registry proxy runs in this process. */
function docker(
  args: string[],
  options: { config?: string; input?: string } = {}
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          DOCKER_BUILDKIT: '0',
          ...(options.config ? { DOCKER_CONFIG: options.config } : {})
        }
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`docker ${args[0]}: ${stderr || error.message}`)) : resolve(stdout)
    )
    child.stdin?.end(options.input ?? '')
  })
}

function run(options: RunOptions & { sha: string }): Promise<RunResult> {
  return runAction('build-tag-push', {
    ...options,
    inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], ...options.inputs },
    env: { ...stack.env, GITHUB_SHA: options.sha, ...options.env },
    timeoutMs: 200_000
  })
}

/** examples/app with another Dockerfile and extra files, committed (the action tags the checked-out commit). */
function workspace(dockerfile: string, files: Record<string, string> = {}): AppWorkspace {
  const ws = appWorkspace({ dockerfile })
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(ws.dir, name, '..'), { recursive: true })
    writeFileSync(join(ws.dir, name), text)
  }
  git(ws.dir, ['add', '-A'])
  git(ws.dir, ['commit', '-q', '--allow-empty', '-m', 'test files'])
  return { dir: ws.dir, sha: git(ws.dir, ['rev-parse', 'HEAD']) }
}

async function describeTag(repositoryName: string, imageTag: string) {
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] })
    )
    return out.imageDetails?.[0]
  } catch {
    return undefined
  }
}

/** The paths under `dir` in a local image's filesystem (read without starting a container). */
async function imageFiles(image: string, dir: string): Promise<string[]> {
  const id = (await docker(['create', '--entrypoint', '/none', image])).trim()
  try {
    const listing = execFileSync('sh', ['-c', `docker cp "${id}:${dir}" - | tar -tf -`], {
      encoding: 'utf8'
    })
    return listing.split('\n').filter(Boolean)
  } finally {
    await docker(['rm', '--force', id])
  }
}

const dockerPushLine = /\[command\]\S*docker push/

beforeAll(async () => {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' })
  } catch {
    throw new Error('The Docker engine is not running: start dockerd before the e2e tests')
  }
  // Basic scans take 10 simulated seconds: at speed 20 that is half a real second.
  stack = await startStack({ speed: 20 })
  ecr = new ECRClient({ ...stack.clientConfig })
  other = await startAuthRegistry()

  // The job: `docker login` to the other registry, and a buildx CLI plugin in its docker config (as
  // docker/setup-buildx-action installs one). The plugin records its BUILDX_CONFIG and then fails `buildx version`,
  // so the action still builds with the engine builder here.
  jobConfig = join(scratch, 'job-docker')
  mkdirSync(join(jobConfig, 'cli-plugins'), { recursive: true })
  buildxRecord = join(scratch, 'buildx-record')
  const plugin = join(jobConfig, 'cli-plugins', 'docker-buildx')
  writeFileSync(
    plugin,
    [
      '#!/bin/sh',
      'if [ "$1" = docker-cli-plugin-metadata ]; then',
      '  echo \'{"SchemaVersion":"0.1.0","Vendor":"Shipline tests","Version":"v0.0.0-test"}\'',
      '  exit 0',
      'fi',
      `echo "BUILDX_CONFIG=$BUILDX_CONFIG" >> '${buildxRecord}'`,
      'echo "test buildx: not a real builder" >&2',
      'exit 1',
      ''
    ].join('\n')
  )
  chmodSync(plugin, 0o755)
  await docker(['login', '--username', AUTH_REGISTRY_USER, '--password-stdin', other.host], {
    config: jobConfig,
    input: AUTH_REGISTRY_PASSWORD
  })

  // A base image that exists only in the other registry (the local copy is removed).
  const context = join(scratch, 'base')
  mkdirSync(context)
  cpSync('/bin/busybox', join(context, 'busybox'))
  writeFileSync(
    join(context, 'Dockerfile'),
    `FROM scratch\nCOPY busybox /bin/busybox\nLABEL shipline.test.base="${randomUUID()}"\n`
  )
  baseImage = `${other.host}/base/busybox:1`
  await docker(['build', '--quiet', '-t', baseImage, context])
  await docker(['push', '--quiet', baseImage], { config: jobConfig })
  await docker(['rmi', baseImage])
})

afterAll(async () => {
  for (const image of [...localImages, baseImage].filter(Boolean)) {
    await docker(['rmi', '--force', image]).catch(() => undefined)
  }
  ecr?.destroy()
  await other?.stop()
  await stack?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

describe("the private DOCKER_CONFIG keeps the job's Docker setup", () => {
  const dockerfile = (from: string) =>
    `FROM ${from}\nCOPY www /www\nUSER 65532:65532\nENTRYPOINT ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`

  it("builds FROM a base image in another registry the job logged into (basic auth), with the job's buildx plugin and BUILDX_CONFIG, and never writes to the job's config", async () => {
    const repository = uniqueName('e2e/other-base')
    const ws = workspace(dockerfile(baseImage))
    const before = readFileSync(join(jobConfig, 'config.json'), 'utf8')
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository },
      env: { DOCKER_CONFIG: jobConfig }
    })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['built']).toBe('true')
    expect((await describeTag(repository, ws.sha))?.imageDigest).toBe(
      result.outputs['image-digest']
    )
    expect(result.log).toContain(`inherits the job's logins for ${other.host}`)
    // `docker buildx version` ran the job's plugin, with the job's buildx state directory
    expect(readFileSync(buildxRecord, 'utf8')).toContain(
      `BUILDX_CONFIG=${join(jobConfig, 'buildx')}\n`
    )
    // the job's login is masked and never printed; the job's own config is untouched
    const jobAuth = Buffer.from(`${AUTH_REGISTRY_USER}:${AUTH_REGISTRY_PASSWORD}`).toString(
      'base64'
    )
    expect(result.secrets).toContain(jobAuth)
    expect(result.log).not.toContain(AUTH_REGISTRY_PASSWORD)
    expect(readFileSync(join(jobConfig, 'config.json'), 'utf8')).toBe(before)
    const privateConfig = result.state['docker-config'] as string
    expect(privateConfig.startsWith(join(result.dir, 'runner-temp'))).toBe(true)

    const post = await run({ sha: ws.sha, postOf: result, env: { DOCKER_CONFIG: jobConfig } })
    expect(post.exitCode).toBe(0)
    expect(existsSync(privateConfig)).toBe(false)
    expect(readFileSync(join(jobConfig, 'config.json'), 'utf8')).toBe(before)
  })

  it("uses the job's credential store for its logins, but keeps Shipline's ECR token out of it", async () => {
    // A job whose logins live in a credential store (credsStore), served by a helper on PATH that logs each call.
    const storeConfig = join(scratch, 'job-docker-store')
    const bin = join(scratch, 'bin')
    const calls = join(scratch, 'store-calls')
    mkdirSync(storeConfig, { recursive: true })
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(storeConfig, 'config.json'), JSON.stringify({ credsStore: 'shiplinetest' }))
    const helper = join(bin, 'docker-credential-shiplinetest')
    writeFileSync(
      helper,
      [
        '#!/bin/sh',
        `echo "$1" >> '${calls}'`,
        'case "$1" in',
        `  list) printf '{"${other.host}":"${AUTH_REGISTRY_USER}"}' ;;`,
        '  get) read -r url',
        `    if [ "$url" = "${other.host}" ]; then printf '{"ServerURL":"%s","Username":"${AUTH_REGISTRY_USER}","Secret":"${AUTH_REGISTRY_PASSWORD}"}' "$url"`,
        '    else echo "credentials not found in native keychain"; exit 1; fi ;;',
        '  *) cat > /dev/null ;;',
        'esac',
        ''
      ].join('\n')
    )
    chmodSync(helper, 0o755)
    const env = { DOCKER_CONFIG: storeConfig, PATH: `${bin}:${process.env['PATH'] ?? ''}` }
    const repository = uniqueName('e2e/store-base')
    const ws = workspace(dockerfile(baseImage))
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository }, env })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['built']).toBe('true')
    const post = await run({ sha: ws.sha, postOf: result, env })
    expect(post.exitCode).toBe(0)
    const used = readFileSync(calls, 'utf8').split('\n').filter(Boolean)
    expect(used).toContain('get') // the base image's login came from the job's store
    expect(used).not.toContain('store') // docker login of the ECR token went to the private file
    expect(used).not.toContain('erase') // and the post step's logout erased nothing of the job's
  })
})

describe('a named USER is resolved through the image /etc/passwd', () => {
  const dockerfile = (user: string, passwd: boolean) =>
    `FROM scratch\nCOPY busybox /bin/busybox\n${passwd ? 'COPY passwd /etc/passwd\n' : ''}USER ${user}\nENTRYPOINT ["/bin/busybox", "true"]\n`
  const checkContainers = async () =>
    (await docker(['ps', '--all', '--quiet', '--filter', 'label=shipline.user-check=true'])).trim()

  it('refuses USER app when /etc/passwd gives app UID 0, pushing nothing', async () => {
    const repository = uniqueName('e2e/named-root')
    const ws = workspace(dockerfile('app', true), {
      passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:0:0:app:/home/app:/bin/sh\n'
    })
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(
      /runs as root \(its config User is "app", UID 0 in the image's \/etc\/passwd\)\. Add a non-root user/
    )
    expect(result.log).not.toMatch(dockerPushLine)
    expect(await describeTag(repository, ws.sha)).toBeUndefined()
    expect(await checkContainers()).toBe('')
  })

  it('accepts USER app when /etc/passwd gives app a non-zero UID', async () => {
    const repository = uniqueName('e2e/named-user')
    const ws = workspace(dockerfile('app:app', true), {
      passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/home/app:/bin/sh\n'
    })
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['built']).toBe('true')
    expect(await checkContainers()).toBe('')
  })

  it.each([
    [
      'no /etc/passwd',
      'app',
      undefined,
      /config User "app", a name, but no \/etc\/passwd to resolve it/
    ],
    [
      'a user missing from /etc/passwd',
      'ghost',
      'root:x:0:0:root:/root:/bin/sh\n',
      /"ghost" is not in the image's \/etc\/passwd/
    ]
  ])('fails closed on %s, naming the fix', async (_what, user, passwd, message) => {
    const repository = uniqueName('e2e/named-unknown')
    const ws = workspace(dockerfile(user, passwd !== undefined), passwd ? { passwd } : {})
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(message)
    expect(result.errors[0]).toContain('Use a numeric UID in the final stage of the Dockerfile')
    expect(result.log).not.toMatch(dockerPushLine)
    expect(await checkContainers()).toBe('')
  })
})

describe('without RUNNER_TEMP', () => {
  it('writes the ECR login under the temp directory, never into the build context', async () => {
    const repository = uniqueName('e2e/no-runner-temp')
    const ws = workspace(
      'FROM scratch\nCOPY busybox /bin/busybox\nCOPY . /ctx\nUSER 65532:65532\nENTRYPOINT ["/bin/busybox", "true"]\n'
    )
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository },
      env: { RUNNER_TEMP: undefined }
    })
    const image = `${stack.registryHost}/${repository}:${ws.sha}`
    localImages.push(image)
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const files = await imageFiles(image, '/ctx')
    expect(files).toContain('ctx/Dockerfile')
    expect(files.filter((f) => /shipline|config\.json/.test(f))).toEqual([])
    expect(existsSync(join(ws.dir, '.shipline-tmp'))).toBe(false)
    const privateConfig = result.state['docker-config'] as string
    expect(privateConfig.startsWith(join(tmpdir(), 'shipline-docker-'))).toBe(true)
    const post = await run({ sha: ws.sha, postOf: result, env: { RUNNER_TEMP: undefined } })
    expect(post.exitCode).toBe(0)
    expect(existsSync(privateConfig)).toBe(false)
  })
})

describe('the OIDC denial hint', () => {
  afterAll(async () => {
    await stack.admin.delete('oidc/claims')
  })

  it('proposes StringEquals on the exact sub (never repo:<owner>/<repo>:*), and that statement admits the job', async () => {
    await stack.admin.post('oidc/claims', {
      repository: 'acme/shop',
      repository_owner: 'acme',
      environment: 'production'
    })
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${uniqueName('prod-deploy')}`
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: {
        sub: ['repo:acme/shop:environment:staging'],
        subOperator: 'StringEquals',
        aud: 'sts.amazonaws.com'
      }
    })
    const ws = appWorkspace()
    const repository = uniqueName('e2e/oidc')
    const inputs = { repository, 'role-to-assume': roleArn, 'create-repository': 'false' }
    const denied = await run({ sha: ws.sha, workspace: ws.dir, inputs })
    expect(denied.exitCode).toBe(1)
    const message = denied.errors[0] ?? ''
    expect(message).toContain('AccessDenied')
    expect(message).not.toContain('StringLike')
    expect(message).not.toContain('"repo:acme/shop:*"')
    const start = message.indexOf('{"Effect"')
    expect(start).toBeGreaterThan(0)
    let statement: { Condition: Record<string, Record<string, string>> } | undefined
    for (let end = message.indexOf('}', start); end > 0; end = message.indexOf('}', end + 1)) {
      try {
        statement = JSON.parse(message.slice(start, end + 1)) as typeof statement
        break
      } catch {
        // not the end of the statement yet
      }
    }
    expect(Object.keys(statement?.Condition ?? {})).toEqual(['StringEquals'])
    const equals = statement?.Condition['StringEquals'] ?? {}
    const subKey = Object.keys(equals).find((k) => k.endsWith(':sub')) ?? ''
    expect(equals[subKey]).toBe('repo:acme/shop:environment:production')

    // The proposed statement, applied to the role, admits this job (it then fails on the missing repository).
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: { sub: [equals[subKey]], subOperator: 'StringEquals', aud: 'sts.amazonaws.com' }
    })
    const admitted = await run({ sha: ws.sha, workspace: ws.dir, inputs })
    expect(admitted.exitCode).toBe(1)
    expect(admitted.errors[0]).toContain(`ECR repository "${repository}" does not exist`)
  })
})

describe('platform variants', () => {
  it('scan-gate platform linux/arm64/v8 gates the index entry linux/arm64', async () => {
    const repository = uniqueName('e2e/arm64')
    const ws = workspace(
      'FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532:65532\nENTRYPOINT ["/bin/busybox", "true"]\n'
    )
    const built = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    localImages.push(`${stack.registryHost}/${repository}:${ws.sha}`)
    expect(built.exitCode).toBe(0)
    const child = built.outputs['image-digest'] as string
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: repository, imageIds: [{ imageDigest: child }] })
    )
    const manifest = got.images?.[0]
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: manifest?.imageManifestMediaType,
          digest: child,
          size: Buffer.byteLength(manifest?.imageManifest ?? ''),
          platform: { os: 'linux', architecture: 'arm64' }
        }
      ]
    })
    await ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageTag: 'multi',
        imageManifest: index,
        imageManifestMediaType: 'application/vnd.oci.image.index.v1+json'
      })
    )
    const result = await runAction('scan-gate', {
      inputs: {
        'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'],
        image: `${stack.registryHost}/${repository}:multi`,
        platform: 'linux/arm64/v8'
      },
      env: stack.env,
      workspace: mkdtempSync(join(scratch, 'gate-ws-')),
      timeoutMs: 200_000
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.log).toContain(`linux/arm64 ${child}`)
  })
})
