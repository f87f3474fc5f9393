// Target 1 of issue 15: cold start and peak memory of every bundled action on its cheapest path, as ratios to the
// official amazon-ecs-render-task-definition bundle (or a stand-in built like it) — see bench/cold-start.mjs.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { BenchOptions, BenchRow } from './lib/row.js'

interface ColdStartRow {
  runtime: string
  case: string
  ms: number
  baselineMs: number
  timeRatio: number
  kib: number
  baselineKib: number
  memoryRatio: number
  pass: boolean
}
interface ColdStartResult {
  baseline: string
  runs: number
  target: number
  rows: ColdStartRow[]
}

const root = resolve(import.meta.dirname, '..')

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  if (!existsSync(join(root, 'dist/render-task-def/index.js')))
    throw new Error('dist/render-task-def/index.js is missing: run `npm run bundle` first')
  const runs = options.runs ?? 11
  options.log(`startup: ${runs} alternating runs per case and runtime`)
  // A plain .mjs script shared with `node bench/cold-start.mjs`; typed here.
  const script = './cold-start.mjs'
  const { coldStart } = (await import(script)) as {
    coldStart: (runs: number) => ColdStartResult
  }
  const result = coldStart(runs)
  const rows: BenchRow[] = []
  const runtimes = [...new Set(result.rows.map((r) => r.runtime))]
  if (!runtimes.includes('node24'))
    rows.push({
      target: '1 cold start',
      measure: 'Node 24',
      figure: 'not measured',
      ratio: undefined,
      limit: `≤ ${result.target}× official render`,
      pass: false,
      note: 'no Node 24 binary: run `bash scripts/ensure-node24.sh` or set SHIPLINE_NODE24'
    })
  for (const r of result.rows) {
    rows.push({
      target: '1 cold start',
      measure: `${r.runtime} ${r.case}: wall time, median of ${result.runs}`,
      figure: `${r.ms.toFixed(0)} ms (base ${r.baselineMs.toFixed(0)} ms)`,
      ratio: r.timeRatio,
      limit: `≤ ${result.target}× official render`,
      pass: r.timeRatio <= result.target,
      note: `baseline: ${result.baseline}`
    })
    rows.push({
      target: '1 peak memory',
      measure: `${r.runtime} ${r.case}: max RSS, median of ${result.runs}`,
      figure: `${(r.kib / 1024).toFixed(0)} MiB (base ${(r.baselineKib / 1024).toFixed(0)} MiB)`,
      ratio: r.memoryRatio,
      limit: '< 1× official render',
      pass: r.memoryRatio < 1,
      note: `baseline: ${result.baseline}`
    })
  }
  return rows
}
