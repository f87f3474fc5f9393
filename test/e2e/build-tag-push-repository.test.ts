/**
 * build-tag-push's repository handling end to end (issue 9): the bundled action against the local stack and the real
 * Docker engine.
 * - #9: "keep-last: N" must expire images (every image we push is tagged), and a policy that could not be applied
 *   right after CreateRepository must be applied by the re-run, on the repository this action created.
 * - The KMS key of an existing repository: ECR reports the key ARN, so a `kms-key: alias/…` is resolved with
 *   kms:DescribeKey before comparing, and the comparison is reported as skipped when that is not permitted.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, git } from '../helpers/app-workspace.js'
import { runAction, type RunOptions, uniqueName } from '../helpers/runner.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecr: ECRClient

function run(options: RunOptions & { sha: string }) {
  return runAction('build-tag-push', {
    ...options,
    inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], ...options.inputs },
    env: { ...stack.env, GITHUB_SHA: options.sha, ...options.env },
    timeoutMs: 200_000
  })
}

beforeAll(async () => {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' })
  } catch {
    throw new Error('The Docker engine is not running: start dockerd before the e2e tests')
  }
  stack = await startStack()
  ecr = new ECRClient({ ...stack.clientConfig })
})

afterAll(async () => {
  ecr?.destroy()
  await stack?.stop()
})

describe('build-tag-push lifecycle policy against the local stack', () => {
  it('a policy that failed after CreateRepository is applied by the re-run, and keep-last: 2 expires all but the last two builds', async () => {
    const repository = uniqueName('e2e/life')
    const ws = appWorkspace({ commitDate: '2026-03-14T09:26:53Z' })
    const inputs = { repository, 'lifecycle-policy': 'keep-last: 2' }

    // 1. CreateRepository succeeds, PutLifecyclePolicy is refused once.
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'PutLifecyclePolicy',
      type: 'error',
      status: 400,
      code: 'AccessDeniedException',
      message: 'User is not authorized to perform: ecr:PutLifecyclePolicy',
      count: 1
    })
    const first = await run({ sha: ws.sha, workspace: ws.dir, inputs })
    expect(first.exitCode).toBe(1)
    expect(first.errors.at(-1)).toMatch(
      new RegExp(
        `^build-tag-push: Created ECR repository "${repository}", but could not apply its lifecycle policy: .*re-run applies the missing policy\\.$`
      )
    )
    const created = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: [repository] })
    )
    const arn = created.repositories?.[0]?.repositoryArn as string
    const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))
    expect(tags.tags).toEqual([{ Key: 'created-by', Value: 'shipline/build-tag-push' }])
    await expect(
      ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repository }))
    ).rejects.toMatchObject({ name: 'LifecyclePolicyNotFoundException' })

    // 2. The re-run finishes the creation: the policy lands, and the build goes on.
    const second = await run({ sha: ws.sha, workspace: ws.dir, inputs })
    expect(second.errors).toEqual([])
    expect(second.exitCode).toBe(0)
    expect(second.log).toContain(
      `Repository ${repository}: applied the lifecycle policy that was missing`
    )
    const applied = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repository }))
    expect(JSON.parse(applied.lifecyclePolicyText ?? '{}')).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: 'Keep the last 2 images',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 },
          action: { type: 'expire' }
        }
      ]
    })

    // 3. Two more commits: three images, each tagged with the short and the full SHA.
    const shas = [ws.sha]
    for (const n of [2, 3]) {
      stack.clock.advance(60_000)
      git(ws.dir, ['commit', '-q', '--allow-empty', '-m', `change ${n}`], '2026-03-14T09:26:53Z')
      const sha = git(ws.dir, ['rev-parse', 'HEAD'])
      const result = await run({ sha, workspace: ws.dir, inputs })
      expect(result.errors).toEqual([])
      expect(result.outputs['built']).toBe('true')
      shas.push(sha)
    }
    const before = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }))
    expect(before.imageDetails).toHaveLength(3)

    // 4. ECR runs the policy: only the oldest build goes.
    const { expired } = await stack.admin.post<{ expired: { imageTags: string[] }[] }>(
      'ecr/lifecycle-run',
      { repository }
    )
    expect(expired.map((e) => [...e.imageTags].sort())).toEqual([
      [shas[0]?.slice(0, 7), shas[0]].sort()
    ])
    const after = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }))
    expect(after.imageDetails?.flatMap((d) => d.imageTags ?? []).sort()).toEqual(
      shas
        .slice(1)
        .flatMap((s) => [s, s.slice(0, 7)])
        .sort()
    )
  })

  it('kms-key: alias/… on an existing repository is resolved with kms:DescribeKey (no false warning), and the comparison is skipped, saying so, without that permission', async () => {
    const seeded = await stack.admin.post<{ keys: { arn: string }[] }>('kms/seed', {
      keys: [{ aliases: ['alias/shop-images'] }, { aliases: ['alias/other-images'] }]
    })
    const [shopKey, otherKey] = seeded.keys.map((k) => k.arn)
    const repository = uniqueName('e2e/kms')
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: repository,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/shop-images' }
      })
    )
    const ws = appWorkspace({ commitDate: '2026-03-14T09:26:53Z' })
    const kmsInputs = (alias: string) => ({
      repository,
      encryption: 'KMS',
      'kms-key': alias,
      'scan-on-push': 'true'
    })
    const same = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: kmsInputs('alias/shop-images')
    })
    expect(same.errors).toEqual([])
    expect(same.exitCode).toBe(0)
    expect(same.warnings.filter((w) => w.includes('KMS'))).toEqual([])
    expect(stack.requestLog({ operation: 'DescribeKey' }).at(-1)?.status).toBe(200)

    const other = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: kmsInputs('alias/other-images')
    })
    expect(other.exitCode).toBe(0)
    expect(other.warnings).toContain(
      `Repository ${repository}: the KMS key is ${shopKey}, the inputs ask for alias/other-images (${otherKey}). Shipline never changes an existing repository; update it yourself or align the inputs.`
    )

    // A role that may use ECR but not kms:DescribeKey.
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${uniqueName('no-kms')}`
    await stack.admin.post('sts/roles', {
      roleArn,
      trust: { sub: 'repo:*' },
      allowedActions: ['ecr:*', 'sts:GetCallerIdentity']
    })
    const denied = await run({
      sha: ws.sha,
      workspace: ws.dir,
      inputs: { ...kmsInputs('alias/other-images'), 'role-to-assume': roleArn }
    })
    expect(denied.errors).toEqual([])
    expect(denied.exitCode).toBe(0)
    expect(denied.warnings.filter((w) => w.includes('KMS'))).toEqual([])
    expect(denied.log).toContain(
      `Repository ${repository}: the KMS key comparison was skipped: ECR reports the key ARN ${shopKey}, and "alias/other-images" could not be resolved (AccessDeniedException: grant kms:DescribeKey on the key to compare)`
    )
  })
})
