import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Exec } from '../../../packages/action-kit/src/index.js'
import { imageUserIsRoot, uidFromPasswd } from '@shipline/oci'

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  '# comment',
  'app:x:0:0::/app:/bin/sh',
  'web:x:10001:10001::/web:/bin/sh',
  'app:x:10002:10002::/dup:/bin/sh',
  'odd:x:notanumber:0::/:/bin/sh'
].join('\n')

describe('uidFromPasswd', () => {
  it.each([
    ['app', 0],
    ['web', 10001],
    ['root', 0],
    ['ghost', undefined],
    ['odd', undefined]
  ])('%s → %s', (name, uid) => {
    expect(uidFromPasswd(PASSWD, name)).toBe(uid)
  })
})

/** A docker that has one image whose /etc/passwd is `passwd` (undefined: no such file). */
function fakeDocker(passwd: string | undefined): { exec: Exec; calls: string[][] } {
  const calls: string[][] = []
  const exec: Exec = (_command, args) => {
    calls.push(args)
    if (args[0] === 'create')
      return Promise.resolve({ exitCode: 0, stdout: `${'c'.repeat(64)}\n`, stderr: '' })
    if (args[0] === 'cp') {
      if (passwd === undefined)
        return Promise.resolve({
          exitCode: 1,
          stdout: '',
          stderr: `Error response from daemon: Could not find the file /etc/passwd in container ${'c'.repeat(64)}`
        })
      writeFileSync(args[3] as string, passwd)
    }
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' })
  }
  return { exec, calls }
}

describe('imageUserIsRoot', () => {
  const tempDir = mkdtempSync(join(tmpdir(), 'user-'))
  const options = (user: string) => ({ image: 'r/app:1', user, where: 'The image', tempDir })

  it.each([
    ['', true],
    ['root', true],
    ['0:0', true],
    ['65532:65532', false]
  ])('decides %j without reading the image', async (user, root) => {
    const { exec, calls } = fakeDocker(PASSWD)
    expect(await imageUserIsRoot({ exec, configDir: '/c' }, options(user))).toEqual({ root })
    expect(calls).toEqual([])
  })

  it('resolves a named user through the image /etc/passwd: UID 0 is root', async () => {
    const { exec, calls } = fakeDocker(PASSWD)
    expect(await imageUserIsRoot({ exec, configDir: '/c' }, options('app:app'))).toEqual({
      root: true,
      uid: 0
    })
    expect(await imageUserIsRoot({ exec, configDir: '/c' }, options('web'))).toEqual({
      root: false,
      uid: 10001
    })
    expect(calls[0]?.slice(0, 1)).toEqual(['create'])
    expect(calls[0]?.at(-1)).toBe('r/app:1')
    expect(calls[1]?.slice(0, 3)).toEqual(['cp', '--follow-link', `${'c'.repeat(64)}:/etc/passwd`])
    expect(calls[2]).toEqual(['rm', '--force', 'c'.repeat(64)])
  })

  it('fails closed when the image has no /etc/passwd or not the user, and still removes the container', async () => {
    const none = fakeDocker(undefined)
    await expect(
      imageUserIsRoot({ exec: none.exec, configDir: '/c' }, options('app'))
    ).rejects.toThrow(
      /The image has the config User "app", a name, but no \/etc\/passwd to resolve it.*Use a numeric UID/
    )
    expect(none.calls.at(-1)?.[0]).toBe('rm')
    const other = fakeDocker('root:x:0:0::/:/bin/sh\n')
    await expect(
      imageUserIsRoot({ exec: other.exec, configDir: '/c' }, options('ghost'))
    ).rejects.toThrow(/"ghost" is not in the image's \/etc\/passwd/)
  })

  it('passes the platform of an index image to docker create', async () => {
    const { exec, calls } = fakeDocker(PASSWD)
    await imageUserIsRoot({ exec, configDir: '/c' }, { ...options('web'), platform: 'linux/arm64' })
    expect(calls[0]).toContain('--platform')
    expect(calls[0]).toContain('linux/arm64')
  })
})
