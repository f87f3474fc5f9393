import { existsSync, readFileSync } from 'node:fs'

export interface GitHubContext {
  /** The commit the workflow runs on (for pull_request events, the merge commit). */
  sha: string
  /** The commit to name artifacts after: the PR head commit on pull_request events, otherwise `sha`. */
  commitSha: string
  eventName: string
  ref: string
  refName: string
  repository: string
  serverUrl: string
  runId: string
  runAttempt: string
  workspace: string
  actor: string
  workflow: string
  job: string
  event: Record<string, unknown>
}

const PR_EVENTS = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment'
])

/** Reads the runner's GITHUB_* variables and the event payload (never at module load). */
export function githubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const eventPath = env['GITHUB_EVENT_PATH']
  let event: Record<string, unknown> = {}
  if (eventPath && existsSync(eventPath)) {
    try {
      event = JSON.parse(readFileSync(eventPath, 'utf8')) as Record<string, unknown>
    } catch {
      event = {}
    }
  }
  const eventName = env['GITHUB_EVENT_NAME'] ?? ''
  const sha = env['GITHUB_SHA'] ?? ''
  const pr = event['pull_request'] as { head?: { sha?: unknown } } | undefined
  const headSha = typeof pr?.head?.sha === 'string' ? pr.head.sha : undefined
  return {
    sha,
    commitSha: PR_EVENTS.has(eventName) && headSha ? headSha : sha,
    eventName,
    ref: env['GITHUB_REF'] ?? '',
    refName: env['GITHUB_REF_NAME'] ?? '',
    repository: env['GITHUB_REPOSITORY'] ?? '',
    serverUrl: env['GITHUB_SERVER_URL'] ?? 'https://github.com',
    runId: env['GITHUB_RUN_ID'] ?? '',
    runAttempt: env['GITHUB_RUN_ATTEMPT'] ?? '1',
    workspace: env['GITHUB_WORKSPACE'] ?? process.cwd(),
    actor: env['GITHUB_ACTOR'] ?? '',
    workflow: env['GITHUB_WORKFLOW'] ?? '',
    job: env['GITHUB_JOB'] ?? '',
    event
  }
}
