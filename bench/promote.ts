// Target 5: promote cost. For two image sizes (one incompressible random layer, generated at run time, never
// committed) pushed to the simulated ECR by the real Docker engine, tag the image for production two ways:
// - build-tag-push promote mode (source-image = repository@digest, tags = prod): the bundled action, whole process;
// - pull-tag-push, what a workflow does without it: docker pull (on a runner without the image) + tag + push.
// Bytes moved = TCP bytes through the simulator's registry endpoint and AWS endpoint (both in-process) during each
// method, both directions. The target: promote's bytes independent of the image size (ratio of its bytes at the large
// size to the small one ≈ 1, where pull-tag-push grows with the size).
// Usage: npx tsx bench/promote.ts [large-MB]     (needs `npm run bundle -- build-tag-push` first)
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { DescribeImagesCommand } from '@aws-sdk/client-ecr'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack } from '../packages/sim/src/stack.js'
import { runAction } from '../test/helpers/runner.js'
import { ByteCounter, docker, mb, portOf } from './lib/docker.js'
import type { BenchOptions, BenchRow } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

interface Cost {
  bytes: number
  ms: number
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const sizes = [10, options.runs ?? 100]
  const stack = await startStack()
  const ecr = new ECRClient({ ...stack.clientConfig })
  const temp = mkdtempSync(join(tmpdir(), 'bench-deploy-promote-'))
  const counter = new ByteCounter([portOf(stack.registryHost), portOf(stack.endpoint)])
  const promote: Cost[] = []
  const pull: Cost[] = []
  const local: string[] = []
  const measure = async (work: () => Promise<void>): Promise<Cost> => {
    const bytes = counter.total()
    const started = Date.now()
    await work()
    return { bytes: counter.total() - bytes, ms: Date.now() - started }
  }
  try {
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}))
    const token = auth.authorizationData?.[0]?.authorizationToken as string
    const password = Buffer.from(token, 'base64').toString('utf8').split(':')[1] as string
    await docker(
      ['login', '--username', 'AWS', '--password-stdin', stack.registryHost],
      temp,
      password
    )
    for (const size of sizes) {
      const context = join(temp, `ctx-${size}`)
      mkdirSync(context)
      const fd = openSync(join(context, 'blob'), 'w')
      for (let i = 0; i < size; i++) writeSync(fd, randomBytes(1 << 20))
      closeSync(fd)
      writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY blob /blob\nUSER 65532\n')
      const repository = `bench-promote/app-${process.pid}-${size}`
      const ref = `${stack.registryHost}/${repository}`
      local.push(`${ref}:src`, `${ref}:pulled`)
      await docker(['build', '--quiet', '-t', `${ref}:src`, context], temp)
      rmSync(context, { recursive: true, force: true })
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }))
      await docker(['push', '--quiet', `${ref}:src`], temp)
      const digest = (
        await ecr.send(
          new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: 'src' }] })
        )
      ).imageDetails?.[0]?.imageDigest as string

      const p = await measure(async () => {
        const result = await runAction('build-tag-push', {
          inputs: {
            'role-to-assume': stack.roleArn,
            repository,
            'source-image': `${repository}@${digest}`,
            tags: 'prod'
          },
          env: { ...stack.env, GITHUB_SHA: 'a'.repeat(40) },
          workspace: mkdtempSync(join(temp, 'ws-')),
          timeoutMs: 120_000
        })
        if (result.exitCode !== 0 || result.outputs['image-digest'] !== digest)
          throw new Error(`promote: build-tag-push failed: ${result.errors.join(' ')}`)
      })
      promote.push(p)
      // A runner has no copy of the image: drop the local one so the pull is real.
      await docker(['rmi', '--force', `${ref}:src`], temp)
      const q = await measure(async () => {
        await docker(['pull', '--quiet', `${ref}@${digest}`], temp)
        await docker(['tag', `${ref}@${digest}`, `${ref}:pulled`], temp)
        await docker(['push', '--quiet', `${ref}:pulled`], temp)
      })
      pull.push(q)
      options.log(
        `promote ${size} MB: promote mode ${mb(p.bytes)} in ${p.ms} ms; pull-tag-push ${mb(q.bytes)} in ${q.ms} ms`
      )
      await docker(['rmi', '--force', `${ref}:pulled`, `${ref}@${digest}`], temp).catch(
        () => undefined
      )
    }
  } finally {
    for (const image of local) await docker(['rmi', '--force', image], temp).catch(() => undefined)
    ecr.destroy()
    await stack.stop()
    rmSync(temp, { recursive: true, force: true })
  }
  const [ps, pl] = promote as [Cost, Cost]
  const [qs, ql] = pull as [Cost, Cost]
  const growth = pl.bytes / ps.bytes
  return [
    {
      target: '5 promote (bytes)',
      measure: `promote mode bytes moved, ${sizes[1]} MB image vs ${sizes[0]} MB image`,
      figure: `${mb(pl.bytes)} vs ${mb(ps.bytes)}`,
      ratio: growth,
      limit: 'independent of image size: growth < 1 % of the size difference',
      pass: pl.bytes - ps.bytes < 0.01 * (sizes[1]! - sizes[0]!) * 1e6,
      note: `pull-tag-push moved ${mb(ql.bytes)} vs ${mb(qs.bytes)} (ratio ${(ql.bytes / qs.bytes).toFixed(1)}); promote moves ${((pl.bytes / ql.bytes) * 100).toFixed(2)} % of pull-tag-push's bytes at ${sizes[1]} MB; TCP bytes through the simulated ECR endpoints`
    },
    {
      target: '5 promote (time)',
      measure: `promote mode vs pull-tag-push, ${sizes[1]} MB image`,
      figure: `${(pl.ms / 1000).toFixed(2)} s vs ${(ql.ms / 1000).toFixed(2)} s`,
      ratio: pl.ms / ql.ms,
      limit: 'informational',
      pass: undefined,
      note: `at ${sizes[0]} MB: ${(ps.ms / 1000).toFixed(2)} s vs ${(qs.ms / 1000).toFixed(2)} s; promote includes the action's process start, OIDC and STS`
    }
  ]
}

if (isMain(import.meta.url)) await runStandalone(bench)
