// Target 2 of issue 15: each dist/<action>/index.js ≤ 1.2 MB, and the repository tarball a `uses:` line downloads
// (git archive of HEAD, which honours .gitattributes export-ignore, gzip -9) ≤ 2 MB.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { BenchOptions, BenchRow } from './lib/row.js'

const root = resolve(import.meta.dirname, '..')
const MB = 1_000_000
const ENTRY_LIMIT = 1.2 * MB
const TARBALL_LIMIT = 2 * MB

export function bench(options: BenchOptions): Promise<BenchRow[]> {
  const dist = join(root, 'dist')
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run bundle` first')
  const actions = readdirSync(dist)
    .filter((name) => existsSync(join(dist, name, 'index.js')))
    .sort()
  const rows: BenchRow[] = []
  for (const action of actions) {
    const files = readdirSync(join(dist, action)).filter((f) => f.endsWith('.js'))
    const entry = statSync(join(dist, action, 'index.js')).size
    const all = files.reduce((sum, f) => sum + statSync(join(dist, action, f)).size, 0)
    rows.push({
      target: '2 bundle size',
      measure: `dist/${action}/index.js (all ${files.length} .js files: ${(all / MB).toFixed(2)} MB)`,
      figure: `${(entry / MB).toFixed(2)} MB`,
      ratio: entry / ENTRY_LIMIT,
      limit: '≤ 1.2 MB',
      pass: entry <= ENTRY_LIMIT,
      note: 'ratio is to the limit; lazy chunks load only on the paths that call AWS'
    })
  }
  options.log('size: git archive HEAD | gzip')
  const tar = execFileSync('git', ['archive', '--format=tar', 'HEAD'], {
    cwd: root,
    maxBuffer: 512 * MB
  })
  const gz = gzipSync(tar, { level: 9 }).length
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    encoding: 'utf8'
  })
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'dist'], {
    cwd: root,
    encoding: 'utf8'
  })
  rows.push({
    target: '2 tarball',
    measure: `git archive ${head.trim()} (tar ${(tar.length / MB).toFixed(1)} MB), gzip -9`,
    figure: `${(gz / MB).toFixed(2)} MB`,
    ratio: gz / TARBALL_LIMIT,
    limit: '≤ 2 MB',
    pass: gz <= TARBALL_LIMIT,
    note: dirty
      ? 'committed HEAD; the working dist/ differs from it (measured the commit, not the working tree)'
      : 'committed HEAD; export-ignore paths in .gitattributes are left out, as in a GitHub tarball'
  })
  return Promise.resolve(rows)
}
