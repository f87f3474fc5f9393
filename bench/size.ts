// Target 2 of issue 15: each dist/<action>/index.js ≤ 1.2 MB, and the repository tarball a `uses:` line downloads
// (git archive of HEAD, which honours .gitattributes export-ignore, gzip -9) ≤ 2 MB.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
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
  options.log('size: git archive | gzip -9, of HEAD and of the working tree as a release commit')
  const head = git(['rev-parse', '--short', 'HEAD']).toString().trim()
  rows.push(tarballRow(`git archive ${head} (HEAD as committed)`, 'HEAD'))
  // The release commit this working tree would make (dist/ as built now): a tree written from a scratch index,
  // so nothing is committed or staged. git archive honours .gitattributes export-ignore, as GitHub's tarball does.
  const index = join(mkdtempSync(join(tmpdir(), 'shipline-size-')), 'index')
  try {
    const env = { ...process.env, GIT_INDEX_FILE: index }
    git(['read-tree', 'HEAD'], env)
    git(['add', '-A', '--', '.'], env)
    const tree = git(['write-tree'], env).toString().trim()
    rows.push(
      tarballRow('git archive of the working tree (a release commit with dist/ as built)', tree)
    )
  } finally {
    rmSync(dirname(index), { recursive: true, force: true })
  }
  return Promise.resolve(rows)
}

function git(args: string[], env: NodeJS.ProcessEnv = process.env): Buffer {
  return execFileSync('git', args, { cwd: root, env, maxBuffer: 512 * MB })
}

function tarballRow(measure: string, treeish: string): BenchRow {
  const tar = git(['archive', '--format=tar', treeish])
  const gz = gzipSync(tar, { level: 9 }).length
  return {
    target: '2 tarball',
    measure: `${measure}: tar ${(tar.length / MB).toFixed(1)} MB, gzip -9`,
    figure: `${(gz / MB).toFixed(2)} MB`,
    ratio: gz / TARBALL_LIMIT,
    limit: '≤ 2 MB',
    pass: gz <= TARBALL_LIMIT,
    note: 'what a `uses:` line downloads; export-ignore paths in .gitattributes are left out'
  }
}
