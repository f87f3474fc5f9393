/** The GitHub REST stand-in (pull requests) through plain fetch. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { at } from './kube-helpers.js'

let stack: SimStack
let api: string
let token: string
let dir: string

const call = async (method: string, path: string, body?: unknown, auth: string | null = token) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {})
    },
    body: body ? JSON.stringify(body) : undefined
  })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  stack = await startStack({ registry: false })
  api = stack.env.SHIPLINE_SIM_GITHUB_API_URL!
  token = stack.env.SHIPLINE_SIM_GITHUB_TOKEN!
  dir = mkdtempSync(join(tmpdir(), 'sim-github-'))
  const bare = join(dir, 'gitops.git')
  const work = join(dir, 'work')
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd,
      stdio: 'pipe'
    })
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare])
  execFileSync('git', ['clone', '-q', bare, work], { stdio: 'pipe' })
  git(work, 'commit', '-q', '--allow-empty', '-m', 'init')
  git(work, 'push', '-q', 'origin', 'HEAD:main')
  git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/shipline/prod/web')
  await stack.admin.post('github/repos', { owner: 'org', repo: 'gitops', gitDir: bare })
})
afterAll(async () => {
  await stack?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('GitHub pull requests stand-in', () => {
  it('checks the token', async () => {
    expect((await call('GET', '/repos/org/gitops/pulls', undefined, null)).status).toBe(401)
    const bad = await call('GET', '/repos/org/gitops/pulls', undefined, 'ghs_wrong')
    expect(bad).toMatchObject({ status: 401, body: { message: 'Bad credentials' } })
    const { token: ro } = await stack.admin.post<{ token: string }>('github/tokens', {
      permission: 'read',
      repos: ['org/gitops']
    })
    expect((await call('GET', '/repos/org/gitops/pulls', undefined, ro)).status).toBe(200)
    expect((await call('GET', '/repos/org/other/pulls', undefined, ro)).status).toBe(404)
    const denied = await call(
      'POST',
      '/repos/org/gitops/pulls',
      { title: 't', head: 'shipline/prod/web', base: 'main' },
      ro
    )
    expect(denied).toMatchObject({
      status: 403,
      body: { message: 'Resource not accessible by integration' }
    })
  })

  it('creates, lists by head/state, refuses a duplicate, updates and closes', async () => {
    const created = await call('POST', '/repos/org/gitops/pulls', {
      title: 'Deploy web',
      head: 'shipline/prod/web',
      base: 'main',
      body: 'x'
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      number: 1,
      state: 'open',
      head: { ref: 'shipline/prod/web' },
      base: { ref: 'main' }
    })
    expect(at(created.body, 'html_url')).toMatch(/\/org\/gitops\/pull\/1$/)
    expect(at(created.body, 'head.sha')).toMatch(/^[0-9a-f]{40}$/)
    const dup = await call('POST', '/repos/org/gitops/pulls', {
      title: 'again',
      head: 'shipline/prod/web',
      base: 'main'
    })
    expect(dup.status).toBe(422)
    expect(at(dup.body, 'errors.0.message')).toBe(
      'A pull request already exists for org:shipline/prod/web.'
    )
    const missing = await call('POST', '/repos/org/gitops/pulls', {
      title: 'x',
      head: 'nope',
      base: 'main'
    })
    expect(missing.status).toBe(422)
    const open = await call('GET', '/repos/org/gitops/pulls?head=org:shipline/prod/web&state=open')
    expect((open.body as Array<{ number: number }>).map((p) => p.number)).toEqual([1])
    expect((await call('GET', '/repos/org/gitops/pulls?head=org:other')).body).toEqual([])
    const upd = await call('PATCH', '/repos/org/gitops/pulls/1', {
      title: 'Deploy web v2',
      body: 'new'
    })
    expect(upd.body).toMatchObject({ title: 'Deploy web v2', body: 'new' })
    await call('PATCH', '/repos/org/gitops/pulls/1', { state: 'closed' })
    expect((await call('GET', '/repos/org/gitops/pulls')).body).toEqual([])
    expect((await call('GET', '/repos/org/gitops/pulls?state=closed')).body).toHaveLength(1)
    const log = stack.requestLog({ service: 'github' })
    expect(log.map((e) => e.operation)).toEqual(
      expect.arrayContaining(['CreatePull', 'ListPulls', 'UpdatePull'])
    )
  })
})
