// Target 2 of issue 15: each action's start-up ≤ 1.2 MB, and the repository tarball a `uses:` line downloads
// (git archive of HEAD, which honours .gitattributes export-ignore, gzip -9) ≤ 2 MB.
// dist/ is one ncc build of every action (dist/_shared/) plus a stub dist/<action>/index.js per action; which files
// an action loads is read from the bundles by bench/lib/dist-files.mjs.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { BenchOptions, BenchRow } from './lib/row.js'

interface ActionFiles {
  action: string
  entry: string[]
  startup: string[]
  reachable: string[]
}

const root = resolve(import.meta.dirname, '..')
const MB = 1_000_000
const ENTRY_LIMIT = 1.2 * MB
const TARBALL_LIMIT = 2 * MB

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const dist = join(root, 'dist')
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run bundle` first')
  // A plain .mjs module shared with `node bench/bundles.mjs`; typed here.
  const script = './lib/dist-files.mjs'
  const { distFiles, fileBytes } = (await import(script)) as {
    distFiles: (dist: string) => ActionFiles[]
    fileBytes: (dist: string, files: string[]) => number
  }
  const rows: BenchRow[] = []
  for (const { action, entry, startup, reachable } of distFiles(dist)) {
    const entryBytes = fileBytes(dist, entry)
    const startupBytes = fileBytes(dist, startup)
    const reachableBytes = fileBytes(dist, reachable)
    rows.push({
      target: '2 bundle size',
      measure:
        `dist/${action}/index.js at start-up: stub + shared entry ${(entryBytes / 1000).toFixed(0)} kB ` +
        `+ its ${startup.length - entry.length} chunks (can load ${reachable.length} .js files: ` +
        `${(reachableBytes / MB).toFixed(2)} MB)`,
      figure: `${(startupBytes / MB).toFixed(2)} MB`,
      ratio: startupBytes / ENTRY_LIMIT,
      limit: '≤ 1.2 MB',
      pass: startupBytes <= ENTRY_LIMIT,
      note:
        'ratio is to the limit; start-up = the stub, the shared entry and the chunks of the action’s entry ' +
        'point (all its input check loads); main.js and the AWS SDK clients are chunks loaded only on the paths ' +
        'that need them'
    })
  }
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
    statSync(join(dist, f)).isFile()
  )
  const js = files.filter((f) => f.endsWith('.js'))
  const total = fileBytes(dist, js)
  const other = fileBytes(
    dist,
    files.filter((f) => !f.endsWith('.js'))
  )
  rows.push({
    target: '2 bundle size',
    measure: `all of dist/: ${js.length} .js files (other files: ${(other / MB).toFixed(2)} MB)`,
    figure: `${(total / MB).toFixed(2)} MB`,
    ratio: undefined,
    limit: 'informational',
    pass: undefined,
    note: 'one ncc build of every action: chunks shared by several actions are in dist/ once'
  })
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
  return rows
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
