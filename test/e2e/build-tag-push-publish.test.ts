/**
 * build-tag-push publishing correctness (issue 9, items 2, 4, 7, 8), end to end: the bundled action against the local
 * stack (STS + ECR + a real registry) and the real Docker engine (engine builder: docker build + docker push).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, type AppWorkspace, git } from '../helpers/app-workspace.js'
import { runAction, type RunOptions, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecr: ECRClient

const COMMIT_DATE = '2026-03-14T09:26:53Z'
const dockerAny = /\[command\]\S*docker/

function run(options: RunOptions & { sha: string }): Promise<RunResult> {
  return runAction('build-tag-push', {
    ...options,
    inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], ...options.inputs },
    env: { ...stack.env, GITHUB_SHA: options.sha, ...options.env },
    timeoutMs: 200_000
  })
}

async function digestOf(repositoryName: string, imageTag: string): Promise<string | undefined> {
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] })
    )
    return out.imageDetails?.[0]?.imageDigest
  } catch {
    return undefined
  }
}

const lastRequestId = (): number => stack.requestLog().at(-1)?.id ?? 0

/** Removes the images the engine builder left in the shared engine for one repository. */
function removeLocalImages(repository: string): void {
  try {
    const refs = execFileSync(
      'docker',
      [
        'image',
        'ls',
        '--format',
        '{{.Repository}}:{{.Tag}}',
        `${stack.registryHost}/${repository}`
      ],
      { encoding: 'utf8' }
    )
      .split('\n')
      .filter(Boolean)
    if (refs.length) execFileSync('docker', ['image', 'rm', '-f', ...refs], { stdio: 'ignore' })
  } catch {
    // best effort
  }
}

const repositories: string[] = []

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
  for (const repository of repositories) removeLocalImages(repository)
  ecr?.destroy()
  await stack?.stop()
})

describe('item 2: the image content must be the commit it is tagged with', () => {
  /** A checkout as actions/checkout leaves it on pull_request: the merge commit of the PR head into main. */
  function mergeCheckout(): { dir: string; head: string; merge: string } {
    const ws = appWorkspace({ commitDate: COMMIT_DATE })
    git(ws.dir, ['checkout', '-q', '-b', 'feature'])
    writeFileSync(join(ws.dir, 'www', 'pr.txt'), 'pr change\n')
    git(ws.dir, ['add', '-A'])
    git(ws.dir, ['commit', '-q', '-m', 'pr change'], COMMIT_DATE)
    const head = git(ws.dir, ['rev-parse', 'HEAD'])
    git(ws.dir, ['checkout', '-q', 'main'])
    writeFileSync(join(ws.dir, 'www', 'main.txt'), 'main moved on\n')
    git(ws.dir, ['add', '-A'])
    git(ws.dir, ['commit', '-q', '-m', 'main change'], COMMIT_DATE)
    git(ws.dir, ['merge', '-q', '--no-ff', '-m', 'merge', 'feature'], COMMIT_DATE)
    return { dir: ws.dir, head, merge: git(ws.dir, ['rev-parse', 'HEAD']) }
  }

  it('fails on pull_request when the merge commit is checked out, before any AWS call, saying how to check out the head', async () => {
    const repository = uniqueName('e2e/pr-merge')
    const ws = mergeCheckout()
    const before = lastRequestId()
    const result = await run({
      sha: ws.merge,
      workspace: ws.dir,
      inputs: { repository },
      event: {
        name: 'pull_request',
        payload: { pull_request: { number: 7, head: { sha: ws.head, ref: 'feature' } } }
      }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      `build-tag-push: The workspace is checked out at ${ws.merge} (the merge commit GITHUB_SHA, actions/checkout's default), but the image would be tagged with the pull request head ${ws.head}: its content would not match its tag. Check out the head commit (actions/checkout with ref: \${{ github.event.pull_request.head.sha }}), or tag the merge commit you built explicitly with commit-sha: \${{ github.sha }}`
    ])
    expect(stack.requestLog({ sinceId: before }).filter((e) => e.kind === 'aws')).toEqual([])
    expect(result.log).not.toMatch(dockerAny)
    expect(result.outputs).toEqual({})
  })

  it('on pull_request_target never advises checking out the head, and explains why', async () => {
    const repository = uniqueName('e2e/pr-target')
    const ws = appWorkspace({ commitDate: COMMIT_DATE })
    const prHead = 'c0ffee0000000000000000000000000000c0ffee'
    const result = await run({
      sha: ws.sha, // pull_request_target: GITHUB_SHA is the base branch, which is what is checked out
      workspace: ws.dir,
      inputs: { repository },
      event: {
        name: 'pull_request_target',
        payload: { pull_request: { number: 8, head: { sha: prHead, ref: 'fork-branch' } } }
      }
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toContain(
      "Do not check out the pull request head under pull_request_target: that job runs with the base repository's secrets and a privileged token and AWS role, so building the head would run untrusted code with them"
    )
    expect(result.errors[0]).not.toContain('pull_request.head.sha')
    expect(result.log).not.toMatch(dockerAny)
  })
})

describe('one repository, one commit', () => {
  const repository = uniqueName('e2e/publish')
  let ws: { dir: string; sha: string }
  let digest: string

  beforeAll(async () => {
    repositories.push(repository)
    ws = appWorkspace({ commitDate: COMMIT_DATE })
    const first = await run({ sha: ws.sha, workspace: ws.dir, inputs: { repository } })
    if (first.outputs['built'] !== 'true') throw new Error(`the first build failed: ${first.log}`)
    digest = first.outputs['image-digest'] as string
  })

  it('labels the image with the fingerprint of its build inputs (hashes only)', async () => {
    const labels = await stack.registry.labels(`${stack.registryHost}/${repository}@${digest}`)
    expect(labels?.['dev.shipline.build-inputs']).toMatch(
      /^v1;context=[0-9a-f]{16};dockerfile=[0-9a-f]{16};target=[0-9a-f]{16};platforms=[0-9a-f]{16};build-arg-names=[0-9a-f]{16};build-arg-values=[0-9a-f]{16}$/
    )
  })

  describe('item 8: reuse only when the build inputs match', () => {
    it('refuses to reuse the commit image for other build-args, naming the input and the fix, never the value', async () => {
      const secretish = 'tok-5f3c9a1e77'
      const before = lastRequestId()
      const result = await run({
        sha: ws.sha,
        workspace: ws.dir,
        inputs: { repository, 'build-args': `FLAVOUR=${secretish}` }
      })
      expect(result.exitCode).toBe(1)
      expect(result.errors).toEqual([
        `build-tag-push: ${repository}:${ws.sha} (${digest}) was built from different build inputs: "build-args" (different argument names) differs. Reusing it would deploy the wrong image. Set "tag-suffix" (e.g. the target or variant name) so each set of build inputs gets its own commit tags, or push this build to another repository`
      ])
      expect(result.log).not.toContain(secretish)
      expect(result.log).not.toMatch(dockerAny)
      expect(stack.requestLog({ sinceId: before, operation: 'PutImage' })).toEqual([])
      expect(result.outputs).toEqual({})
    })

    it('with tag-suffix builds the variant under its own commit tags', async () => {
      const result = await run({
        sha: ws.sha,
        workspace: ws.dir,
        inputs: { repository, 'build-args': 'FLAVOUR=tok-5f3c9a1e77', 'tag-suffix': 'flavoured' }
      })
      expect(result.errors).toEqual([])
      expect(result.outputs['built']).toBe('true')
      const short = ws.sha.slice(0, 7)
      expect(JSON.parse(result.outputs['tags'] ?? '[]')).toEqual([
        `${short}-flavoured`,
        `${ws.sha}-flavoured`
      ])
      expect(await digestOf(repository, `${ws.sha}-flavoured`)).toBe(result.outputs['image-digest'])
      expect(result.outputs['image-digest']).not.toBe(digest)
      expect(await digestOf(repository, ws.sha)).toBe(digest)
    })
  })

  describe('item 4: promote into an IMMUTABLE repository confirms every tag', () => {
    let other: string

    beforeAll(async () => {
      // A second image in the repository (same layers, another manifest) that already holds "v1".
      const base = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }]
        })
      )
      const manifest = JSON.parse(base.images?.[0]?.imageManifest as string) as object
      const put = await ecr.send(
        new PutImageCommand({
          repositoryName: repository,
          imageManifest: JSON.stringify({ ...manifest, annotations: { release: 'other' } }),
          imageTag: 'v1'
        })
      )
      other = put.image?.imageId?.imageDigest as string
      if (!other || other === digest) throw new Error('the second image was not created')
    })

    it.each([
      ['ImageTagAlreadyExistsException (as the ECR API reference documents)', undefined],
      ['ImageAlreadyExistsException (as moto answers)', 'ImageAlreadyExistsException']
    ])(
      'fails, without an image-ref, when PutImage answers the conflicting tag with %s',
      async (_what, injected) => {
        if (injected) {
          await stack.admin.post('faults', {
            service: 'ecr',
            operation: 'PutImage',
            type: 'error',
            status: 400,
            code: injected,
            message: `Image with digest '${digest}' and tag 'v1' already exists in the repository with name '${repository}'`,
            count: 1
          })
        }
        const result = await run({
          sha: ws.sha,
          workspace: ws.dir,
          inputs: { repository, 'source-image': `${repository}@${digest}`, tags: 'v1' }
        })
        await stack.admin.delete('faults')
        expect(result.exitCode).toBe(1)
        expect(result.errors).toEqual([
          `build-tag-push: Tag "v1" already points at another image (${other}, not ${digest}) in the repository ${repository}: ECR refused to move it (${injected ?? 'ImageTagAlreadyExistsException'}). Immutable tags cannot move. Use a new tag, remove "v1" from "tags", or exclude it from immutability (IMMUTABLE_WITH_EXCLUSION)`
        ])
        expect(result.outputs['image-ref']).toBeUndefined()
        expect(await digestOf(repository, 'v1')).toBe(other)
      }
    )

    it('fails when PutImage claims the tag exists but ECR lists no image under it', async () => {
      await stack.admin.post('faults', {
        service: 'ecr',
        operation: 'PutImage',
        type: 'error',
        status: 400,
        code: 'ImageAlreadyExistsException',
        count: 1
      })
      const result = await run({
        sha: ws.sha,
        workspace: ws.dir,
        inputs: { repository, 'source-image': `${repository}@${digest}`, tags: 'v9' }
      })
      await stack.admin.delete('faults')
      expect(result.exitCode).toBe(1)
      expect(result.errors[0]).toContain(
        `ECR refused to write tag "v9" for ${digest} in the repository ${repository} (ImageAlreadyExistsException), and lists no image under that tag`
      )
      expect(result.outputs['image-ref']).toBeUndefined()
      expect(await digestOf(repository, 'v9')).toBeUndefined()
    })
  })
})

describe('item 7: two builds of the same commit at once', () => {
  it('the build that loses the IMMUTABLE commit tag reuses the winner (same build inputs): built=false, and why', async () => {
    const repository = uniqueName('e2e/race')
    repositories.push(repository)
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: repository, imageTagMutability: 'IMMUTABLE' })
    )
    // Two runners' checkouts of one commit. Real builds are not reproducible (timestamps), so the two images
    // differ; here an untracked file per runner stands in for that (the engine would otherwise reuse its cache).
    const runners = ['a', 'b'].map((name) => {
      const ws = appWorkspace({ commitDate: COMMIT_DATE })
      writeFileSync(join(ws.dir, 'www', 'runner.txt'), `runner ${name}\n`)
      return ws
    })
    const [wsA, wsB] = runners as [AppWorkspace, AppWorkspace]
    expect(wsB.sha).toBe(wsA.sha)
    const ws = wsA
    // Hold the first manifest write (the first build's push of the commit tag) for a while, and start the second
    // build meanwhile: it finds no image for the commit, builds, and one of the two writes of the tag loses.
    await stack.admin.post('faults', {
      service: 'registry',
      operation: 'registry:manifest-put',
      type: 'latency',
      latencyMs: 8000,
      count: 1
    })
    const first = run({ sha: ws.sha, workspace: wsA.dir, inputs: { repository } })
    const deadline = Date.now() + 120_000
    while ((await stack.admin.get<unknown[]>('faults')).length > 0) {
      if (Date.now() > deadline) throw new Error('the first build never pushed')
      await new Promise((r) => setTimeout(r, 100))
    }
    const second = run({ sha: ws.sha, workspace: wsB.dir, inputs: { repository } })
    const results = await Promise.all([first, second])
    for (const result of results) {
      expect(result.errors).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(result.log).not.toMatch(/remove .* from "tags"/)
    }
    const built = results.filter((r) => r.outputs['built'] === 'true')
    const reused = results.filter((r) => r.outputs['built'] === 'false')
    expect(built).toHaveLength(1)
    expect(reused).toHaveLength(1)
    expect(reused[0]?.log).toMatch(dockerAny) // it did build: it lost the race, not the initial lookup
    expect(reused[0]?.notices).toContain(
      `built=false: another build of this commit pushed ${repository}:${ws.sha} first, from the same build inputs; this build was discarded`
    )
    const winner = await digestOf(repository, ws.sha)
    expect(built[0]?.outputs['image-digest']).toBe(winner)
    expect(reused[0]?.outputs['image-digest']).toBe(winner)
    expect(await digestOf(repository, ws.sha.slice(0, 7))).toBe(winner)
  })
})
