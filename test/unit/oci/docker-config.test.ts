import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  buildxConfigDir,
  createDockerConfigDir,
  dockerLogin,
  jobDockerConfigDir
} from '@shipline/oci'
import type { Exec } from '../../../packages/action-kit/src/index.js'

const AUTH = Buffer.from('ci-user:other-registry-password').toString('base64')

let root: string
let out: string[]
let restore: () => void

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'oci-config-'))
  out = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk))
    return true
  })
  restore = () => spy.mockRestore()
})

afterEach(() => {
  restore()
  rmSync(root, { recursive: true, force: true })
})

function jobConfig(config: unknown, dirs: string[] = []): string {
  const dir = join(root, 'job-docker')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'config.json'),
    typeof config === 'string' ? config : JSON.stringify(config)
  )
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true })
  return dir
}

const readConfig = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>

describe('the job docker config', () => {
  it('is $DOCKER_CONFIG, else ~/.docker; buildx state is $BUILDX_CONFIG, else <config>/buildx', () => {
    expect(jobDockerConfigDir({ DOCKER_CONFIG: '/cfg', HOME: '/home/r' })).toBe('/cfg')
    expect(jobDockerConfigDir({ HOME: '/home/r' })).toBe('/home/r/.docker')
    expect(jobDockerConfigDir({})).toBeUndefined()
    expect(jobDockerConfigDir({ DOCKER_CONFIG: 'rel/cfg' })).toBe(join(process.cwd(), 'rel/cfg'))
    expect(buildxConfigDir({ HOME: '/home/r' })).toBe('/home/r/.docker/buildx')
    expect(buildxConfigDir({ DOCKER_CONFIG: '/cfg' })).toBe('/cfg/buildx')
    expect(buildxConfigDir({ BUILDX_CONFIG: '/bx', DOCKER_CONFIG: '/cfg' })).toBe('/bx')
    expect(buildxConfigDir({})).toBeUndefined()
  })
})

describe('createDockerConfigDir', () => {
  it('creates an empty private config (0700, config 0600) without a job config', () => {
    const dir = createDockerConfigDir(join(root, 'rt'))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o600)
    expect(readConfig(dir)).toEqual({})
  })

  it('inherits auths, credHelpers, credsStore and the current context, links cli-plugins and contexts, masks the logins, prints none', () => {
    const job = jobConfig(
      {
        auths: { '127.0.0.1:5999': { auth: AUTH }, 'ghcr.io': { identitytoken: 'id-token-xyz' } },
        credHelpers: { '123456789012.dkr.ecr.eu-west-1.amazonaws.com': 'ecr-login' },
        credsStore: 'pass',
        currentContext: 'builders',
        psFormat: 'table {{.ID}}',
        proxies: { default: { httpProxy: 'http://proxy:3128' } }
      },
      ['cli-plugins', 'contexts', 'buildx']
    )
    const dir = createDockerConfigDir(join(root, 'rt'), job)
    expect(readConfig(dir)).toEqual({
      auths: { '127.0.0.1:5999': { auth: AUTH }, 'ghcr.io': { identitytoken: 'id-token-xyz' } },
      credHelpers: { '123456789012.dkr.ecr.eu-west-1.amazonaws.com': 'ecr-login' },
      credsStore: 'pass',
      currentContext: 'builders'
    })
    expect(lstatSync(join(dir, 'cli-plugins')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(dir, 'cli-plugins'))).toBe(join(job, 'cli-plugins'))
    expect(readlinkSync(join(dir, 'contexts'))).toBe(join(job, 'contexts'))
    const log = out.join('')
    expect(log).toContain(`::add-mask::${AUTH}`)
    expect(log).toContain('::add-mask::id-token-xyz')
    const unmasked = log
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n')
    expect(unmasked).not.toContain(AUTH)
    expect(unmasked).not.toContain('id-token-xyz')
    expect(unmasked).toContain('logins for 127.0.0.1:5999, ghcr.io')
  })

  it('warns without quoting the file when the job config is not JSON', () => {
    const job = jobConfig('{"auths": {"x": {"auth": "c2VjcmV0LXRleHQ="}} oops')
    const dir = createDockerConfigDir(join(root, 'rt'), job)
    expect(readConfig(dir)).toEqual({})
    const log = out.join('')
    expect(log).toMatch(/::warning::.*config\.json is not readable JSON/)
    expect(log).not.toContain('c2VjcmV0LXRleHQ=')
  })

  it('keeps the ECR login in the private file store when the job uses a credential store or helper', async () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    const job = jobConfig({ credsStore: 'pass', credHelpers: { [registry]: 'ecr-login' } })
    const dir = createDockerConfigDir(join(root, 'rt'), job)
    const exec: Exec = () => Promise.resolve({ exitCode: 0, stdout: '', stderr: '' })
    await dockerLogin(
      { exec, configDir: dir },
      { registry, username: 'AWS', password: 'pw-123456' }
    )
    await dockerLogin(
      { exec, configDir: dir },
      { registry: '127.0.0.1:5000', username: 'AWS', password: 'pw-123456' }
    )
    expect(readConfig(dir)).toEqual({
      credsStore: 'pass',
      credHelpers: {
        [registry]: '',
        [`http://${registry}`]: '',
        [`https://${registry}`]: '',
        '127.0.0.1:5000': '',
        'http://127.0.0.1:5000': '',
        'https://127.0.0.1:5000': ''
      }
    })
    // the job's own config is never written
    expect(readConfig(job)).toEqual({
      credsStore: 'pass',
      credHelpers: { [registry]: 'ecr-login' }
    })
  })

  it('leaves the config alone when logins go to the file store anyway', async () => {
    const dir = createDockerConfigDir(join(root, 'rt'), jobConfig({ auths: {} }))
    const exec: Exec = () => Promise.resolve({ exitCode: 0, stdout: '', stderr: '' })
    await dockerLogin(
      { exec, configDir: dir },
      { registry: 'r', username: 'AWS', password: 'pw-1' }
    )
    expect(readConfig(dir)).toEqual({ auths: {} })
  })
})
