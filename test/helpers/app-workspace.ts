/**
 * A git checkout of the example app, as actions/checkout would leave it for a job: examples/app plus the static
 * busybox its FROM-scratch Dockerfile copies, committed so that the commit SHA and commit time are real.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './runner.js'

export interface AppWorkspace {
  dir: string
  sha: string
}

export interface AppWorkspaceOptions {
  /** Where the app goes inside the checkout (default: its root). */
  appDir?: string
  /** Replaces the example Dockerfile. */
  dockerfile?: string
  /** Extra files copied into the checkout root: repo-relative source path → name. */
  files?: Record<string, string>
  /** Commit time (ISO 8601); default: now. */
  commitDate?: string
}

export function git(cwd: string, args: string[], commitDate?: string): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Shipline Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Shipline Test',
    GIT_COMMITTER_EMAIL: 'test@example.com'
  }
  if (commitDate)
    Object.assign(env, { GIT_AUTHOR_DATE: commitDate, GIT_COMMITTER_DATE: commitDate })
  return execFileSync('git', args, { cwd, encoding: 'utf8', env }).trim()
}

export function appWorkspace(options: AppWorkspaceOptions = {}): AppWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'shipline-ws-'))
  const app = join(dir, options.appDir ?? '.')
  cpSync(join(REPO_ROOT, 'examples/app'), app, { recursive: true })
  cpSync('/bin/busybox', join(app, 'busybox'))
  if (options.dockerfile !== undefined) writeFileSync(join(app, 'Dockerfile'), options.dockerfile)
  for (const [source, name] of Object.entries(options.files ?? {}))
    cpSync(join(REPO_ROOT, source), join(dir, name))
  git(dir, ['init', '-q', '-b', 'main'])
  git(dir, ['add', '-A'])
  git(dir, ['commit', '-q', '-m', 'app'], options.commitDate)
  return { dir, sha: git(dir, ['rev-parse', 'HEAD']) }
}
