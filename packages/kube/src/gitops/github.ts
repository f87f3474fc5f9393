import { ActionError, httpFetch } from '@shipline/action-kit'

/** The GitHub REST calls PR mode needs (list, create, update pull requests). */
export interface PullRequestApi {
  findOpen(base: string, head: string): Promise<{ number: number; url: string } | undefined>
  create(input: {
    base: string
    head: string
    title: string
    body: string
  }): Promise<{ number: number; url: string }>
  update(
    number: number,
    input: { title: string; body: string }
  ): Promise<{ number: number; url: string }>
}

export interface GitHubRepo {
  owner: string
  name: string
}

/** A client of the GitHub REST API (GITHUB_API_URL; a GitHub App or PAT token). */
export function githubPullRequestApi(
  repo: GitHubRepo,
  token: string,
  apiUrl = process.env['GITHUB_API_URL'] || 'https://api.github.com'
): PullRequestApi {
  const base = `${apiUrl.replace(/\/$/, '')}/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await httpFetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'shipline-deploy-eks-manifest',
        ...(body ? { 'content-type': 'application/json' } : {})
      },
      ...(body ? { body: JSON.stringify(body) } : {})
    })
    const text = await response.text()
    if (!response.ok) {
      let message = text
      try {
        const parsed = (JSON.parse(text) as { message?: unknown }).message
        if (typeof parsed === 'string') message = parsed
      } catch {
        // not JSON
      }
      throw new ActionError(
        `GitHub API ${method} /repos/${repo.owner}/${repo.name}${path.split('?')[0] ?? ''} failed (HTTP ${response.status}): ${message}`,
        response.status === 401 || response.status === 403 || response.status === 404
          ? 'Give "gitops-token" pull-requests: write and contents: write on the GitOps repository (a GitHub App token or fine-grained PAT; GITHUB_TOKEN cannot write to another repository).'
          : 'Re-run the job; if it persists, check the GitHub status page.'
      )
    }
    return text ? (JSON.parse(text) as unknown) : undefined
  }
  const pr = (value: unknown) => {
    const v = value as { number: number; html_url: string }
    return { number: v.number, url: v.html_url }
  }
  return {
    async findOpen(baseBranch, head) {
      const list = (await call(
        'GET',
        `/pulls?state=open&base=${encodeURIComponent(baseBranch)}&head=${encodeURIComponent(`${repo.owner}:${head}`)}&per_page=100`
      )) as unknown[]
      const found = Array.isArray(list) ? list[0] : undefined
      return found ? pr(found) : undefined
    },
    async create(input) {
      return pr(await call('POST', '/pulls', input))
    },
    async update(number, input) {
      return pr(await call('PATCH', `/pulls/${number}`, input))
    }
  }
}
