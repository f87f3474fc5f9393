import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../../helpers/runner.js'

const SCRIPT = join(REPO_ROOT, '.github/scripts/action-docs.mjs')
const docs = (root: string, ...args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, [SCRIPT, '--root', root, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8'
  })

/** A checkout reduced to scan-gate: its action.yml and its page. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), 'action-docs-'))
  mkdirSync(join(root, 'actions/scan-gate'), { recursive: true })
  mkdirSync(join(root, 'docs/actions'), { recursive: true })
  cpSync(
    join(REPO_ROOT, 'actions/scan-gate/action.yml'),
    join(root, 'actions/scan-gate/action.yml')
  )
  cpSync(join(REPO_ROOT, 'docs/actions/scan-gate.md'), join(root, 'docs/actions/scan-gate.md'))
  cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json')) // the Prettier settings
  return root
}

describe('action docs (inputs/outputs generated from action.yml)', () => {
  it('every page of the repository is current', () => {
    const result = docs(REPO_ROOT, '--check')
    expect(result.stderr).not.toMatch(/stale|no generated/)
    expect(result.stdout).toMatch(/, 0 stale page\(s\)/)
    expect(result.status).toBe(0)
  })

  it('fails when action.yml changes, and regenerating keeps the hand-written parts', () => {
    const root = checkout()
    expect(docs(root, '--check').status).toBe(0)
    const yml = join(root, 'actions/scan-gate/action.yml')
    writeFileSync(
      yml,
      readFileSync(yml, 'utf8').replace(
        'outputs:\n',
        "  new-input:\n    description: 'A new input.'\n    required: false\n    default: 'x'\noutputs:\n"
      )
    )
    const stale = docs(root, '--check')
    expect(stale.status).toBe(1)
    expect(stale.stderr).toContain(
      'docs/actions/scan-gate.md: the inputs/outputs reference is stale'
    )

    const page = join(root, 'docs/actions/scan-gate.md')
    const before = readFileSync(page, 'utf8')
    expect(docs(root).status).toBe(0)
    const after = readFileSync(page, 'utf8')
    expect(after).toMatch(/\| `new-input` +\| no +\| `x` +\| A new input\. +\|/)
    const handWritten = (text: string): string => text.slice(0, text.indexOf('<!-- action-docs'))
    expect(handWritten(after)).toBe(handWritten(before))
    expect(docs(root, '--check').status).toBe(0)
  })

  it('fails for a page without the generated part, and adds it at the end', () => {
    const root = checkout()
    const page = join(root, 'docs/actions/scan-gate.md')
    const text = readFileSync(page, 'utf8')
    writeFileSync(page, text.slice(0, text.indexOf('<!-- action-docs')))
    const missing = docs(root, '--check')
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('no generated inputs/outputs reference')
    expect(docs(root).status).toBe(0)
    expect(readFileSync(page, 'utf8')).toBe(text)
  })

  it('fails when an IAM policy in docs/iam differs from the one shown in docs/aws-setup.md', () => {
    const root = checkout()
    mkdirSync(join(root, 'docs/iam'), { recursive: true })
    cpSync(join(REPO_ROOT, 'docs/iam'), join(root, 'docs/iam'), { recursive: true })
    cpSync(join(REPO_ROOT, 'docs/aws-setup.md'), join(root, 'docs/aws-setup.md'))
    expect(docs(root, '--check').status).toBe(0)
    const policy = join(root, 'docs/iam/deploy-ecs.json')
    writeFileSync(policy, readFileSync(policy, 'utf8').replace('"ecs:UpdateService",', ''))
    const stale = docs(root, '--check')
    expect(stale.status).toBe(1)
    expect(stale.stderr).toContain('docs/aws-setup.md: the IAM policies differ')
    expect(docs(root).status).toBe(0)
    const setup = readFileSync(join(root, 'docs/aws-setup.md'), 'utf8')
    expect(setup).toContain('"ecs:DescribeServices",')
    expect(setup).not.toContain('"ecs:UpdateService"')
  })
})
