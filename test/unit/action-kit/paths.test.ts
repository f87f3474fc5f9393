import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveOutputPathInput, resolvePathInput } from '../../../packages/action-kit/src/paths.js'

function roots(): { ws: string; temp: string; outside: string; env: NodeJS.ProcessEnv } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'paths-')))
  const ws = join(base, 'ws')
  const temp = join(base, 'temp')
  const outside = join(base, 'outside')
  for (const dir of [ws, temp, outside]) mkdirSync(dir)
  writeFileSync(join(outside, 'secret.json'), '{}')
  return { ws, temp, outside, env: { GITHUB_WORKSPACE: ws, RUNNER_TEMP: temp } }
}

describe('resolveOutputPathInput', () => {
  it('resolves a new file or folder inside the workspace or RUNNER_TEMP', () => {
    const { ws, temp, env } = roots()
    expect(resolveOutputPathInput('report-file', 'out/deep/report.json', env)).toBe(
      join(ws, 'out/deep/report.json')
    )
    expect(resolveOutputPathInput('sarif-file', join(temp, 'scan.sarif'), env)).toBe(
      join(temp, 'scan.sarif')
    )
  })

  it.each([
    ['an absolute path outside', (o: string) => join(o, 'report.json')],
    ['a path climbing out with ..', () => '../outside/report.json']
  ])('refuses %s, naming the input', (_label, value) => {
    const { outside, env } = roots()
    expect(() => resolveOutputPathInput('report-file', value(outside), env)).toThrow(
      /^input "report-file": .* outside the workspace and RUNNER_TEMP/
    )
  })

  it('refuses a symlinked folder leading out of the workspace, and a dangling symlink', () => {
    const { ws, outside, env } = roots()
    symlinkSync(outside, join(ws, 'link'))
    expect(() => resolveOutputPathInput('codepipeline-artifacts', 'link/sub', env)).toThrow(
      /^input "codepipeline-artifacts": "link\/sub" resolves to .*outside\/sub, outside/
    )
    symlinkSync(join(outside, 'missing', 'x.json'), join(ws, 'dangling.json'))
    expect(() => resolveOutputPathInput('report-file', 'dangling.json', env)).toThrow(
      /^input "report-file": .* a symlink whose target does not exist/
    )
  })
})

describe('resolvePathInput', () => {
  it('refuses a symlinked file leading out of the workspace', () => {
    const { ws, outside, env } = roots()
    symlinkSync(join(outside, 'secret.json'), join(ws, 'td.json'))
    expect(() => resolvePathInput('task-definition', 'td.json', 'file', env)).toThrow(
      /^input "task-definition": "td\.json" resolves to .*outside\/secret\.json, outside/
    )
  })
})
