// `npm run bench`: runs every benchmark module of issue 15 in series and prints one table.
// Each module exports `bench(options): Promise<BenchRow[]>` (bench/lib/row.ts); a module that is missing, is not a
// module yet, or throws becomes a FAIL row saying why — the run never stops on one benchmark.
// Usage: npm run bench [-- --only <name>[,<name>…]] [--runs <n>] [--json]
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchOptions, BenchRow } from './lib/row.js'

/** In run order: the cheap, local ones first. */
export const MODULES: { name: string; file: string; target: string }[] = [
  { name: 'size', file: 'size.ts', target: '2 bundle size' },
  { name: 'startup', file: 'startup.ts', target: '1 cold start' },
  { name: 'deploy-detection', file: 'deploy-detection.ts', target: '3 detection lag (ECS)' },
  { name: 'eks-detection', file: 'eks-detection.ts', target: '3 detection lag (EKS)' },
  { name: 'rerun', file: 'rerun.ts', target: '4 re-run cost' },
  { name: 'promote', file: 'promote.ts', target: '5 promote cost' },
  { name: 'api-budget', file: 'api-budget.ts', target: '6 API budget' },
  { name: 'scale', file: 'scale.ts', target: '7 scale' }
]

function failRow(target: string, name: string, why: string): BenchRow {
  return {
    target,
    measure: `bench/${name}`,
    figure: '—',
    ratio: undefined,
    limit: '—',
    pass: false,
    note: why
  }
}

export async function runModule(
  module: (typeof MODULES)[number],
  options: BenchOptions
): Promise<BenchRow[]> {
  const path = join(import.meta.dirname, module.file)
  if (!existsSync(path)) return [failRow(module.target, module.file, 'module missing')]
  // A script that runs on import (not yet a module) must not run here: check for the export first.
  if (!/export\s+(async\s+)?function\s+bench\b/.test(readFileSync(path, 'utf8')))
    return [failRow(module.target, module.file, 'not a benchmark module (no exported bench())')]
  try {
    const loaded = (await import(pathToFileURL(path).href)) as {
      bench?: (options: BenchOptions) => Promise<BenchRow[]>
    }
    if (typeof loaded.bench !== 'function')
      return [failRow(module.target, module.file, 'no exported bench()')]
    const rows = await loaded.bench(options)
    if (!rows.length) return [failRow(module.target, module.file, 'returned no rows')]
    return rows
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return [failRow(module.target, module.file, `threw: ${message.split('\n')[0]}`)]
  }
}

function cell(row: BenchRow): string[] {
  return [
    row.target,
    row.measure,
    row.figure,
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}×`,
    row.limit,
    row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'FAIL'
  ]
}

/** A Markdown table (readable in a terminal too), with the notes as footnotes. */
export function table(rows: BenchRow[]): string {
  const header = ['target', 'measure', 'figure', 'ratio', 'limit', 'result']
  const notes: string[] = []
  const body = rows.map((row) => {
    const cells = cell(row)
    if (row.note) {
      let index = notes.indexOf(row.note)
      if (index < 0) index = notes.push(row.note) - 1
      cells[1] = `${cells[1]} [${index + 1}]`
    }
    return cells
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [
    line(header),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...body.map(line),
    '',
    ...notes.map((n, i) => `[${i + 1}] ${n}`)
  ].join('\n')
}

function argument(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag)
  return index >= 0 ? args[index + 1] : undefined
}

async function main(args: string[]): Promise<number> {
  const only = argument(args, '--only')
    ?.split(',')
    .map((s) => s.trim())
  const unknown = only?.filter((name) => !MODULES.some((m) => m.name === name)) ?? []
  if (unknown.length) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; known: ${MODULES.map((m) => m.name).join(', ')}`
    )
    return 2
  }
  const runsArg = argument(args, '--runs')
  const options: BenchOptions = {
    runs: runsArg ? Number(runsArg) : undefined,
    log: (message) => console.error(`[bench] ${message}`)
  }
  const baseline = process.env['SHIPLINE_BASELINE_RENDER']
    ? `official render bundle ${process.env['SHIPLINE_BASELINE_RENDER']}`
    : 'stand-in ncc bundle built like the official render action (bench/baseline/render-stand-in.mjs: eager @actions/core + @aws-sdk/client-ecs, unminified)'
  const started = Date.now()
  const rows: BenchRow[] = []
  for (const module of MODULES.filter((m) => !only || only.includes(m.name))) {
    const t0 = Date.now()
    options.log(`${module.name} …`)
    rows.push(...(await runModule(module, options)))
    options.log(`${module.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  const seconds = (Date.now() - started) / 1000
  console.log(table(rows))
  console.log('')
  console.log(`baseline for targets 1–2: ${baseline}`)
  console.log(
    `node ${process.version}, ${new Date().toISOString()}, total ${seconds.toFixed(0)} s; ` +
      `${rows.filter((r) => r.pass === true).length} PASS, ${rows.filter((r) => r.pass === false).length} FAIL`
  )
  if (args.includes('--json')) console.log(JSON.stringify({ baseline, seconds, rows }))
  return rows.some((r) => r.pass === false) ? 1 : 0
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2))
}
