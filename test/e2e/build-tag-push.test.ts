/**
 * build-tag-push end to end: the bundled action against the local stack (STS + ECR + a real registry) and the real
 * Docker engine (no buildx here, so the engine-builder path: docker build + docker push).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, type AppWorkspace, git } from '../helpers/app-workspace.js'
import { runAction, type RunOptions, uniqueName } from '../helpers/runner.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecr: ECRClient

const COMMIT_DATE = '2026-03-14T09:26:53Z'

/** A real git checkout of examples/app (plus the static busybox), so the commit SHA and time are real. */
function workspace(dockerfile?: string): AppWorkspace {
  return appWorkspace({ dockerfile, commitDate: COMMIT_DATE })
}

function run(options: RunOptions & { sha: string }) {
  return runAction('build-tag-push', {
    ...options,
    inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], ...options.inputs },
    env: { ...stack.env, GITHUB_SHA: options.sha, ...options.env },
    timeoutMs: 200_000
  })
}

async function describeTag(repositoryName: string, imageTag: string) {
  const out = await ecr.send(
    new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] })
  )
  return out.imageDetails?.[0]
}

const dockerBuildLine = /\[command\]\S*docker build/
const dockerPushLine = /\[command\]\S*docker push/

beforeAll(async () => {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' })
  } catch {
    throw new Error('The Docker engine is not running: start dockerd before the e2e tests')
  }
  stack = await startStack()
  ecr = new ECRClient({
    ...stack.clientConfig
  })
})

afterAll(async () => {
  ecr?.destroy()
  await stack?.stop()
})

describe('build-tag-push against the local stack', () => {
  const repository = uniqueName('e2e/app')
  let ws: { dir: string; sha: string }
  let digest: string

  it('builds examples/app, pushes :<short-sha> and :<full-sha>, and outputs the digest ECR reports, with OCI labels', async () => {
    ws = workspace()
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.log).toMatch(dockerBuildLine)
    const short = ws.sha.slice(0, 7)
    const full = await describeTag(repository, ws.sha)
    const shortDetail = await describeTag(repository, short)
    expect(full?.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(shortDetail?.imageDigest).toBe(full?.imageDigest)
    digest = full?.imageDigest as string
    const uri = `${stack.registryHost}/${repository}`
    expect(result.outputs).toEqual({
      'image-uri': `${uri}:${short}`,
      'image-digest': digest,
      'image-ref': `${uri}@${digest}`,
      tags: JSON.stringify([short, ws.sha]),
      registry: stack.registryHost,
      'repository-uri': uri,
      built: 'true',
      'platform-digests': '{}'
    })
    const labels = await stack.registry.labels(`${uri}@${digest}`)
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': ws.sha,
      'org.opencontainers.image.created': COMMIT_DATE,
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
      'org.opencontainers.image.version': short
    })
    expect(result.summary).toContain(digest)
    expect(result.summary).toContain('built and pushed')
    // the post step logs out and removes the private docker config
    const post = await run({ sha: ws.sha, postOf: result })
    expect(post.exitCode).toBe(0)
    expect(post.log).toContain('Removed the private Docker login')
  })

  it('re-runs for the same commit without any docker build, with the same digest and built=false, on an IMMUTABLE repository', async () => {
    const repo = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repository] }))
    expect(repo.repositories?.[0]?.imageTagMutability).toBe('IMMUTABLE')
    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository, tags: 'v1.0.0' }
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.log).not.toMatch(dockerBuildLine)
    expect(result.log).not.toMatch(/\[command\]\S*docker/)
    expect(result.outputs['built']).toBe('false')
    expect(result.outputs['image-digest']).toBe(digest)
    expect((await describeTag(repository, 'v1.0.0'))?.imageDigest).toBe(digest)
    const uploads = stack
      .requestLog({ sinceId: before })
      .filter((e) => e.kind.startsWith('registry:blob-upload'))
    expect(uploads).toEqual([])
    expect(stack.requestLog({ sinceId: before, operation: 'PutImage' })).toHaveLength(1)
  })

  it('promotes an existing image with BatchGetImage + PutImage, without any layer upload or docker push', async () => {
    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: {
        repository,
        'source-image': `${repository}:${ws.sha.slice(0, 7)}`,
        tags: 'v1.0.0-prod'
      }
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['image-digest']).toBe(digest)
    expect(result.outputs['image-uri']).toBe(`${stack.registryHost}/${repository}:v1.0.0-prod`)
    expect((await describeTag(repository, 'v1.0.0-prod'))?.imageDigest).toBe(digest)
    expect(result.log).not.toMatch(dockerPushLine)
    const since = stack.requestLog({ sinceId: before })
    expect(since.filter((e) => e.kind.startsWith('registry:'))).toEqual([])
    expect(since.filter((e) => e.operation === 'BatchGetImage').length).toBeGreaterThan(0)
    expect(since.filter((e) => e.operation === 'PutImage')).toHaveLength(1)
  })

  it('explains the cross-repository promote limit when the target repository lacks the layers', async () => {
    const target = uniqueName('e2e/prod')
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository: target, 'source-image': `${repository}@${digest}`, tags: 'v1.0.0' }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toMatch(
      /LayersNotFoundException.*PutImage only writes a manifest: every layer .* must already be in the target repository/
    )
  })
})

describe('build-tag-push non-root enforcement', () => {
  const rootDockerfile =
    'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox", "true"]\n'

  it('fails a Dockerfile without USER with the non-root explanation, pushing nothing', async () => {
    const repository = uniqueName('e2e/root')
    const ws = workspace(rootDockerfile)
    const result = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(
      /runs as root \(its config User is empty\)\. Add a non-root user to the final stage of the Dockerfile, e\.g\. "USER 65532:65532"/
    )
    expect(result.log).not.toMatch(dockerPushLine)
    expect(await describeTag(repository, ws.sha).catch(() => undefined)).toBeUndefined()
  })

  it('passes with allow-root: true and a warning', async () => {
    const repository = uniqueName('e2e/root')
    const ws = workspace(rootDockerfile)
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository, 'allow-root': 'true' }
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(
      result.warnings.some((w) => /runs as root .*allowed because "allow-root" is true/.test(w))
    ).toBe(true)
    expect(result.outputs['built']).toBe('true')
  })
})

describe('build-tag-push on pull_request', () => {
  it('tags the PR head commit, not the merge commit', async () => {
    const repository = uniqueName('e2e/pr')
    const ws = workspace()
    const base = ws.sha
    writeFileSync(join(ws.dir, 'www', 'pr.txt'), 'change\n')
    git(ws.dir, ['add', '-A'])
    git(ws.dir, ['commit', '-q', '-m', 'pr change'], COMMIT_DATE)
    const head = git(ws.dir, ['rev-parse', 'HEAD'])
    expect(head).not.toBe(base)
    const result = await run({
      sha: base, // GITHUB_SHA: stands in for the merge commit
      workspace: ws.dir,
      inputs: { repository },
      event: {
        name: 'pull_request',
        payload: { pull_request: { number: 7, head: { sha: head, ref: 'feature' } } }
      }
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs['tags'] ?? '[]')).toEqual([head.slice(0, 7), head])
    expect((await describeTag(repository, head))?.imageDigest).toBe(result.outputs['image-digest'])
    const labels = await stack.registry.labels(result.outputs['image-ref'] as string)
    expect(labels?.['org.opencontainers.image.revision']).toBe(head)
  })
})

describe('build-tag-push failures', () => {
  it('names the repository and the fix when it is missing and create-repository is false', async () => {
    const repository = uniqueName('e2e/missing')
    const ws = workspace()
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository, 'create-repository': 'false' }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^build-tag-push: ECR repository "${repository}" does not exist and "create-repository" is false\\. Create it first \\(aws ecr create-repository --repository-name ${repository}`
        )
      )
    ])
    expect(
      stack
        .requestLog({ operation: 'CreateRepository' })
        .some((e) => JSON.stringify(e.params ?? {}).includes(repository))
    ).toBe(false)
  })

  it.each([
    [
      'a bad tag',
      { tags: 'not a tag' },
      /^build-tag-push: input "tags": "not a tag" is not a valid image tag/
    ],
    [
      'a missing Dockerfile',
      { dockerfile: 'nope/Dockerfile' },
      /^build-tag-push: input "dockerfile": no Dockerfile at "nope\/Dockerfile"/
    ],
    [
      'an unknown build-arg syntax',
      { 'build-args': '--build-arg VERSION' },
      /^build-tag-push: input "build-args": line 1 "--build-arg VERSION" is not KEY=VALUE/
    ]
  ])('rejects %s with an InputError before any AWS call', async (_what, inputs, message) => {
    const ws = workspace()
    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository: uniqueName('e2e/bad'), ...inputs }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(message)
    expect(stack.requestLog({ sinceId: before })).toEqual([])
    expect(result.log).not.toMatch(/\[command\]\S*docker/)
  })

  it('names the IAM action to grant when the registry denies ecr:InitiateLayerUpload', async () => {
    const repository = uniqueName('e2e/denied')
    const ws = workspace()
    const limited = await stack.admin.post<{
      accessKeyId: string
      secretAccessKey: string
      arn: string
    }>('credentials', {
      name: 'ci-no-push',
      allowedActions: [
        'ecr:GetAuthorizationToken',
        'ecr:DescribeRepositories',
        'ecr:CreateRepository',
        'ecr:DescribeImages',
        'ecr:BatchGetImage',
        'ecr:BatchCheckLayerAvailability',
        'ecr:PutImage',
        'ecr:TagResource',
        'sts:GetCallerIdentity'
      ]
    })
    const result = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { repository, 'role-to-assume': '' },
      env: {
        AWS_ACCESS_KEY_ID: limited.accessKeyId,
        AWS_SECRET_ACCESS_KEY: limited.secretAccessKey
      }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(
      /docker push .* was denied: .*not authorized to perform: ecr:InitiateLayerUpload/
    )
    expect(result.errors[0]).toContain(
      `Grant the principal ${limited.arn} the IAM permission "ecr:InitiateLayerUpload" on the repository`
    )
  })
})
