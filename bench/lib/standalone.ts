/** Lets a benchmark module run alone: `npx tsx bench/<name>.ts [runs]` prints its rows. */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchOptions, BenchRow } from './row.js'

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl))
  } catch {
    return false
  }
}

/** Runs `bench` with the runs given on the command line and prints its rows as a table. */
export async function runStandalone(
  bench: (options: BenchOptions) => Promise<BenchRow[]>
): Promise<void> {
  const arg = process.argv.slice(2).find((a) => /^\d+$/.test(a))
  const started = Date.now()
  const rows = await bench({
    runs: arg ? Number(arg) : undefined,
    log: (m) => console.error(m)
  })
  for (const r of rows) {
    const verdict = r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'FAIL'
    const ratio = r.ratio === undefined ? '' : ` (ratio ${r.ratio.toFixed(2)})`
    console.log(`${r.target} | ${r.measure} | ${r.figure}${ratio} | ${r.limit} | ${verdict}`)
    if (r.note) console.log(`    ${r.note}`)
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`)
}
