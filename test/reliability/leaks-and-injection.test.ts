/**
 * No secret leaks and no workflow-command injection, through the bundled BUILD-half actions against the local stack
 * and the real Docker engine. Every run also passes the runner harness's sweep (test/helpers/runner.ts): no secret
 * the stack handed out (STS keys and session tokens, ECR passwords and tokens, OIDC tokens) and no masked value may
 * appear in the log, outputs, summary or exported environment. docs/reliability.md summarises it.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, git } from '../helpers/app-workspace.js'
import { EcrImages } from '../helpers/ecr-images.js'
import { runAction, type RunOptions, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(120_000)

let stack: SimStack
let ecr: ECRClient
let images: EcrImages
const LOCAL_IMAGE = `shipline-reliability-leaks:${process.pid}`

/** Hostile text: workflow commands after newlines and at the start, an expression, a stop-commands attempt. */
const HOSTILE = [
  '::set-output name=pwned::PWNED-output',
  '::warning::PWNED-warning',
  '::add-mask::PWNED-mask',
  '::stop-commands::PWNED-stop',
  '${{ secrets.GITHUB_TOKEN }}'
]

/**
 * The workflow commands the runner would execute from `stdout`, honouring `::stop-commands::<token>` … `::<token>::`
 * like the runner does (leading whitespace ignored).
 */
function executedCommands(stdout: string): { name: string; line: string }[] {
  const out: { name: string; line: string }[] = []
  let stopped: string | undefined
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim()
    if (stopped !== undefined) {
      if (line === `::${stopped}::`) stopped = undefined
      continue
    }
    const m = /^::([A-Za-z-]+)(?:\s[^:]*)?::(.*)$/.exec(line)
    if (!m) continue
    const name = m[1] as string
    if (name === 'stop-commands') stopped = m[2]
    out.push({ name, line })
  }
  return out
}

const OUR_COMMANDS = new Set([
  'group',
  'endgroup',
  'debug',
  'add-mask',
  'error',
  'warning',
  'notice',
  'stop-commands'
])

/** No command the runner would execute came from hostile data. */
function expectNoInjection(result: RunResult): void {
  const executed = executedCommands(result.stdout)
  expect(executed.filter((c) => !OUR_COMMANDS.has(c.name))).toEqual([])
  expect(executed.filter((c) => /^::[a-z-]+[^:]*::PWNED/i.test(c.line))).toEqual([])
  expect(executed.filter((c) => c.name === 'stop-commands' && /PWNED/.test(c.line))).toEqual([])
  expect(Object.keys(result.outputs)).not.toContain('pwned')
  // every output went through the delimiter form: a value with newlines cannot add another output
  const raw = readFileSync(join(result.dir, 'output-main'), 'utf8')
  const heads = raw.split('\n').filter((l) => /^[^\s<=]+(<<|=)/.test(l))
  for (const head of heads.filter((l) => !/^ghadelimiter_/.test(l)))
    expect(head).toMatch(/^[a-z0-9-]+<<ghadelimiter_[0-9a-f-]+$/)
}

function act(name: string, inputs: Record<string, string>, extra: RunOptions = {}) {
  return runAction(name, {
    ...extra,
    inputs: { 'role-to-assume': stack.roleArn, ...inputs },
    env: { ...stack.env, ...extra.env },
    workspace: extra.workspace ?? mkdtempSync(join(tmpdir(), 'shipline-reliability-ws-')),
    timeoutMs: extra.timeoutMs ?? 100_000
  })
}

/** Reads every process's argv from /proc every few ms while `run` is pending. */
async function watchArgv<T>(
  run: Promise<T>,
  check: (argv: string) => void
): Promise<{ result: T; samples: number }> {
  let done = false
  let samples = 0
  const watcher = (async () => {
    while (!done) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let argv: string
        try {
          argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
        } catch {
          continue
        }
        if (argv) check(argv)
      }
      samples++
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  try {
    return { result: await run, samples }
  } finally {
    done = true
    await watcher
  }
}

beforeAll(async () => {
  stack = await startStack({ speed: 20 })
  ecr = new ECRClient({ ...stack.clientConfig })
  images = new EcrImages(stack, ecr, LOCAL_IMAGE)
  await images.prepare()
})

afterAll(async () => {
  await images?.dispose()
  ecr?.destroy()
  await stack?.stop()
})

describe('build-tag-push: argv, build output and commit message', () => {
  it('docker login never has the password in its argv (watched in /proc while it runs); a Dockerfile printing workflow commands and a hostile commit message inject nothing', async () => {
    const repository = uniqueName('reliability/leaks')
    const echo = HOSTILE.map((h) => `echo '${h.replace(/'/g, '')}'`).join('; ')
    const ws = appWorkspace({
      dockerfile: `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "${echo.replace(/"/g, '\\"')}"]\nUSER 65532\nENTRYPOINT ["/bin/busybox", "true"]\n`
    })
    git(ws.dir, ['commit', '-q', '--amend', '-m', `fix\n${HOSTILE.join('\n')}\n`])
    const sha = git(ws.dir, ['rev-parse', 'HEAD'])
    // keep docker login's process alive long enough to be seen: the registry answers its ping slowly
    await stack.admin.post('faults', {
      service: 'registry',
      operation: 'registry:ping',
      type: 'latency',
      latencyMs: 1500,
      count: 1
    })
    let sawLogin = false
    const leaks: string[] = []
    const { result } = await watchArgv(
      act('build-tag-push', { repository }, { workspace: ws.dir, env: { GITHUB_SHA: sha } }),
      (argv) => {
        if (/\bdocker\b.*\blogin\b/.test(argv)) sawLogin = true
        if (/\bdocker\b/.test(argv)) {
          for (const secret of stack.knownSecrets())
            if (secret.length >= 8 && argv.includes(secret)) leaks.push(argv.slice(0, 40))
        }
      }
    )
    await stack.admin.delete('faults')
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(sawLogin).toBe(true)
    expect(leaks).toEqual([])
    // the build printed the hostile lines (visible in the log) but the runner would execute none of them
    expect(result.stdout).toContain('::set-output name=pwned::PWNED-output')
    expectNoInjection(result)
    const detail = (
      await ecr.send(
        new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: sha }] })
      )
    ).imageDetails?.[0]
    expect(result.outputs['image-digest']).toBe(detail?.imageDigest)
    await images
      .docker(['rmi', '--force', `${stack.registryHost}/${repository}:${sha}`])
      .catch(() => undefined)
  })

  it('a failing docker login prints no credential and names the registry', async () => {
    const repository = uniqueName('reliability/login-fails')
    const ws = appWorkspace()
    await stack.admin.post('faults', {
      service: 'registry',
      operation: 'registry:ping',
      type: 'error',
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'login refused by the test',
      count: 5
    })
    const result = await act(
      'build-tag-push',
      { repository },
      { workspace: ws.dir, env: { GITHUB_SHA: ws.sha } }
    )
    await stack.admin.delete('faults')
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toMatch(
      new RegExp(`^build-tag-push: docker login to ${stack.registryHost} failed`)
    )
    // the harness sweep (no ECR password or token anywhere) ran inside runAction
    expect(result.secrets.length).toBeGreaterThan(0)
  })
})

describe('AWS errors that echo the request', () => {
  it('an ECR error echoing the signed request (session token) and an STS error echoing the web identity token print neither', async () => {
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeImages',
      type: 'error',
      status: 400,
      code: 'ValidationException',
      message: 'Invalid parameter',
      echoRequest: true,
      count: 1
    })
    const ecrError = await act('scan-gate', { image: `${stack.registryHost}/whatever/app:v1` })
    await stack.admin.post('faults', {
      service: 'sts',
      operation: 'AssumeRoleWithWebIdentity',
      type: 'error',
      status: 400,
      code: 'InvalidIdentityToken',
      message: 'Couldn\u2019t retrieve verification key from your identity provider',
      echoRequest: true,
      count: 1
    })
    const ws = mkdtempSync(join(tmpdir(), 'shipline-reliability-ws-'))
    writeFileSync(
      join(ws, 'task.json'),
      JSON.stringify({ family: 'web', containerDefinitions: [{ name: 'web', image: 'x' }] })
    )
    const stsError = await act(
      'render-task-def',
      {
        'task-definition': 'task.json',
        'container-name': 'web',
        image: `${stack.registryHost}/whatever/app:v1`
      },
      { workspace: ws }
    )
    await stack.admin.delete('faults')
    for (const result of [ecrError, stsError]) {
      expect(result.exitCode).toBe(1)
      expect(result.errors).toHaveLength(1)
    }
    // the echo reached the error message, with the credential replaced
    expect(ecrError.errors[0]).toMatch(/x-amz-security-token/)
    expect(ecrError.errors[0]).toContain('***')
    expect(stsError.errors[0]).toMatch(/WebIdentityToken=\*\*\*/)
  })
})

describe('hostile data from AWS and from inputs', () => {
  it('scan-gate: ECR scan descriptions and findings carrying workflow commands stay inert; the gate still blocks', async () => {
    const repository = uniqueName('reliability/hostile-scan')
    await images.push(repository)
    await stack.admin.post('ecr/scan-scenario', {
      repository,
      scenario: {
        description: `scanning\n${HOSTILE.join('\n')}`,
        scanSeconds: 30,
        findings: [
          {
            id: `CVE-2024-0001\n${HOSTILE[1]}`,
            severity: 'HIGH',
            package: `${HOSTILE[0]}`,
            version: `1.0\n${HOSTILE[2]}`,
            description: HOSTILE.join('\n')
          }
        ]
      }
    })
    const result = await act('scan-gate', {
      image: `${stack.registryHost}/${repository}:v1`,
      'severity-threshold': 'HIGH',
      timeout: '60s'
    })
    expect(result.exitCode).toBe(1)
    expect(result.outputs).toMatchObject({ passed: 'false', high: '1' })
    expect(result.stdout).toContain('::set-output name=pwned::PWNED-output')
    expectNoInjection(result)
  })

  it('render-task-def: env values, labels and a container name with workflow commands, newlines and ${{ }} stay inert and verbatim', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'shipline-reliability-ws-'))
    writeFileSync(
      join(ws, 'task.json'),
      JSON.stringify({
        family: 'web',
        containerDefinitions: [{ name: 'web', image: 'placeholder', essential: true }]
      })
    )
    const digest = `sha256:${'c'.repeat(64)}`
    const result = await act(
      'render-task-def',
      {
        'task-definition': 'task.json',
        'container-name': 'web',
        image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${digest}`,
        'environment-variables': HOSTILE.map((h, i) => `HOSTILE_${i}=${h}`).join('\n'),
        'docker-labels': `note=${HOSTILE[0]}`
      },
      { workspace: ws }
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expectNoInjection(result)
    const rendered = JSON.parse(
      readFileSync(result.outputs['task-definition'] as string, 'utf8')
    ) as {
      containerDefinitions: {
        image: string
        environment?: { name: string; value: string }[]
        dockerLabels?: Record<string, string>
      }[]
    }
    const env = Object.fromEntries(
      (rendered.containerDefinitions[0]?.environment as { name: string; value: string }[]).map(
        (e) => [e.name, e.value]
      )
    )
    HOSTILE.forEach((h, i) => expect(env[`HOSTILE_${i}`]).toBe(h))
    expect(rendered.containerDefinitions[0]?.dockerLabels?.['note']).toBe(HOSTILE[0])

    const badName = await act(
      'render-task-def',
      {
        'task-definition': 'task.json',
        'container-name': `web\n${HOSTILE[0]}\n${HOSTILE[1]}`,
        image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@${digest}`
      },
      { workspace: ws }
    )
    expect(badName.exitCode).toBe(1)
    expect(badName.errors[0]).toMatch(/container-name/)
    expectNoInjection(badName)
  })
})
