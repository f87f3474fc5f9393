/**
 * Injected faults through the bundled BUILD-half actions (scan-gate, render-task-def, build-tag-push) against the
 * local stack and the real Docker engine. Each scenario asserts its expected outcome: the action keeps working
 * (and the simulator's request log proves the fault really fired), or it fails clearly, naming what failed and the
 * fix. docs/reliability.md summarises them.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace } from '../helpers/app-workspace.js'
import { EcrImages } from '../helpers/ecr-images.js'
import { runAction, type RunOptions, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(120_000)

/** Simulated seconds per real second: a 30 s storm lasts 3 real seconds, a basic scan (10 s) one. */
const SPEED = 10
const STORM_SPEED = 4
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m

let stack: SimStack
let ecr: ECRClient
let images: EcrImages
const LOCAL_IMAGE = `shipline-reliability-faults:${process.pid}`
/** Every ECR operation scan-gate sends (resolving, mode detection, polling, paging, starting a scan). */
const SCAN_GATE_OPERATIONS = [
  'DescribeImages',
  'BatchGetImage',
  'GetRegistryScanningConfiguration',
  'DescribeImageScanFindings',
  'StartImageScan'
]

function since(): number {
  return stack.requestLog().at(-1)?.id ?? 0
}

/** The requests since `from` that the simulator answered with a fault, by operation. */
function faulted(from: number, codes: RegExp): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of stack.requestLog({ sinceId: from })) {
    if (e.errorCode && codes.test(e.errorCode)) out[e.operation] = (out[e.operation] ?? 0) + 1
  }
  return out
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

function expectCleanFailure(result: RunResult, action: string): void {
  expect(result.exitCode).toBe(1)
  expect(result.errors).toHaveLength(1)
  expect(result.errors[0]).toMatch(new RegExp(`^${action}: `))
  expect(result.log).not.toMatch(STACK_TRACE)
}

beforeAll(async () => {
  stack = await startStack({ speed: SPEED })
  ecr = new ECRClient({ ...stack.clientConfig })
  images = new EcrImages(stack, ecr, LOCAL_IMAGE)
  await images.prepare()
})

afterAll(async () => {
  await images?.dispose()
  ecr?.destroy()
  await stack?.stop()
})

describe('scan-gate under faults on every polled operation', () => {
  const MEDIUM = {
    id: 'CVE-2023-5678',
    severity: 'MEDIUM',
    package: 'openssl',
    version: '3.0.11-1'
  }

  /** Pushes an image with one MEDIUM finding, adds the rules (limited to its repository), runs the gate. */
  async function gateUnderFaults(
    rules: (repositoryName: string) => Record<string, unknown>[],
    inputs: Record<string, string> = {}
  ) {
    const repository = uniqueName('reliability/scan')
    const digest = await images.push(repository)
    await stack.admin.post('ecr/scan-scenario', { repository, scenario: { findings: [MEDIUM] } })
    for (const rule of rules(repository)) await stack.admin.post('faults', rule)
    const result = await act('scan-gate', {
      image: `${stack.registryHost}/${repository}:v1`,
      'severity-threshold': 'HIGH',
      timeout: '90s',
      ...inputs
    })
    return { result, digest, repository }
  }

  /** The requests for `repository` that the simulator answered with a fault matching `codes`, by operation. */
  function faultedFor(repository: string, codes: RegExp): Record<string, number> {
    const out: Record<string, number> = {}
    for (const e of stack.requestLog({ service: 'ecr' })) {
      const params = e.params as { repositoryName?: string } | undefined
      if (params?.repositoryName === repository && e.errorCode && codes.test(e.errorCode))
        out[e.operation] = (out[e.operation] ?? 0) + 1
    }
    return out
  }

  function expectGated(result: RunResult, digest: string): void {
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({
      passed: 'true',
      medium: '1',
      high: '0',
      'scan-status': 'COMPLETE',
      digest
    })
  }

  /** The operations of the wait: starting the scan, polling and paging the findings. */
  const POLLED = ['StartImageScan', 'DescribeImageScanFindings']
  /** The one operation without a repository: its rules are shared by both gates of a test. */
  const REGISTRY_WIDE = 'GetRegistryScanningConfiguration'

  function registryWideFaults(from: number, codes: RegExp): number {
    return stack
      .requestLog({ service: 'ecr', operation: REGISTRY_WIDE, sinceId: from })
      .filter((e) => e.errorCode && codes.test(e.errorCode)).length
  }

  it('50 % and 90 % throttling storms for 30 s on the polled operations, 500/503 bursts and connection resets on every operation (four gates at once): all pass with the right counts', async () => {
    // 30 simulated seconds at speed 4: each storm lasts 7.5 real seconds, longer than the SDK's own retries.
    await stack.admin.post('clock/speed', { speed: STORM_SPEED })
    const from = since()
    try {
      for (const rule of [
        { type: 'error', status: 500, count: 1 },
        { type: 'error', status: 503, count: 1 },
        { type: 'reset', count: 2 }
      ]) {
        await stack.admin.post('faults', { service: 'ecr', operation: REGISTRY_WIDE, ...rule })
      }
      const storm = (rate: number) => (repositoryName: string) =>
        POLLED.map((operation) => ({
          service: 'ecr',
          operation,
          match: { repositoryName },
          type: 'throttle',
          rate,
          spread: true,
          forSeconds: 30
        }))
      const burst = (repositoryName: string) =>
        SCAN_GATE_OPERATIONS.flatMap((operation) =>
          [500, 503].map((status) => ({
            service: 'ecr',
            operation,
            match: { repositoryName },
            type: 'error',
            status,
            count: 1
          }))
        )
      const resets = (repositoryName: string) =>
        SCAN_GATE_OPERATIONS.map((operation) => ({
          service: 'ecr',
          operation,
          match: { repositoryName },
          type: 'reset',
          count: 2
        }))
      const [half, most, bursts, reset] = await Promise.all([
        gateUnderFaults(storm(0.5)),
        gateUnderFaults(storm(0.9)),
        gateUnderFaults(burst),
        gateUnderFaults(resets)
      ])
      for (const gate of [half, most, bursts, reset]) expectGated(gate.result, gate.digest)

      const halfThrottled = faultedFor(half.repository, /^ThrottlingException$/)
      const mostThrottled = faultedFor(most.repository, /^ThrottlingException$/)
      expect(halfThrottled['DescribeImageScanFindings'] ?? 0).toBeGreaterThanOrEqual(1)
      expect(halfThrottled['StartImageScan'] ?? 0).toBeGreaterThanOrEqual(1)
      expect(mostThrottled['DescribeImageScanFindings'] ?? 0).toBeGreaterThanOrEqual(3)

      const failed = faultedFor(bursts.repository, /^(InternalFailure|ServiceUnavailable)$/)
      expect(failed['DescribeImages']).toBe(2)
      expect(failed['DescribeImageScanFindings']).toBe(2)
      const closed = faultedFor(reset.repository, /^ConnectionReset$/)
      expect(closed['DescribeImages']).toBe(2)
      expect(closed['DescribeImageScanFindings']).toBe(2)
      expect(
        registryWideFaults(from, /^(InternalFailure|ServiceUnavailable|ConnectionReset)$/)
      ).toBe(4)
    } finally {
      await stack.admin.post('clock/speed', { speed: SPEED })
    }
  })

  it('a persistent 503 on DescribeImageScanFindings ends at the timeout with the last status, not a crash', async () => {
    const { result } = await gateUnderFaults(
      (repositoryName) => [
        {
          service: 'ecr',
          operation: 'DescribeImageScanFindings',
          match: { repositoryName },
          type: 'error',
          status: 503
        }
      ],
      { timeout: '2s', 'max-attempts': '2' }
    )
    expectCleanFailure(result, 'scan-gate')
    expect(result.errors[0]).toMatch(/Timed out after \d+s waiting for the ECR scan/)
    expect(result.errors[0]).toMatch(/"timeout"/)
    expect(result.outputs['passed']).not.toBe('true')
  })
})

describe('authentication faults', () => {
  it('an STS outage at start: retries max-attempts times, then fails naming STS and the fix, calling nothing else', async () => {
    await stack.admin.post('faults', {
      service: 'sts',
      operation: 'AssumeRoleWithWebIdentity',
      type: 'error',
      status: 503
    })
    const from = since()
    const result = await act('scan-gate', {
      image: `${stack.registryHost}/whatever:v1`,
      'max-attempts': '3'
    })
    await stack.admin.delete('faults')
    expectCleanFailure(result, 'scan-gate')
    expect(result.errors[0]).toMatch(/STS/)
    expect(result.errors[0]).toMatch(/re-run|max-attempts/i)
    const calls = stack.requestLog({ sinceId: from })
    expect(calls.filter((c) => c.operation === 'AssumeRoleWithWebIdentity')).toHaveLength(3)
    expect(calls.filter((c) => c.service === 'ecr')).toEqual([])
    expect(result.log).toMatch(/attempt 1 of 3 failed/)
  })

  it('an STS outage that ends: the action retries and succeeds', async () => {
    await stack.admin.post('faults', {
      service: 'sts',
      operation: 'AssumeRoleWithWebIdentity',
      type: 'error',
      status: 503,
      count: 2
    })
    const repository = uniqueName('reliability/sts-blip')
    const digest = await images.push(repository)
    const ws = mkdtempSync(join(tmpdir(), 'shipline-reliability-ws-'))
    writeFileSync(
      join(ws, 'task.json'),
      JSON.stringify({
        family: 'web',
        containerDefinitions: [{ name: 'web', image: 'placeholder', essential: true }]
      })
    )
    const result = await act(
      'render-task-def',
      {
        'task-definition': 'task.json',
        'container-name': 'web',
        image: `${stack.registryHost}/${repository}:v1`
      },
      { workspace: ws }
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const rendered = JSON.parse(
      readFileSync(result.outputs['task-definition'] as string, 'utf8')
    ) as {
      containerDefinitions: { image: string; environment?: { name: string; value: string }[] }[]
    }
    expect(rendered.containerDefinitions[0]?.image).toBe(
      `${stack.registryHost}/${repository}@${digest}`
    )
    expect(result.log).toMatch(/attempt 2 of 5 failed/)
  })
})

describe('render-task-def under faults', () => {
  it('a 90 % throttling storm plus connection resets on DescribeImages: the image is still pinned by digest', async () => {
    const repository = uniqueName('reliability/render')
    const digest = await images.push(repository)
    const ws = mkdtempSync(join(tmpdir(), 'shipline-reliability-ws-'))
    writeFileSync(
      join(ws, 'task.json'),
      JSON.stringify({
        family: 'web',
        containerDefinitions: [{ name: 'web', image: 'placeholder', essential: true }]
      })
    )
    const from = since()
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeImages',
      type: 'reset',
      count: 1
    })
    await stack.admin.post('faults', {
      service: 'ecr',
      operation: 'DescribeImages',
      type: 'throttle',
      rate: 0.9,
      forSeconds: 30
    })
    const result = await act(
      'render-task-def',
      {
        'task-definition': 'task.json',
        'container-name': 'web',
        image: `${stack.registryHost}/${repository}:v1`
      },
      { workspace: ws }
    )
    await stack.admin.delete('faults')
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const rendered = JSON.parse(
      readFileSync(result.outputs['task-definition'] as string, 'utf8')
    ) as {
      containerDefinitions: { image: string; environment?: { name: string; value: string }[] }[]
    }
    expect(rendered.containerDefinitions[0]?.image).toBe(
      `${stack.registryHost}/${repository}@${digest}`
    )
    expect(faulted(from, /ConnectionReset/)['DescribeImages']).toBe(1)
  })
})

describe('build-tag-push under faults', () => {
  /** A checkout whose image has a layer no repository has yet, so docker must upload it. */
  function uniqueWorkspace() {
    const ws = appWorkspace({
      dockerfile:
        'FROM scratch\nCOPY busybox /bin/busybox\nCOPY nonce /nonce\nUSER 65532\nENTRYPOINT ["/bin/busybox", "true"]\n'
    })
    writeFileSync(join(ws.dir, 'nonce'), `${uniqueName('nonce')}\n${'x'.repeat(64 * 1024)}\n`)
    return ws
  }

  function build(repository: string, ws: { dir: string; sha: string }, extra: RunOptions = {}) {
    return act(
      'build-tag-push',
      { repository },
      {
        ...extra,
        workspace: ws.dir,
        env: { GITHUB_SHA: ws.sha, ...extra.env }
      }
    )
  }

  it('the registry cutting a layer upload off mid-body: docker retries the layer and the digest matches ECR; meanwhile SIGTERM while building another image: the main step stops and the post step logs out and deletes the private Docker config', async () => {
    const repository = uniqueName('reliability/mid-layer')
    const ws = uniqueWorkspace()
    const from = since()
    await stack.admin.post('faults', {
      service: 'registry',
      operation: 'registry:blob-upload-part',
      match: { repository },
      type: 'reset',
      afterBytes: 1024,
      count: 1
    })
    const cancelled = uniqueName('reliability/cancel')
    const cancelledWs = uniqueWorkspace()
    const [result, cancel] = await Promise.all([
      build(repository, ws),
      (async () => {
        const started = Date.now()
        const run = await build(cancelled, cancelledWs, {
          signal: { when: /Build with the engine/, signal: 'SIGTERM' }
        })
        return { run, ms: Date.now() - started }
      })()
    ])

    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(faulted(from, /ConnectionReset/)['UploadLayerPart']).toBe(1)
    const detail = (
      await ecr.send(
        new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: ws.sha }] })
      )
    ).imageDetails?.[0]
    expect(detail?.imageDigest).toBe(result.outputs['image-digest'])

    expect(cancel.run.exitCode).not.toBe(0)
    expect(cancel.ms).toBeLessThan(30_000)
    const configDir = cancel.run.state['docker-config'] as string
    expect(configDir).toBeTruthy()
    const config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as {
      auths?: Record<string, unknown>
    }
    expect(Object.keys(config.auths ?? {})).toContain(stack.registryHost)
    const post = await runAction('build-tag-push', { postOf: cancel.run, env: stack.env })
    expect(post.exitCode).toBe(0)
    expect(post.log).toMatch(/Removed the private Docker login/)
    expect(existsSync(configDir)).toBe(false)
    await images
      .docker([
        'rmi',
        '--force',
        `${stack.registryHost}/${repository}:${ws.sha}`,
        `${stack.registryHost}/${cancelled}:${cancelledWs.sha}`
      ])
      .catch(() => undefined)
  })

  it('the ECR token expiring between login and push: fails naming the expired login and the fix; the post step still cleans up', async () => {
    const repository = uniqueName('reliability/expired')
    const ws = uniqueWorkspace()
    let advanced = false
    const result = await build(repository, ws, {
      onOutput: (stdout) => {
        if (!advanced && /Build with the engine/.test(stdout)) {
          advanced = true
          // The registry token (12 h) expires; the STS session, which the action would refresh, is left alone.
          void stack.admin.post('ecr/token-expire-all', {})
        }
      }
    })
    expect(advanced).toBe(true)
    expectCleanFailure(result, 'build-tag-push')
    expect(result.errors[0]).toMatch(/expired/i)
    expect(result.errors[0]).toMatch(/Re-run the job/)
    const configDir = result.state['docker-config'] as string
    expect(existsSync(configDir)).toBe(true)
    const post = await runAction('build-tag-push', { postOf: result, env: stack.env })
    expect(post.exitCode).toBe(0)
    expect(existsSync(configDir)).toBe(false)
    await images
      .docker(['rmi', '--force', `${stack.registryHost}/${repository}:${ws.sha}`])
      .catch(() => undefined)
  })
})
