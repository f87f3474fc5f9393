import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { runAction } from '../helpers/runner.js'

function workspace(allowlist?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scan-gate-dist-'))
  if (allowlist !== undefined) writeFileSync(join(dir, 'allow.yml'), allowlist)
  return dir
}

/** An endpoint nobody listens on: any AWS call would fail with a connection error, not an input error. */
const NO_AWS = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }

describe('bundled scan-gate: bad inputs', () => {
  it.each([
    [{}, 'scan-gate: input "image" is required but was empty'],
    [{ image: 'api' }, 'scan-gate: input "image": "api" has neither a tag nor a digest'],
    [{ image: 'api:v1', 'severity-threshold': 'SEVERE' }, 'scan-gate: input "severity-threshold": expected one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED, NONE, got "SEVERE"'],
    [{ image: 'api:v1', timeout: 'soon' }, 'scan-gate: input "timeout": expected a duration like 90s, 10m or 1h, got "soon"'],
    [{ image: 'api:v1', allowlist: 'allow.yml' }, 'scan-gate: input "allowlist": allow.yml entry 1 (CVE-2024-1) has no "expires"'],
    [{ image: 'api:v1', allowlist: 'missing.yml' }, 'scan-gate: input "allowlist": file "missing.yml" does not exist']
  ])('rejects %j with exit 1 and one error, before any AWS call', async (inputs, message) => {
    const result = await runAction('scan-gate', {
      inputs,
      env: NO_AWS,
      workspace: workspace('- {id: CVE-2024-1, reason: accepted}\n')
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]?.startsWith(message)).toBe(true)
    expect(result.outputs).toEqual({})
    expect(result.log).not.toMatch(/ECONNREFUSED|AWS identity/)
  })

  it('rejects malformed allowlist YAML with the file and position', async () => {
    const result = await runAction('scan-gate', {
      inputs: { image: 'api:v1', allowlist: 'allow.yml' },
      env: NO_AWS,
      workspace: workspace('- id: CVE-1\n  reason: [oops\n')
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toMatch(/^scan-gate: input "allowlist": allow\.yml: invalid YAML at line \d+, column \d+/)
  })
})

describe('bundled scan-gate: AWS through the SDK', () => {
  let stack: SimStack
  beforeAll(async () => {
    stack = await startStack({ registry: false })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('an image in a repository that does not exist fails with the fix, before any wait', async () => {
    const result = await runAction('scan-gate', {
      inputs: { image: 'no-such-repo:v1', 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'] },
      env: stack.env,
      workspace: workspace()
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      'scan-gate: input "image": ECR repository "no-such-repo" does not exist. Check the repository name and "aws-region" (and the account in the registry host).'
    ])
    expect(stack.requestLog({ operation: 'DescribeImageScanFindings' })).toHaveLength(0)
    expect(stack.requestLog({ operation: 'StartImageScan' })).toHaveLength(0)
  })
})
