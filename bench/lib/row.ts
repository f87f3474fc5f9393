/**
 * One line of the `npm run bench` table. Every benchmark module exports
 * `export async function bench(options: BenchOptions): Promise<BenchRow[]>` and `bench/run.ts` prints them all.
 */
export interface BenchRow {
  /** Target number and short name from issue 15, e.g. "3 detection lag (ECS)". */
  target: string
  /** What was measured, in words, e.g. "deploy-ecs success: exit − COMPLETED, median of 5". */
  measure: string
  /** The measured figure with its unit, e.g. "0.8 s", "1.1 MB", "31 req/min". */
  figure: string
  /** The figure as a ratio to its baseline when the target is a ratio (e.g. 0.42), else undefined. */
  ratio: number | undefined
  /** The target, as a condition, e.g. "≤ 0.6× official render", "≤ 40 req/min". */
  limit: string
  /** PASS / FAIL against the limit; undefined when informational only. */
  pass: boolean | undefined
  /** Baseline used and anything a reader needs to interpret the figure. */
  note?: string
}

export interface BenchOptions {
  /** Repetitions for medians (each module picks a sensible default when undefined). */
  runs?: number
  /** Print progress lines to stderr. */
  log: (message: string) => void
}

export function median(values: number[]): number {
  if (!values.length) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
