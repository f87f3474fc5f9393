import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../../helpers/runner.js'

const SHA = '11bd71901bbe5b1630ceea73d27597364c9af683'

function check(yaml: string): { status: number | null; stderr: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'check-pins-'))
  const file = join(dir, 'workflow.yml')
  writeFileSync(file, yaml)
  const result = spawnSync(process.execPath, ['.github/scripts/check-pins.mjs', file], {
    cwd: REPO_ROOT,
    encoding: 'utf8'
  })
  return { status: result.status, stderr: result.stderr, stdout: result.stdout }
}

const workflow = (uses: string): string =>
  `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: ${uses}\n`

describe('check-pins (no unpinned third-party uses:)', () => {
  it.each([
    [`actions/checkout@${SHA} # v4.2.2`],
    [`'actions/checkout@${SHA}' # v4.2.2`],
    ['./.shipline/actions/build-tag-push'],
    [`docker://alpine@sha256:${'a'.repeat(64)}`],
    [`shipline/shipline/actions/deploy-ecs@${SHA} # v1.0.0`]
  ])('accepts %s', (uses) => {
    const result = check(workflow(uses))
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it.each([
    ['actions/checkout@v4', 'ref "v4" is not a full commit SHA'],
    ['actions/checkout@main', 'ref "main" is not a full commit SHA'],
    [`actions/checkout@${SHA}`, 'needs a "# vX.Y.Z" comment'],
    [`actions/checkout@${SHA.slice(0, 12)} # v4.2.2`, 'is not a full commit SHA'],
    ['actions/checkout', 'no ref'],
    ['docker://alpine:3.20', 'not pinned by digest']
  ])('rejects %s', (uses, problem) => {
    const result = check(workflow(uses))
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('workflow.yml:6: uses:')
    expect(result.stderr).toContain(problem)
  })

  it('rejects an unpinned reusable-workflow call', () => {
    const result = check(
      'on: push\njobs:\n  deploy:\n    uses: shipline/shipline/.github/workflows/pipeline.yml@v1\n'
    )
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('workflow.yml:4:')
  })

  it('passes on every workflow, example caller and action.yml of the repository', () => {
    const result = spawnSync(process.execPath, ['.github/scripts/check-pins.mjs'], {
      cwd: REPO_ROOT,
      encoding: 'utf8'
    })
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/pins: \d+ file\(s\), 0 unpinned uses/)
    expect(result.status).toBe(0)
  })
})
