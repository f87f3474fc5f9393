import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../helpers/runner.js'

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'btp-dist-'))
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nUSER 65532\n')
  return dir
}

const NO_AWS = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }

describe('bundled build-tag-push', () => {
  it.each([
    [{ repository: 'api', tags: 'v1,no good' }, 'build-tag-push: input "tags": "no good" is not a valid image tag'],
    [{ repository: 'api', tags: 'latest' }, 'build-tag-push: input "tags": contains "latest", which is not allowed by default'],
    [{ repository: 'api', dockerfile: 'missing/Dockerfile' }, 'build-tag-push: input "dockerfile": no Dockerfile at "missing/Dockerfile"'],
    [{ repository: 'api', 'build-args': 'VERSION' }, 'build-tag-push: input "build-args": line 1 "VERSION" is not KEY=VALUE'],
    [{ repository: 'api', 'create-repository': 'yes' }, 'build-tag-push: input "create-repository": expected true or false, got "yes"']
  ])('rejects %j with exit 1 and one error, before any AWS call', async (inputs, message) => {
    const result = await runAction('build-tag-push', { inputs, env: NO_AWS, workspace: workspace() })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]?.startsWith(message)).toBe(true)
    expect(result.outputs).toEqual({})
    expect(result.log).not.toMatch(/\[command\]/)
  })

  it('masks build secrets as soon as they are read, even when a later line is invalid', async () => {
    const result = await runAction('build-tag-push', {
      inputs: { repository: 'api', secrets: 'npm_token=s3cr3t-npm-token-value\nbroken line' },
      env: NO_AWS,
      workspace: workspace()
    })
    expect(result.exitCode).toBe(1)
    expect(result.secrets).toContain('s3cr3t-npm-token-value')
    expect(result.errors[0]).toMatch(/input "secrets": line 2 is not id=value/)
  })

  it('fails clearly outside a GitHub job when the commit SHA is not a git SHA', async () => {
    const result = await runAction('build-tag-push', {
      inputs: { repository: 'api' },
      env: { ...NO_AWS, GITHUB_SHA: 'main' },
      workspace: workspace()
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toMatch(/The commit SHA "main" is not a 40-character git SHA/)
  })

  it('runs a post step that has nothing to clean up', async () => {
    const main = await runAction('build-tag-push', { inputs: { repository: 'api', tags: 'bad tag' }, env: NO_AWS, workspace: workspace() })
    expect(main.state['phase']).toBe('main')
    const post = await runAction('build-tag-push', { postOf: main, env: NO_AWS })
    expect(post.exitCode).toBe(0)
    expect(post.errors).toEqual([])
  })
})
