import { describe, expect, it, jest } from '@jest/globals'
import {
  logUntrusted,
  looksLikeCommand,
  withCommandsStopped
} from '../../../packages/action-kit/src/untrusted.js'
import { maskSecret, redactSecrets } from '../../../packages/action-kit/src/masking.js'
import { activeLines } from '../../helpers/runner.js'

async function capture(fn: () => unknown): Promise<string> {
  let out = ''
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      return true
    })
  try {
    await fn()
  } finally {
    spy.mockRestore()
  }
  return out
}

describe('untrusted text', () => {
  it('recognises text the runner would read as a command', () => {
    expect(looksLikeCommand('::set-output name=x::y')).toBe(true)
    expect(looksLikeCommand('ok\n  ::warning::x')).toBe(true)
    expect(looksLikeCommand('a :: b')).toBe(false)
  })

  it('logUntrusted prints plain text as info and wraps command-like text in stop-commands', async () => {
    expect(await capture(() => logUntrusted('plain'))).toBe('plain\n')
    const out = await capture(() => logUntrusted('x\n::set-output name=pwned::1'))
    expect(out).toContain('::set-output name=pwned::1')
    expect(activeLines(out).filter((l: string) => l.startsWith('::set-output'))).toEqual([])
    const token = /^::stop-commands::(.+)$/m.exec(out)?.[1] as string
    expect(token).toMatch(/^shipline-[0-9a-f-]{36}$/)
    expect(out.trimEnd().endsWith(`::${token}::`)).toBe(true)
  })

  it('withCommandsStopped resumes commands even when the body throws', async () => {
    const out = await capture(() =>
      withCommandsStopped(() => {
        process.stdout.write('::add-mask::evil\n')
        return Promise.reject(new Error('boom'))
      }).catch(() => undefined)
    )
    expect(activeLines(out).some((l: string) => l.startsWith('::add-mask::'))).toBe(false)
    expect(activeLines(`${out}::warning::after\n`)).toContain('::warning::after')
  })

  it('redactSecrets replaces every registered secret', async () => {
    await capture(() => maskSecret('s3cr3t-value'))
    expect(redactSecrets('a s3cr3t-value b s3cr3t-value')).toBe('a *** b ***')
    expect(redactSecrets('nothing here')).toBe('nothing here')
  })
})
