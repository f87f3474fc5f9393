import { describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../../helpers/runner.js'

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8'
  })

describe('npm run check-dist', () => {
  it('passes on a fresh bundle of committed sources and fails after a one-line source change', () => {
    // A throwaway clone of HEAD reduced to one action, so each bundle is quicker.
    const dir = mkdtempSync(join(tmpdir(), 'check-dist-'))
    git(dir, 'clone', '--quiet', '--no-local', REPO_ROOT, 'repo')
    const repo = join(dir, 'repo')
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(repo, 'node_modules'))
    for (const name of readdirSync(join(repo, 'actions'))) {
      if (name !== 'deploy-ecs') rmSync(join(repo, 'actions', name), { recursive: true })
    }
    execFileSync('node', ['.github/scripts/bundle.mjs'], { cwd: repo, stdio: 'pipe' })
    git(repo, 'add', '-A')
    git(repo, 'commit', '--quiet', '--allow-empty', '-m', 'bundle')

    const clean = spawnSync('bash', ['.github/scripts/check-dist.sh'], {
      cwd: repo,
      encoding: 'utf8'
    })
    expect(clean.stderr).not.toContain('stale')
    expect(clean.stdout).toContain('dist/ is up to date')
    expect(clean.status).toBe(0)

    // A statement with an effect: an unused export would be dropped by webpack and terser, and dist/ not change.
    appendFileSync(
      join(repo, 'actions/deploy-ecs/src/main.ts'),
      "\nprocess.env['SHIPLINE_TOUCHED'] ??= 'one line'\n"
    )
    const stale = spawnSync('bash', ['.github/scripts/check-dist.sh'], {
      cwd: repo,
      encoding: 'utf8'
    })
    expect(stale.status).toBe(1)
    expect(stale.stderr).toContain("dist/ is stale. Run 'npm run bundle' and commit dist/.")
    // The action's code is in dist/_shared/ (one build of every action): the chunk holding main.ts changed, and
    // the rebuilt chunk check-dist left behind has the new line in it.
    const changed = [...stale.stderr.matchAll(/^ M (dist\/_shared\/\d+\.index\.js)$/gm)].map(
      (m) => m[1]!
    )
    expect(changed).toHaveLength(1)
    expect(readFileSync(join(repo, changed[0]!), 'utf8')).toContain('one line')
    expect(stale.stderr).not.toContain('dist/deploy-ecs/index.js')
    rmSync(dir, { recursive: true, force: true })
  }, 180_000)
})
