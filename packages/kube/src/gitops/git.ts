import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { ActionError, type Exec, InputError, maskSecret } from '@shipline/action-kit'
import type { ImageSpec } from '../images.js'
import { yamlFilesUnder } from '../manifests.js'
import { editGitopsFile, type GitopsChange } from './edit.js'
import type { PullRequestApi } from './github.js'

export type GitopsStatus = 'COMMITTED' | 'PULL_REQUEST' | 'UNCHANGED'

export interface GitopsOptions {
  /** Clone URL (https://…, file://…). */
  url: string
  branch: string
  /** Folder inside the repository to edit. */
  path: string
  token: string | undefined
  images: ImageSpec[]
  helmValuesKeys: string[]
  allowUnmatched: boolean
  /** PR mode: the branch to push and open the pull request from. */
  pullRequest: { branch: string; api: PullRequestApi } | undefined
  subject: string
  body: string
  author: { name: string; email: string }
  /** Where to clone (RUNNER_TEMP). */
  tempDir: string
  maxAttempts?: number
}

export interface GitopsResult {
  status: GitopsStatus
  commitSha?: string
  pullRequestUrl?: string
  changes: GitopsChange[]
  unmatched: string[]
  attempts: number
}

export interface GitopsDeps {
  exec: Exec
  info(message: string): void
  warning(message: string): void
  sleep?(ms: number): Promise<void>
}

/** Git reads the token from the environment (http.extraheader), never from argv or the URL. */
function gitEnv(token: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C'
  }
  if (token) {
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
    maskSecret(basic)
    env['GIT_CONFIG_COUNT'] = '1'
    env['GIT_CONFIG_KEY_0'] = 'http.extraheader'
    env['GIT_CONFIG_VALUE_0'] = `AUTHORIZATION: basic ${basic}`
  }
  return env
}

class Git {
  constructor(
    private readonly deps: GitopsDeps,
    private readonly env: Record<string, string>,
    readonly dir: string
  ) {}

  async run(args: string[], options: { allowFail?: boolean; cwd?: string } = {}) {
    const result = await this.deps.exec('git', args, {
      cwd: options.cwd ?? this.dir,
      env: this.env,
      silent: true
    })
    if (result.exitCode !== 0 && !options.allowFail) {
      throw new ActionError(
        `git ${args[0] ?? ''} failed in the GitOps repository: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`,
        'Check "gitops-repository", "gitops-branch" and that "gitops-token" may read and push to it.'
      )
    }
    return result
  }
}

function editTree(
  root: string,
  subPath: string,
  options: GitopsOptions
): { changes: GitopsChange[]; unmatched: string[] } {
  const dir = resolve(root, subPath)
  const rel = relative(root, dir)
  if (rel.startsWith('..') || rel.split(sep).includes('..')) {
    throw new InputError(
      'gitops-path',
      `"${subPath}" leads outside the repository`,
      'Use a folder inside the GitOps repository.'
    )
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(
      'gitops-path',
      `"${subPath}" is not a folder of branch "${options.branch}"`,
      "Point it at the folder holding the environment's manifests, kustomization or values file."
    )
  }
  const used = new Set<string>()
  const changes: GitopsChange[] = []
  for (const file of yamlFilesUnder(dir)) {
    const text = readFileSync(file, 'utf8')
    const shown = relative(root, file).split(sep).join('/')
    const result = editGitopsFile(shown, text, options.images, options.helmValuesKeys, used)
    if (result.text !== text) {
      writeFileSync(file, result.text)
      changes.push(...result.changes)
    }
  }
  return {
    changes,
    unmatched: options.images.filter((s) => !used.has(s.input)).map((s) => s.input)
  }
}

const REJECTED =
  /\[rejected\]|non-fast-forward|fetch first|failed to push|cannot lock ref|stale info/i

/**
 * Clones the GitOps branch, edits image references in place, and commits once (no empty commits). Direct mode
 * pushes with rebase-and-retry; PR mode force-pushes a predictable branch and opens or updates one pull request.
 */
export async function gitopsUpdate(
  deps: GitopsDeps,
  options: GitopsOptions
): Promise<GitopsResult> {
  const env = gitEnv(options.token)
  const dir = mkdtempSync(join(options.tempDir, 'shipline-gitops-'))
  const git = new Git(deps, env, dir)
  const sleep = (ms: number): Promise<void> =>
    deps.sleep ? deps.sleep(ms) : new Promise<void>((r) => setTimeout(r, ms))
  await git.run(
    [
      'clone',
      '--quiet',
      '--no-tags',
      '--single-branch',
      '--branch',
      options.branch,
      '--depth',
      '1',
      options.url,
      dir
    ],
    { cwd: options.tempDir }
  )
  const identity = [
    '-c',
    `user.name=${options.author.name}`,
    '-c',
    `user.email=${options.author.email}`,
    '-c',
    'commit.gpgsign=false'
  ]

  const editAndCommit = async (): Promise<{
    changes: GitopsChange[]
    unmatched: string[]
    committed: boolean
  }> => {
    const { changes, unmatched } = editTree(dir, options.path, options)
    if (unmatched.length && !options.allowUnmatched) {
      throw new InputError(
        'images',
        `${unmatched.map((u) => `"${u}"`).join(', ')} matched no image reference under "${options.path}" of ${options.branch}`,
        'Check the repository name (registry and port included), the "helm-values-key", or mark the line with "# shipline-image: <repository>"; set "allow-unmatched-images: true" to only warn.'
      )
    }
    const status = await git.run(['status', '--porcelain'])
    if (!status.stdout.trim()) return { changes, unmatched, committed: false }
    await git.run(['add', '-A', '--', '.'])
    await git.run([...identity, 'commit', '--quiet', '-m', options.subject, '-m', options.body])
    return { changes, unmatched, committed: true }
  }

  let edit = await editAndCommit()
  for (const u of edit.unmatched)
    deps.warning(`images: "${u}" matched nothing in the GitOps repository`)
  if (!edit.committed) {
    deps.info(`GitOps: ${options.branch} already has the image(s); no commit`)
    return { status: 'UNCHANGED', changes: [], unmatched: edit.unmatched, attempts: 1 }
  }

  if (options.pullRequest) {
    const { branch, api } = options.pullRequest
    const remote = await git.run(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`])
    let pushed = true
    if (remote.stdout.trim()) {
      await git.run(['fetch', '--quiet', '--depth', '1', 'origin', `refs/heads/${branch}`])
      const theirs = (await git.run(['rev-parse', 'FETCH_HEAD^{tree}'])).stdout.trim()
      const ours = (await git.run(['rev-parse', 'HEAD^{tree}'])).stdout.trim()
      const theirsParent = (
        await git.run(['rev-parse', 'FETCH_HEAD~1'], { allowFail: true })
      ).stdout.trim()
      const base = (await git.run(['rev-parse', 'HEAD~1'])).stdout.trim()
      if (theirs === ours && theirsParent === base) pushed = false
    }
    if (pushed) await git.run(['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`])
    const sha = pushed
      ? (await git.run(['rev-parse', 'HEAD'])).stdout.trim()
      : (await git.run(['rev-parse', 'FETCH_HEAD'])).stdout.trim()
    const existing = await api.findOpen(options.branch, branch)
    const pr = existing
      ? await api.update(existing.number, { title: options.subject, body: options.body })
      : await api.create({
          base: options.branch,
          head: branch,
          title: options.subject,
          body: options.body
        })
    deps.info(`GitOps: ${existing ? 'updated' : 'opened'} pull request ${pr.url} from ${branch}`)
    return {
      status: 'PULL_REQUEST',
      commitSha: sha,
      pullRequestUrl: pr.url,
      changes: edit.changes,
      unmatched: edit.unmatched,
      attempts: 1
    }
  }

  const maxAttempts = options.maxAttempts ?? 5
  for (let attempt = 1; ; attempt++) {
    const push = await git.run(['push', '--quiet', 'origin', `HEAD:refs/heads/${options.branch}`], {
      allowFail: true
    })
    if (push.exitCode === 0) {
      const sha = (await git.run(['rev-parse', 'HEAD'])).stdout.trim()
      deps.info(`GitOps: pushed ${sha} to ${options.branch}`)
      return {
        status: 'COMMITTED',
        commitSha: sha,
        changes: edit.changes,
        unmatched: edit.unmatched,
        attempts: attempt
      }
    }
    if (!REJECTED.test(push.stderr) || attempt >= maxAttempts) {
      throw new ActionError(
        `pushing to ${options.branch} of the GitOps repository failed after ${attempt} attempt(s): ${push.stderr.trim().split('\n').slice(-2).join(' ')}`,
        'Check that "gitops-token" may push to the branch (branch protection may require "gitops-pull-request: true").'
      )
    }
    deps.warning(
      `GitOps: ${options.branch} moved while we committed; rebasing and retrying (attempt ${attempt + 1})`
    )
    await sleep(200 * attempt)
    await git.run(['fetch', '--quiet', 'origin', `refs/heads/${options.branch}`])
    const rebase = await git.run([...identity, 'rebase', '--quiet', 'FETCH_HEAD'], {
      allowFail: true
    })
    if (rebase.exitCode !== 0) {
      // conflicting edit upstream: start again from their tip and redo our edits
      await git.run(['rebase', '--abort'], { allowFail: true })
      await git.run(['reset', '--quiet', '--hard', 'FETCH_HEAD'])
      edit = await editAndCommit()
      if (!edit.committed) {
        deps.info(
          `GitOps: ${options.branch} already has the image(s) after the concurrent push; no commit`
        )
        return {
          status: 'UNCHANGED',
          changes: [],
          unmatched: edit.unmatched,
          attempts: attempt + 1
        }
      }
    }
  }
}

/** `owner/name` or a clone URL → the URL to clone and the GitHub owner/name (last two path segments). */
export function gitopsRepository(
  value: string,
  serverUrl = process.env['GITHUB_SERVER_URL'] || 'https://github.com'
): { url: string; owner: string; name: string } {
  const short = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value)
  if (short) {
    const name = (short[2] as string).replace(/\.git$/, '')
    return {
      url: `${serverUrl.replace(/\/$/, '')}/${short[1] as string}/${name}.git`,
      owner: short[1] as string,
      name
    }
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(
      'gitops-repository',
      `"${value}" is neither owner/name nor a URL`,
      'Use owner/name (on this GitHub server) or an https:// or file:// clone URL.'
    )
  }
  if (!['https:', 'file:', 'http:', 'ssh:'].includes(url.protocol)) {
    throw new InputError(
      'gitops-repository',
      `"${value}" uses ${url.protocol}, which is not supported`,
      'Use an https:// (or file://) clone URL.'
    )
  }
  if (url.username || url.password) {
    throw new InputError(
      'gitops-repository',
      'contains credentials in the URL',
      'Remove them and pass the token in "gitops-token" (it is masked and sent as a header).'
    )
  }
  const parts = url.pathname.split('/').filter(Boolean)
  const name = (parts[parts.length - 1] ?? '').replace(/\.git$/, '')
  const owner = parts[parts.length - 2] ?? ''
  return { url: value, owner, name }
}
