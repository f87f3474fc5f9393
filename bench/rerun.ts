// Target 4: re-run cost of build-tag-push. Three timings of the bundled action against the local stack and the real
// Docker engine, medians:
// - first build: a new commit of examples/app whose content no build has seen (a unique file in www/), so the
//   layers it adds miss the cache, built and pushed;
// - warm rebuild (the baseline, what docker/build-push-action does on a re-run): a new commit with the same content
//   as a built one, so `docker build` hits the cache for every layer and the push finds every layer in ECR — the
//   action does everything a build does (OIDC, login, build, push), nothing else differs but the commit labels;
// - re-run: the action again on an already-pushed commit.
// Zero builds on the re-run is proven from the action itself (output built=false, no `docker build` command in its
// log) and from the registry request log (no blob upload, no manifest put during the re-run).
// Usage: npx tsx bench/rerun.ts [runs]     (needs `npm run bundle -- build-tag-push` first)
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type SimStack } from '../packages/sim/src/stack.js'
import { appWorkspace } from '../test/helpers/app-workspace.js'
import { runAction } from '../test/helpers/runner.js'
import { docker } from './lib/docker.js'
import { type BenchOptions, type BenchRow, median } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

const buildLine = /\[command\]\S*docker build/

async function run(stack: SimStack, dir: string, sha: string, repository: string) {
  const started = Date.now()
  const result = await runAction('build-tag-push', {
    inputs: { 'role-to-assume': stack.roleArn, repository },
    env: { ...stack.env, GITHUB_SHA: sha },
    workspace: dir,
    timeoutMs: 200_000
  })
  const ms = Date.now() - started
  if (result.exitCode !== 0)
    throw new Error(`rerun: build-tag-push failed: ${result.errors.join(' ')}`)
  return { ms, result }
}

/** A second commit in `dir` that changes nothing the image contains (an empty commit: new SHA, same context). */
function emptyCommit(dir: string): string {
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'bench',
        GIT_AUTHOR_EMAIL: 'bench@example.com',
        GIT_COMMITTER_NAME: 'bench',
        GIT_COMMITTER_EMAIL: 'bench@example.com'
      }
    }).trim()
  git(['commit', '-q', '--allow-empty', '-m', 'again'])
  return git(['rev-parse', 'HEAD'])
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const runs = options.runs ?? 3
  const stack = await startStack()
  const first: number[] = []
  const warm: number[] = []
  const rerun: number[] = []
  const proofs: string[] = []
  const dirs: string[] = []
  const dockerConfig = mkdtempSync(join(tmpdir(), 'bench-deploy-rerun-docker-'))
  let zeroBuilds = true
  try {
    for (let i = 0; i < runs; i++) {
      const repository = `bench-rerun/app-${process.pid}-${i}`
      const ws = appWorkspace()
      dirs.push(ws.dir)
      // Unique content: the first build's new layers cannot come from the cache.
      appendFileSync(join(ws.dir, 'www', 'index.html'), `\n<!-- ${process.pid}-${Date.now()} -->\n`)
      const sha = emptyCommit(ws.dir)
      const a = await run(stack, ws.dir, sha, repository)
      if (a.result.outputs['built'] !== 'true' || !buildLine.test(a.result.log))
        throw new Error('rerun: the first build did not build')
      first.push(a.ms)
      const sinceId = stack.requestLog().at(-1)?.id ?? 0
      const c = await run(stack, ws.dir, sha, repository)
      rerun.push(c.ms)
      const uploads = stack
        .requestLog({ sinceId })
        .filter((r) => /^registry:(blob-upload|manifest-put)/.test(r.kind)).length
      const built = c.result.outputs['built']
      const ran = buildLine.test(c.result.log)
      if (built !== 'false' || ran || uploads) zeroBuilds = false
      proofs.push(`built=${built}, docker build ${ran ? 'ran' : 'not run'}, ${uploads} uploads`)
      const b = await run(stack, ws.dir, emptyCommit(ws.dir), repository)
      if (b.result.outputs['built'] !== 'true')
        throw new Error('rerun: the warm rebuild did not build')
      warm.push(b.ms)
      options.log(
        `rerun run ${i}: first ${a.ms} ms, warm rebuild ${b.ms} ms, re-run ${c.ms} ms (${proofs.at(-1)})`
      )
    }
  } finally {
    // The images the action built stay in the engine under the stack's registry host: remove ours.
    const prefix = `${stack.registryHost}/bench-rerun/app-${process.pid}-`
    const built = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'], dockerConfig))
      .split('\n')
      .filter((ref) => ref.startsWith(prefix))
    if (built.length) await docker(['rmi', '--force', ...built], dockerConfig).catch(() => '')
    await stack.stop()
    for (const d of [...dirs, dockerConfig]) rmSync(d, { recursive: true, force: true })
  }
  const r = median(rerun)
  const w = median(warm)
  const f = median(first)
  const ratio = r / w
  return [
    {
      target: '4 re-run cost',
      measure: `build-tag-push on an already-pushed commit vs a warm-cache rebuild, median of ${runs}`,
      figure: `${(r / 1000).toFixed(2)} s vs ${(w / 1000).toFixed(2)} s`,
      ratio,
      limit: '≤ 0.1× warm rebuild, zero builds',
      pass: ratio <= 0.1 && zeroBuilds,
      note: `first build ${(f / 1000).toFixed(2)} s (re-run ${(r / f).toFixed(2)}× it); re-runs: ${[...new Set(proofs)].join('; ')}; every timing is the whole action process (OIDC, STS, ECR login included)`
    }
  ]
}

if (isMain(import.meta.url)) await runStandalone(bench)
