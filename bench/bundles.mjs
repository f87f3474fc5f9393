// Bundle size and cold start of every bundled action, as ratios measured in one run.
//   size ratio       = the bytes dist/<action>/index.js loads at start-up (stub, shared entry, the chunks of the
//                      action's entry point: bench/lib/dist-files.mjs) ÷ the smallest official aws-actions bundle
//                      (2.1 MB, field notes)
//   cold-start ratio = median wall time of `node dist/<action>/index.js` (no inputs: load, parse, fail fast)
//                      ÷ median wall time of `node -e 0` on the same machine in the same run
// Usage: node bench/bundles.mjs [runs]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { distFiles, fileBytes } from './lib/dist-files.mjs'

const OFFICIAL_SMALLEST_BYTES = 2.1 * 1024 * 1024
const runs = Number(process.argv[2] ?? 15)
const startup = Object.fromEntries(distFiles('dist').map((a) => [a.action, a.startup]))
const actions = Object.keys(startup)
const dir = mkdtempSync(join(tmpdir(), 'bench-'))
const env = {
  PATH: process.env.PATH,
  GITHUB_OUTPUT: join(dir, 'out'),
  GITHUB_STEP_SUMMARY: join(dir, 'sum')
}
writeFileSync(env.GITHUB_OUTPUT, '')
writeFileSync(env.GITHUB_STEP_SUMMARY, '')

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
function time(args) {
  const start = process.hrtime.bigint()
  spawnSync(process.execPath, args, { env, cwd: dir, stdio: 'ignore' })
  return Number(process.hrtime.bigint() - start) / 1e6
}

// Interleave baseline and action runs so machine noise hits both alike.
const samples = Object.fromEntries([['baseline', []], ...actions.map((a) => [a, []])])
for (let i = 0; i < runs; i++) {
  samples.baseline.push(time(['-e', '0']))
  for (const action of actions)
    samples[action].push(time([join(process.cwd(), 'dist', action, 'index.js')]))
}
const base = median(samples.baseline)
console.log(`node -e 0 median: ${base.toFixed(1)} ms over ${runs} runs`)
console.log('action                 size(MB)  size/official  cold-start/node-baseline')
for (const action of actions) {
  const bytes = fileBytes('dist', startup[action])
  console.log(
    `${action.padEnd(22)} ${(bytes / 1024 / 1024).toFixed(2).padStart(8)}  ${(bytes / OFFICIAL_SMALLEST_BYTES).toFixed(2).padStart(13)}  ${(median(samples[action]) / base).toFixed(2).padStart(24)}`
  )
}
