import * as actionsCore from '@actions/core'
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ours from '../../../packages/action-kit/src/workflow-commands.js'
import { writeSummary } from '../../../packages/action-kit/src/summary.js'

// Every function must write exactly what its @actions/core namesake writes: the runner parses these bytes.
let dir: string
const saved = { ...process.env }

function captureStdout(fn: () => void): string {
  let out = ''
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      return true
    })
  try {
    fn()
  } finally {
    spy.mockRestore()
  }
  return out
}

function bothWrite(call: (impl: typeof ours) => void): [string, string] {
  return [
    captureStdout(() => call(ours)),
    captureStdout(() => call(actionsCore as unknown as typeof ours))
  ]
}

const tricky = ['plain', 'a%b\r\nc', '::set-output name=x::y', 'key: value, other', '', 'ünïcode ✓']

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wfc-'))
  for (const name of ['OUTPUT', 'ENV', 'STATE', 'PATH_FILE', 'SUMMARY'])
    writeFileSync(join(dir, name), '')
})
afterEach(() => {
  process.env = { ...saved }
  process.exitCode = undefined
  rmSync(dir, { recursive: true, force: true })
})

describe('log and annotation commands', () => {
  it.each(tricky)('info, debug, setSecret, groups match @actions/core for %j', (text) => {
    for (const call of [
      (c: typeof ours) => c.info(text),
      (c: typeof ours) => c.debug(text),
      (c: typeof ours) => c.setSecret(text),
      (c: typeof ours) => c.startGroup(text),
      (c: typeof ours) => c.endGroup()
    ]) {
      const [a, b] = bothWrite(call)
      expect(a).toBe(b)
    }
  })

  it.each(tricky)('error, warning, notice with properties match for %j', (text) => {
    const props = { title: `t:${text}`, file: 'a,b.ts', startLine: 3, endLine: 4, startColumn: 1 }
    for (const kind of ['error', 'warning', 'notice'] as const) {
      const [withProps, coreWithProps] = bothWrite((c) => c[kind](text, props))
      expect(withProps).toBe(coreWithProps)
      const [fromError, coreFromError] = bothWrite((c) => c[kind](new Error(text)))
      expect(fromError).toBe(coreFromError)
    }
  })

  it('an ::error:: injected through a value stays inside the message', () => {
    const out = captureStdout(() => ours.error('bad\n::warning::injected'))
    expect(out).toBe('::error::bad%0A::warning::injected\n')
  })

  it('setFailed sets exit code 1 and writes the same error', () => {
    const [a, b] = bothWrite((c) => c.setFailed('it broke'))
    expect(a).toBe(b)
    expect(process.exitCode).toBe(1)
  })

  it('group returns the value and closes the group on a throw', async () => {
    let out = ''
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        out += String(chunk)
        return true
      })
    await expect(ours.group('g', () => Promise.resolve(7))).resolves.toBe(7)
    await expect(ours.group('h', () => Promise.reject(new Error('x')))).rejects.toThrow('x')
    spy.mockRestore()
    expect(out).toBe('::group::g\n::endgroup::\n::group::h\n::endgroup::\n')
  })
})

describe('inputs', () => {
  it.each([
    ['  spaced value  ', undefined],
    ['  spaced value  ', { trimWhitespace: false }],
    ['', undefined]
  ])('getInput(%j, %j) matches', (value, options) => {
    process.env['INPUT_MY_INPUT-NAME'] = value
    expect(ours.getInput('my input-name', options)).toBe(
      actionsCore.getInput('my input-name', options)
    )
  })

  it('required inputs throw the same message', () => {
    delete process.env['INPUT_MISSING']
    expect(() => ours.getInput('missing', { required: true })).toThrow(
      'Input required and not supplied: missing'
    )
  })

  it('multiline and boolean inputs match', () => {
    process.env['INPUT_LIST'] = 'a\n\n  b  \nc'
    expect(ours.getMultilineInput('list')).toEqual(actionsCore.getMultilineInput('list'))
    for (const value of ['true', 'True', 'FALSE']) {
      process.env['INPUT_FLAG'] = value
      expect(ours.getBooleanInput('flag')).toBe(actionsCore.getBooleanInput('flag'))
    }
    process.env['INPUT_FLAG'] = 'yes'
    expect(() => ours.getBooleanInput('flag')).toThrow('Input does not meet YAML 1.2 "Core Schema"')
  })
})

describe('file commands', () => {
  function normalise(text: string): string {
    return text.replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIM')
  }

  it.each(tricky)(
    'setOutput, exportVariable, saveState write the same file lines for %j',
    (value) => {
      process.env['GITHUB_OUTPUT'] = join(dir, 'OUTPUT')
      process.env['GITHUB_ENV'] = join(dir, 'ENV')
      process.env['GITHUB_STATE'] = join(dir, 'STATE')
      const files = ['OUTPUT', 'ENV', 'STATE'].map((f) => join(dir, f))
      ours.setOutput('name', value)
      ours.exportVariable('VAR', value)
      ours.saveState('state', value)
      const mine = files.map((f) => readFileSync(f, 'utf8'))
      for (const f of files) writeFileSync(f, '')
      actionsCore.setOutput('name', value)
      actionsCore.exportVariable('VAR', value)
      actionsCore.saveState('state', value)
      const theirs = files.map((f) => readFileSync(f, 'utf8'))
      expect(mine.map(normalise)).toEqual(theirs.map(normalise))
      expect(normalise(mine[0] ?? '')).toBe(`name<<DELIM\n${value}\nDELIM\n`)
    }
  )

  it('objects are JSON-encoded like @actions/core', () => {
    process.env['GITHUB_OUTPUT'] = join(dir, 'OUTPUT')
    ours.setOutput('o', { a: 1 })
    expect(readFileSync(join(dir, 'OUTPUT'), 'utf8')).toMatch(
      /^o<<ghadelimiter_[\w-]+\n\{"a":1\}\n/
    )
  })

  it('without GITHUB_OUTPUT falls back to the set-output command, as @actions/core does', () => {
    delete process.env['GITHUB_OUTPUT']
    const [a, b] = bothWrite((c) => c.setOutput('n', 'v\nw'))
    expect(a).toBe(b)
  })

  it('a missing command file fails like @actions/core', () => {
    process.env['GITHUB_OUTPUT'] = join(dir, 'nope')
    expect(() => ours.setOutput('n', 'v')).toThrow(`Missing file at path: ${join(dir, 'nope')}`)
  })
})

describe('job summary', () => {
  it('writes the HTML that @actions/core.summary writes for the same section', async () => {
    process.env['GITHUB_STEP_SUMMARY'] = join(dir, 'SUMMARY')
    const section = {
      title: 'deploy <x>',
      rows: [['Image', '`repo@sha256:1`'] as [string, string], ['Empty', '']] as [string, string][],
      tables: [{ caption: 'Events', header: ['When', 'What'], rows: [['1s', 'started']] }],
      markdown: 'done'
    }
    await writeSummary(section)
    const mine = readFileSync(join(dir, 'SUMMARY'), 'utf8')
    actionsCore.summary.emptyBuffer()
    actionsCore.summary
      .addHeading(section.title, 3)
      .addTable([
        [
          { data: 'Field', header: true },
          { data: 'Value', header: true }
        ],
        ['Image', '<code>repo@sha256:1</code>'],
        ['Empty', '&nbsp;']
      ])
      .addRaw('\n**Events**\n', true)
      .addTable([
        [
          { data: 'When', header: true },
          { data: 'What', header: true }
        ],
        ['1s', 'started']
      ])
      .addRaw('done', true)
    expect(mine).toBe(actionsCore.summary.stringify())
    actionsCore.summary.emptyBuffer()
  })
})
