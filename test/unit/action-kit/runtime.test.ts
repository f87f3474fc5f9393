import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ActionError,
  errorMessage,
  escapeHtml,
  execCommand,
  maskSecret,
  runAction,
  writeSummary
} from '@shipline/action-kit'
import { assertNoLeakedSecrets, parseFileCommands } from '../../helpers/runner.js'

let written: string[] = []
// @actions/core caches the summary path from its first write, so every summary test shares one file.
const SUMMARY_FILE = join(mkdtempSync(join(tmpdir(), 'kit-summary-')), 'summary')

beforeEach(() => {
  written = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  process.exitCode = undefined
  delete process.env['SHIPLINE_DEBUG']
  delete process.env['GITHUB_STEP_SUMMARY']
  delete process.env['SHIPLINE_SUMMARY']
})

describe('runAction', () => {
  it('prefixes the failure with the action name and shows no stack for expected errors', async () => {
    await runAction('deploy-ecs', () =>
      Promise.reject(new ActionError('service "api" not found', 'Create it first.'))
    )
    const log = written.join('')
    expect(log).toContain('::error::deploy-ecs: service "api" not found. Create it first.\n')
    expect(log).not.toContain('at ')
    expect(process.exitCode).toBe(1)
  })

  it('sends the stack of unexpected errors to debug only, and to the log under SHIPLINE_DEBUG', async () => {
    await runAction('scan-gate', () => Promise.reject(new TypeError('boom')))
    expect(written.join('')).toMatch(/::error::scan-gate: boom\n/)
    expect(written.join('')).toMatch(/::debug::TypeError: boom%0A\s+at /)
    written = []
    process.env['SHIPLINE_DEBUG'] = 'true'
    await runAction('scan-gate', () => Promise.reject(new TypeError('boom')))
    expect(written.join('')).toMatch(/^TypeError: boom\n\s+at /m)
  })

  it('never prints [object Object]', () => {
    expect(errorMessage({ message: 'x' })).toBe('x')
    expect(errorMessage({ code: 1 })).toBe('{"code":1}')
    expect(errorMessage(new Error('plain'))).toBe('plain')
  })
})

describe('writeSummary', () => {
  it('writes a heading and a table, and nothing when SHIPLINE_SUMMARY=false', async () => {
    const file = SUMMARY_FILE
    writeFileSync(file, '')
    process.env['GITHUB_STEP_SUMMARY'] = file
    await writeSummary({ title: 'Deployed', rows: [['Service', 'api']] })
    expect(readFileSync(file, 'utf8')).toMatch(
      /<h3>Deployed<\/h3>[\s\S]*<td>Service<\/td><td>api<\/td>/
    )
    writeFileSync(file, '')
    process.env['SHIPLINE_SUMMARY'] = 'false'
    await writeSummary({ title: 'Deployed', rows: [['Service', 'api']] })
    expect(readFileSync(file, 'utf8')).toBe('')
  })
})

describe('execCommand', () => {
  it('passes secrets through stdin and refuses them in argv', async () => {
    maskSecret('s3cr3t-password-value')
    expect(written.join('')).toContain('::add-mask::s3cr3t-password-value')
    const result = await execCommand('sh', ['-c', 'read line; echo "got ${#line} chars"'], {
      stdin: 's3cr3t-password-value\n',
      silent: true
    })
    expect(result).toEqual({ exitCode: 0, stdout: 'got 21 chars\n', stderr: '' })
    await expect(execCommand('echo', ['--password', 's3cr3t-password-value'])).rejects.toThrow(
      /secret would be passed on its command line/
    )
  })

  it('returns non-zero exit codes instead of throwing', async () => {
    const result = await execCommand('sh', ['-c', 'echo oops >&2; exit 3'], { silent: true })
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toBe('oops\n')
  })
})

describe('runner harness', () => {
  it('parses heredoc and plain file commands', () => {
    expect(parseFileCommands('a<<EOF_1\nline1\nline2\nEOF_1\nb=plain\n')).toEqual({
      a: 'line1\nline2',
      b: 'plain'
    })
  })

  it('detects a masked value leaking into outputs, summary or log', () => {
    const base = {
      secrets: ['hunter2-long'],
      stdout: '::add-mask::hunter2-long\nok\n',
      stderr: '',
      outputs: {},
      summary: '',
      exportedEnv: {}
    }
    expect(() => assertNoLeakedSecrets(base)).not.toThrow()
    expect(() => assertNoLeakedSecrets({ ...base, outputs: { token: 'hunter2-long' } })).toThrow(
      /leaked into the outputs/
    )
    expect(() => assertNoLeakedSecrets({ ...base, summary: 'x hunter2-long' })).toThrow(/summary/)
    expect(() =>
      assertNoLeakedSecrets({ ...base, stdout: `${base.stdout}password hunter2-long\n` })
    ).toThrow(/log/)
  })
})

describe('summary cells', () => {
  it('renders code spans as <code> (GitHub renders no markdown inside HTML cells) and never leaves a cell empty', async () => {
    const file = SUMMARY_FILE
    writeFileSync(file, '')
    process.env['GITHUB_STEP_SUMMARY'] = file
    await writeSummary({
      title: 'Tags',
      rows: [
        ['Tags', '`v1` `abc1234`'],
        ['Note', '']
      ]
    })
    const html = readFileSync(file, 'utf8')
    expect(html).toContain('<td>Tags</td><td><code>v1</code> <code>abc1234</code></td>')
    expect(html).toContain('<td>Note</td><td>&nbsp;</td>')
    expect(escapeHtml('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;')
  })
})
