/**
 * A minimal GitHub REST stand-in on the simulator's server (`<endpoint>/api/v3`, the GitHub Enterprise
 * Server path layout, so `GITHUB_API_URL` / Octokit `baseUrl` point at it): pull requests only — list
 * (state/head/base filters, paging), create, get, update. Token-checked; every request is logged
 * (`service: github`).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, type SimServer } from './core/server.js'
import { AwsError } from './core/types.js'

interface Token {
  token: string
  /** owner/repo patterns this token may see (undefined = all) */
  repos?: string[]
  /** pull-requests permission */
  permission: 'read' | 'write'
  login: string
}

interface RepoInfo {
  owner: string
  repo: string
  /** a bare repository whose branches decide whether head/base exist (optional) */
  gitDir?: string
  defaultBranch: string
}

interface Pull {
  number: number
  id: number
  owner: string
  repo: string
  title: string
  body: string | null
  state: 'open' | 'closed'
  draft: boolean
  head: string
  headOwner: string
  base: string
  user: string
  createdAt: string
  updatedAt: string
  closedAt: string | null
}

export interface GitHubSim {
  apiUrl: string
  defaultToken: string
  pulls: Pull[]
}

const DOCS = 'https://docs.github.com/rest/pulls/pulls'

export function mountGitHub(server: SimServer): GitHubSim {
  const defaultToken = `ghs_sim${randomBytes(16).toString('hex')}`
  const tokens = new Map<string, Token>([
    [defaultToken, { token: defaultToken, permission: 'write', login: 'github-actions[bot]' }]
  ])
  const repos = new Map<string, RepoInfo>()
  const pulls: Pull[] = []
  let nextId = 1000
  const sim: GitHubSim = { apiUrl: `${server.url}/api/v3`, defaultToken, pulls }

  const now = (): string => new Date(server.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const base = (): string => `${server.url}/api/v3`
  const html = (): string => `${server.url}/github`

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase()
    })
    res.end(text)
  }

  const branchSha = (info: RepoInfo | undefined, branch: string): string | undefined | null => {
    if (!info?.gitDir) return null // unknown: every branch exists
    const r = spawnSync(
      'git',
      ['--git-dir', info.gitDir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`],
      { encoding: 'utf8' }
    )
    return r.status === 0 ? r.stdout.trim() : undefined
  }

  const repoJson = (owner: string, repo: string): Record<string, unknown> => ({
    id: 1,
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: { login: owner, type: 'Organization' },
    private: true,
    html_url: `${html()}/${owner}/${repo}`,
    url: `${base()}/repos/${owner}/${repo}`,
    default_branch: repos.get(`${owner}/${repo}`)?.defaultBranch ?? 'main'
  })

  const pullJson = (p: Pull): Record<string, unknown> => {
    const info = repos.get(`${p.owner}/${p.repo}`)
    const sha = (b: string): string =>
      branchSha(info, b) ?? '0000000000000000000000000000000000000000'
    return {
      url: `${base()}/repos/${p.owner}/${p.repo}/pulls/${p.number}`,
      id: p.id,
      node_id: `PR_sim${p.id}`,
      html_url: `${html()}/${p.owner}/${p.repo}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: { login: p.user, type: 'Bot' },
      body: p.body,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      closed_at: p.closedAt,
      merged_at: null,
      draft: p.draft,
      merged: false,
      mergeable: null,
      head: {
        label: `${p.headOwner}:${p.head}`,
        ref: p.head,
        sha: sha(p.head),
        user: { login: p.headOwner },
        repo: repoJson(p.owner, p.repo)
      },
      base: {
        label: `${p.owner}:${p.base}`,
        ref: p.base,
        sha: sha(p.base),
        user: { login: p.owner },
        repo: repoJson(p.owner, p.repo)
      }
    }
  }

  const fail = (
    status: number,
    message: string,
    extra: Record<string, unknown> = {}
  ): { status: number; body: unknown } => ({
    status,
    body: { message, documentation_url: DOCS, status: String(status), ...extra }
  })

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const started = Date.now()
    const method = (req.method ?? 'GET').toUpperCase()
    const path = url.pathname.slice('/api/v3'.length) || '/'
    let operation = `${method} ${path}`
    let out: { status: number; body: unknown }
    let login: string | undefined
    try {
      const raw = await readBody(req)
      const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {}
      const m = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?\/?$/.exec(path)
      const auth = String(req.headers.authorization ?? '')
      const tm = /^(?:token|bearer)\s+(\S+)$/i.exec(auth)
      const token = tm ? tokens.get(tm[1] as string) : undefined
      if (m)
        operation =
          method === 'GET'
            ? m[3]
              ? 'GetPull'
              : 'ListPulls'
            : method === 'POST'
              ? 'CreatePull'
              : method === 'PATCH'
                ? 'UpdatePull'
                : operation
      if (!tm) out = fail(401, 'Requires authentication')
      else if (!token) out = fail(401, 'Bad credentials')
      else if (!m) out = fail(404, 'Not Found')
      else {
        login = token.login
        const owner = m[1] as string
        const repo = m[2] as string
        const full = `${owner}/${repo}`
        const visible =
          !token.repos ||
          token.repos.some(
            (r) => r === full || (r.endsWith('/*') && full.startsWith(r.slice(0, -1)))
          )
        const info = repos.get(full)
        if (!visible) out = fail(404, 'Not Found')
        else if (operation === 'ListPulls') {
          const state = url.searchParams.get('state') ?? 'open'
          const head = url.searchParams.get('head')
          const baseRef = url.searchParams.get('base')
          const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30)
          const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
          const list = pulls
            .filter((p) => p.owner === owner && p.repo === repo)
            .filter((p) => state === 'all' || p.state === state)
            .filter(
              (p) =>
                !head ||
                (head.includes(':') ? `${p.headOwner}:${p.head}` === head : p.head === head)
            )
            .filter((p) => !baseRef || p.base === baseRef)
            .sort((a, b) => b.number - a.number)
          out = {
            status: 200,
            body: list.slice((page - 1) * perPage, page * perPage).map(pullJson)
          }
        } else if (operation === 'GetPull') {
          const p = pulls.find(
            (x) => x.owner === owner && x.repo === repo && x.number === Number(m[3])
          )
          out = p ? { status: 200, body: pullJson(p) } : fail(404, 'Not Found')
        } else if (token.permission !== 'write')
          out = fail(403, 'Resource not accessible by integration')
        else if (operation === 'CreatePull') {
          const title = body.title
          const headRaw = body.head
          const baseRef = body.base
          const errors: Record<string, unknown>[] = []
          if (typeof headRaw !== 'string' || !headRaw)
            errors.push({ resource: 'PullRequest', field: 'head', code: 'missing_field' })
          if (typeof baseRef !== 'string' || !baseRef)
            errors.push({ resource: 'PullRequest', field: 'base', code: 'missing_field' })
          if ((typeof title !== 'string' || !title) && body.issue === undefined)
            errors.push({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
          const headOwner =
            typeof headRaw === 'string' && headRaw.includes(':')
              ? (headRaw.split(':')[0] as string)
              : owner
          const head =
            typeof headRaw === 'string'
              ? headRaw.includes(':')
                ? headRaw.split(':').slice(1).join(':')
                : headRaw
              : ''
          if (errors.length === 0) {
            if (branchSha(info, head) === undefined)
              errors.push({ resource: 'PullRequest', field: 'head', code: 'invalid' })
            if (branchSha(info, String(baseRef)) === undefined)
              errors.push({ resource: 'PullRequest', field: 'base', code: 'invalid' })
          }
          if (errors.length === 0 && head === baseRef && headOwner === owner)
            errors.push({
              resource: 'PullRequest',
              code: 'custom',
              message: `No commits between ${String(baseRef)} and ${head}`
            })
          if (
            errors.length === 0 &&
            pulls.some(
              (p) =>
                p.owner === owner &&
                p.repo === repo &&
                p.state === 'open' &&
                p.head === head &&
                p.headOwner === headOwner &&
                p.base === baseRef
            )
          )
            errors.push({
              resource: 'PullRequest',
              code: 'custom',
              message: `A pull request already exists for ${headOwner}:${head}.`
            })
          if (errors.length) out = fail(422, 'Validation Failed', { errors })
          else {
            const p: Pull = {
              number: pulls.filter((x) => x.owner === owner && x.repo === repo).length + 1,
              id: nextId++,
              owner,
              repo,
              title: String(title),
              body: typeof body.body === 'string' ? body.body : null,
              state: 'open',
              draft: body.draft === true,
              head,
              headOwner,
              base: String(baseRef),
              user: token.login,
              createdAt: now(),
              updatedAt: now(),
              closedAt: null
            }
            pulls.push(p)
            out = { status: 201, body: pullJson(p) }
          }
        } else if (operation === 'UpdatePull') {
          const p = pulls.find(
            (x) => x.owner === owner && x.repo === repo && x.number === Number(m[3])
          )
          if (!p) out = fail(404, 'Not Found')
          else if (body.state !== undefined && body.state !== 'open' && body.state !== 'closed')
            out = fail(422, 'Validation Failed', {
              errors: [{ resource: 'PullRequest', field: 'state', code: 'invalid' }]
            })
          else {
            if (typeof body.title === 'string') p.title = body.title
            if (typeof body.body === 'string' || body.body === null) p.body = body.body
            if (typeof body.base === 'string') p.base = body.base
            if (body.state === 'closed' && p.state === 'open') {
              p.state = 'closed'
              p.closedAt = now()
            } else if (body.state === 'open') {
              p.state = 'open'
              p.closedAt = null
            }
            p.updatedAt = now()
            out = { status: 200, body: pullJson(p) }
          }
        } else out = fail(404, 'Not Found')
      }
    } catch (err) {
      out = fail(400, `Problems parsing JSON: ${err instanceof Error ? err.message : String(err)}`)
    }
    server.record({
      service: 'github',
      operation,
      kind: 'github',
      callerArn: login,
      params: { path, query: url.search || undefined },
      status: out.status,
      errorCode:
        out.status >= 400 ? String((out.body as Record<string, unknown>).message) : undefined,
      durationMs: Date.now() - started,
      method,
      path: url.pathname
    })
    send(res, out.status, out.body)
  }
  server.addRawRoute('/api/v3/', route)

  server.addAdmin('github/tokens', (body) => {
    const token =
      typeof body.token === 'string' ? body.token : `ghs_sim${randomBytes(16).toString('hex')}`
    const permission = body.permission === 'read' ? 'read' : 'write'
    tokens.set(token, {
      token,
      permission,
      repos: Array.isArray(body.repos) ? (body.repos as string[]) : undefined,
      login: typeof body.login === 'string' ? body.login : 'github-actions[bot]'
    })
    return { token, permission }
  })
  server.addAdmin('github/repos', (body) => {
    if (typeof body.owner !== 'string' || typeof body.repo !== 'string')
      throw new AwsError('ValidationException', 'owner and repo are required')
    repos.set(`${body.owner}/${body.repo}`, {
      owner: body.owner,
      repo: body.repo,
      gitDir: typeof body.gitDir === 'string' ? body.gitDir : undefined,
      defaultBranch: typeof body.defaultBranch === 'string' ? body.defaultBranch : 'main'
    })
    return { ok: true }
  })
  server.addAdmin('github/pulls', (_b, q) => {
    const repo = q.get('repo')
    return pulls.filter((p) => !repo || `${p.owner}/${p.repo}` === repo).map(pullJson)
  })
  return sim
}
