import { afterAll, describe, expect, it } from '@jest/globals'
import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient
} from '@aws-sdk/client-sts'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'))
let child: ChildProcess | undefined

afterAll(() => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true })
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('npm run sim (cli.ts)', () => {
  it('prints one JSON line, writes the env file that STS accepts, and exits cleanly on SIGTERM', async () => {
    const envFile = join(dir, 'sim.env')
    const proc = spawn('npx', ['tsx', 'packages/sim/src/cli.ts', '--', '--env-file', envFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    child = proc
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream })
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve)
      proc.once('exit', (code) =>
        reject(new Error(`cli exited ${String(code)} before printing: ${stderr}`))
      )
    })
    const info = JSON.parse(first) as {
      endpoint: string
      registryHost: string
      roleArn: string
      registryPid: number
      pid: number
    }
    expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(info.registryHost).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(alive(info.registryPid)).toBe(true)

    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
    ) as Record<string, string>
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'AWS_ENDPOINT_URL',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'ACTIONS_ID_TOKEN_REQUEST_URL',
        'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
        'SHIPLINE_SIM_ROLE_ARN',
        'SHIPLINE_SIM_REGISTRY',
        'SHIPLINE_SIM_ADMIN_URL'
      ])
    )
    expect(env['AWS_ENDPOINT_URL']).toBe(info.endpoint)
    const sts = new STSClient({
      endpoint: env['AWS_ENDPOINT_URL'],
      region: env['AWS_REGION'],
      credentials: {
        accessKeyId: env['AWS_ACCESS_KEY_ID'] as string,
        secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] as string
      }
    })
    const who = await sts.send(new GetCallerIdentityCommand({}))
    expect(who.Arn).toMatch(/^arn:aws:iam::\d{12}:user\//)
    const tokenRes = await fetch(
      `${env['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience=sts.amazonaws.com`,
      {
        headers: { authorization: `Bearer ${env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}` }
      }
    )
    const { value } = (await tokenRes.json()) as { value: string }
    const assumed = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: env['SHIPLINE_SIM_ROLE_ARN'],
        RoleSessionName: 'cli-test',
        WebIdentityToken: value
      })
    )
    expect(assumed.Credentials?.AccessKeyId).toMatch(/^ASIA/)

    const exited = new Promise<number | null>((resolve) =>
      proc.once('exit', (code) => resolve(code))
    )
    // What a Ctrl-C or `kill -TERM -<pgid>` does: the signal reaches npx, tsx and the CLI (npx alone
    // does not forward it through its `sh -c`). The registry runs in its own group: only stop() ends it.
    process.kill(-(proc.pid as number), 'SIGTERM')
    await exited
    for (let i = 0; i < 50 && (alive(info.registryPid) || alive(info.pid)); i++)
      await new Promise((r) => setTimeout(r, 100))
    expect(alive(info.registryPid)).toBe(false)
    expect(alive(info.pid)).toBe(false)
    expect(stderr).toContain('shipline-sim: SIGTERM, shutting down')
    expect(stderr).not.toMatch(/Error/)
  }, 60_000)
})
