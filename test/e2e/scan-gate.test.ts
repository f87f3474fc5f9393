/**
 * scan-gate end to end: the bundled action against the local stack (STS via OIDC, ECR with basic and enhanced
 * scanning scenarios, a real registry) and an image pushed by the real Docker engine (FROM scratch + busybox).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  ECRClient,
  PutImageCommand,
  PutRegistryScanningConfigurationCommand
} from '@aws-sdk/client-ecr'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { EcrImages } from '../helpers/ecr-images.js'
import { runAction, type RunResult, uniqueName } from '../helpers/runner.js'
import { sarifValidator } from '../fixtures/scan-gate/sarif-schema.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecr: ECRClient
let images: EcrImages
const LOCAL_IMAGE = `shipline-scan-gate-e2e:${process.pid}`

async function scenario(repository: string, value: unknown): Promise<void> {
  await stack.admin.post('ecr/scan-scenario', { repository, scenario: value })
}

async function scanning(scanType: 'BASIC' | 'ENHANCED'): Promise<void> {
  await ecr.send(
    new PutRegistryScanningConfigurationCommand({
      scanType,
      rules:
        scanType === 'ENHANCED'
          ? [
              {
                scanFrequency: 'CONTINUOUS_SCAN',
                repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }]
              }
            ]
          : []
    })
  )
}

function gate(
  inputs: Record<string, string>,
  workspace = mkdtempSync(join(tmpdir(), 'scan-gate-e2e-ws-'))
): Promise<RunResult> {
  return runAction('scan-gate', {
    // The action waits in real time while the simulator runs fast: a short settle window keeps these runs quick
    // (the settle tests below set their own).
    inputs: {
      'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'],
      'settle-time': '1s',
      ...inputs
    },
    env: stack.env,
    workspace,
    timeoutMs: 200_000
  })
}

const HIGH = {
  id: 'CVE-2023-4911',
  severity: 'HIGH',
  package: 'glibc',
  version: '2.36-9',
  fixedVersion: '2.36-9+deb12u3',
  score: 7.8
}
const MEDIUM = {
  id: 'CVE-2023-5678',
  severity: 'MEDIUM',
  package: 'openssl',
  version: '3.0.11-1',
  score: 5.3
}
const CRITICAL = {
  id: 'CVE-2024-3094',
  severity: 'CRITICAL',
  package: 'xz-utils',
  version: '5.6.0-0.2',
  fixedVersion: '5.6.1+really5.4.5-1',
  score: 10
}
const LOW = {
  id: 'CVE-2022-0563',
  severity: 'LOW',
  package: 'util-linux',
  version: '2.38.1-5',
  score: 3.1
}

/** Resolves once `condition` holds, or when `stop` does (the action ended first). */
async function until(condition: () => boolean, stop: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000
  while (!condition() && !stop() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
  }
}

beforeAll(async () => {
  // Basic scans take 10 simulated seconds: at speed 20 that is half a real second.
  stack = await startStack({ speed: 20 })
  ecr = new ECRClient({
    ...stack.clientConfig
  })
  images = new EcrImages(stack, ecr, LOCAL_IMAGE)
  await images.prepare()
})

afterAll(async () => {
  await images?.dispose()
  ecr?.destroy()
  await stack?.stop()
})

describe('scan-gate against the local stack: basic scanning', () => {
  const repository = uniqueName('e2e/scan-basic')
  let digest: string
  let image: string

  beforeAll(async () => {
    await scanning('BASIC')
    digest = await images.push(repository)
    image = `${stack.registryHost}/${repository}:v1`
    await scenario(repository, { findings: [HIGH, MEDIUM, LOW] })
  })

  it('threshold HIGH with one HIGH finding fails; the SARIF is valid and has the findings below the threshold', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'scan-gate-e2e-ws-'))
    const result = await gate(
      {
        image,
        'severity-threshold': 'HIGH',
        'sarif-file': 'scan.sarif',
        'report-file': 'scan.json'
      },
      ws
    )
    expect(result.exitCode).toBe(1)
    expect(result.outputs).toEqual({
      digest,
      critical: '0',
      high: '1',
      medium: '1',
      low: '1',
      informational: '0',
      undefined: '0',
      blocking: '1',
      passed: 'false',
      'scan-status': 'COMPLETE'
    })
    expect(result.errors).toEqual([
      // Basic scanning reports no fixed version (only enhanced findings carry one).
      `CVE-2023-4911 in glibc 2.36-9 blocks ${image}. https://security-tracker.debian.org/tracker/CVE-2023-4911`,
      `scan-gate: 1 blocking finding(s) at or above HIGH in ${image}: CVE-2023-4911. Upgrade the packages listed in the job summary and rebuild, or add a reviewed allowlist entry (id, reason, expires) for each accepted risk.`
    ])
    expect(result.log).toContain('::error title=CVE-2023-4911 (HIGH)::')
    expect(stack.requestLog({ operation: 'StartImageScan' })).toHaveLength(1)
    expect(result.summary).toContain('Scan gate failed')
    expect(result.summary).toMatch(
      /<td>CVE-2023-4911<\/td><td>HIGH<\/td><td>glibc<\/td><td>2\.36-9<\/td><td>&nbsp;<\/td><td><a href=/
    )
    const sarif = JSON.parse(readFileSync(join(ws, 'scan.sarif'), 'utf8')) as {
      runs: { results: { ruleId: string; level: string }[] }[]
    }
    const validate = sarifValidator()
    expect(validate(sarif)).toBe(true)
    expect(sarif.runs[0]?.results.map((r) => [r.ruleId, r.level])).toEqual([
      ['CVE-2023-4911', 'error'],
      ['CVE-2023-5678', 'warning'],
      ['CVE-2022-0563', 'note']
    ])
    const report = JSON.parse(readFileSync(join(ws, 'scan.json'), 'utf8')) as {
      digest: string
      blocking: number
    }
    expect(report).toMatchObject({ digest, blocking: 1 })
  })

  it('the same finding in a valid allowlist entry passes and is listed as suppressed, reusing the existing scan', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'scan-gate-e2e-ws-'))
    writeFileSync(
      join(ws, 'allow.yml'),
      '- id: CVE-2023-4911\n  package: glibc\n  reason: setuid binaries are not present in this image\n  expires: 2099-12-31\n'
    )
    const result = await gate(
      { image: `${repository}@${digest}`, 'severity-threshold': 'HIGH', allowlist: 'allow.yml' },
      ws
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ passed: 'true', blocking: '0', high: '1', digest })
    expect(stack.requestLog({ operation: 'StartImageScan' })).toHaveLength(1)
    expect(result.summary).toContain('Suppressed findings')
    expect(result.summary).toContain(
      '<td>setuid binaries are not present in this image</td><td>2099-12-31</td>'
    )
  })

  it('with an expired entry it fails and says the entry expired', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'scan-gate-e2e-ws-'))
    writeFileSync(
      join(ws, 'allow.yml'),
      '- {id: CVE-2023-4911, reason: reviewed in Q1, expires: 2020-01-31}\n'
    )
    const result = await gate({ image, 'severity-threshold': 'HIGH', allowlist: 'allow.yml' }, ws)
    expect(result.exitCode).toBe(1)
    expect(result.outputs).toMatchObject({ passed: 'false', blocking: '1' })
    expect(result.warnings.join('\n')).toContain(
      'entry 1 (CVE-2023-4911) expired on 2020-01-31 and no longer suppresses anything'
    )
    expect(result.errors.at(-1)).toContain('(allowlist entry for CVE-2023-4911 expired)')
    expect(result.summary).toContain('Expired allowlist entries')
  })

  it('times out while IN_PROGRESS with the elapsed time and the status', async () => {
    const repo = uniqueName('e2e/scan-slow')
    await images.push(repo)
    await scenario(repo, { status: 'IN_PROGRESS', description: 'The scan is in progress.' })
    const started = Date.now()
    const result = await gate({ image: `${stack.registryHost}/${repo}:v1`, timeout: '5s' })
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatch(
      new RegExp(
        `^scan-gate: Timed out after [56]s waiting for the ECR scan of ${repo}@sha256:[a-f0-9]{64} \\(last status IN_PROGRESS: The scan is in progress\\)\\. Raise "timeout"`
      )
    )
  })

  it('UNSUPPORTED_IMAGE fails clearly, or passes with a warning when fail-on-scan-error is false', async () => {
    const repo = uniqueName('e2e/scan-unsupported')
    await images.push(repo)
    await scenario(repo, 'unsupported')
    const failed = await gate({ image: `${stack.registryHost}/${repo}:v1` })
    expect(failed.exitCode).toBe(1)
    expect(failed.errors[0]).toMatch(
      /^scan-gate: The ECR scan of .* ended with status UNSUPPORTED_IMAGE \(UnsupportedImageError: The operating system and\/or package manager are not supported\)\. ECR cannot scan this image/
    )
    expect(failed.outputs['scan-status']).toBe('UNSUPPORTED_IMAGE')
    const lenient = await gate({
      image: `${stack.registryHost}/${repo}:v1`,
      'fail-on-scan-error': 'false'
    })
    expect(lenient.exitCode).toBe(0)
    expect(lenient.warnings.join('\n')).toContain('was NOT gated')
    expect(lenient.outputs).toMatchObject({ passed: 'true', 'scan-status': 'UNSUPPORTED_IMAGE' })
  })

  it('an image index is gated through its platform image, and the log explains why', async () => {
    const repo = uniqueName('e2e/scan-index')
    const child = await images.push(repo)
    await scenario(repo, { findings: [HIGH] })
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageDigest: child }] })
    )
    const manifest = got.images?.[0]
    const childEntry = {
      mediaType: manifest?.imageManifestMediaType,
      digest: child,
      size: Buffer.byteLength(manifest?.imageManifest ?? '')
    }
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...childEntry, platform: { os: 'linux', architecture: 'amd64' } },
        {
          ...childEntry,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: {
            'vnd.docker.reference.type': 'attestation-manifest',
            'vnd.docker.reference.digest': child
          }
        }
      ]
    })
    const put = await ecr.send(
      new PutImageCommand({
        repositoryName: repo,
        imageTag: 'multi',
        imageManifest: index,
        imageManifestMediaType: 'application/vnd.oci.image.index.v1+json'
      })
    )
    const indexDigest = put.image?.imageId?.imageDigest as string
    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await gate({
      image: `${stack.registryHost}/${repo}:multi`,
      'severity-threshold': 'HIGH'
    })
    expect(result.exitCode).toBe(1)
    expect(result.log).toContain(
      'is an image index (1 platform image(s), 1 attestation/unknown manifest(s)). ECR cannot scan an index'
    )
    expect(result.outputs).toMatchObject({
      digest: indexDigest,
      high: '1',
      blocking: '1',
      'scan-status': 'COMPLETE'
    })
    expect(result.errors[0]).toContain('(linux/amd64)')
    const scanned = stack
      .requestLog({ sinceId: before, operation: 'DescribeImageScanFindings' })
      .map((e) => JSON.stringify(e))
    expect(scanned.length).toBeGreaterThan(0)
    expect(scanned.every((e) => e.includes(child) && !e.includes(indexDigest))).toBe(true)
  })

  it('an image that does not exist fails with the fix before any wait', async () => {
    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await gate({ image: `${stack.registryHost}/${repository}:no-such-tag` })
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toContain(
      `input "image": image ${stack.registryHost}/${repository}:no-such-tag does not exist in ECR`
    )
    expect(
      stack.requestLog({ sinceId: before, operation: 'DescribeImageScanFindings' })
    ).toHaveLength(0)
  })
})

describe('scan-gate against the local stack: enhanced scanning', () => {
  beforeAll(async () => {
    await scanning('ENHANCED')
  })

  it('gates ACTIVE findings that span three pages, never calling StartImageScan', async () => {
    const repo = uniqueName('e2e/scan-enhanced')
    const digest = await images.push(repo)
    const severities = ['LOW', 'MEDIUM', 'INFORMATIONAL', 'LOW'] as const
    const findings = [
      {
        id: 'CVE-2024-3094',
        severity: 'CRITICAL',
        package: 'xz-utils',
        version: '5.6.0-0.2',
        fixedVersion: '5.6.1+really5.4.5-1',
        score: 10
      },
      ...Array.from({ length: 2100 }, (_, i) => ({
        id: `CVE-2025-${String(10000 + i)}`,
        severity: severities[i % severities.length],
        package: `pkg-${i}`,
        version: '1.0.0'
      }))
    ]
    await scenario(repo, { findings })
    const before = stack.requestLog().at(-1)?.id ?? 0
    const ws = mkdtempSync(join(tmpdir(), 'scan-gate-e2e-ws-'))
    const result = await gate(
      { image: `${stack.registryHost}/${repo}:v1`, 'sarif-file': 'scan.sarif' },
      ws
    )
    expect(result.exitCode).toBe(1)
    expect(result.outputs).toEqual({
      digest,
      critical: '1',
      high: '0',
      medium: '525',
      low: '1050',
      informational: '525',
      undefined: '0',
      blocking: '1',
      passed: 'false',
      'scan-status': 'ACTIVE'
    })
    expect(result.log).toMatch(/ACTIVE, 2101 finding\(s\) over 3 page\(s\)/)
    expect(stack.requestLog({ sinceId: before, operation: 'StartImageScan' })).toHaveLength(0)
    expect(result.errors[0]).toContain('CVE-2024-3094 in xz-utils 5.6.0-0.2 blocks')
    const sarif = JSON.parse(readFileSync(join(ws, 'scan.sarif'), 'utf8')) as {
      runs: { results: unknown[] }[]
    }
    expect(sarif.runs[0]?.results).toHaveLength(2101)
    expect(sarifValidator()(sarif)).toBe(true)
  })

  it('issue 9 #1: a CRITICAL that Inspector reports 30 s after ACTIVE blocks: two equal readings are not enough, the settle window restarts on the change', async () => {
    const repo = uniqueName('e2e/scan-late')
    const speed = stack.clock.speed
    // Simulated time stands still unless this test moves it.
    stack.clock.speed = 0.001
    try {
      await images.push(repo)
      await scenario(repo, { findings: [{ ...CRITICAL, atSeconds: 30 }] })
      const before = stack.requestLog().at(-1)?.id ?? 0
      let ended = false
      const run = gate({
        image: `${stack.registryHost}/${repo}:v1`,
        'settle-time': '4s'
      }).finally(() => {
        ended = true
      })
      const reads = () =>
        stack.requestLog({ sinceId: before, operation: 'DescribeImageScanFindings' }).length
      // Two identical readings (ACTIVE, no findings): where a gate without a settle window passed.
      await until(
        () => reads() >= 2,
        () => ended
      )
      stack.clock.advance(30_000)
      const result = await run
      expect(result.exitCode).toBe(1)
      expect(result.outputs).toMatchObject({ critical: '1', blocking: '1', passed: 'false' })
      expect(result.log).toMatch(
        /ACTIVE, 0 finding\(s\) over 1 page\(s\) after \d+s \(settling: trusted once unchanged for 4s\)/
      )
      expect(result.log).toContain('(changed: waiting for them to settle, 4s from now)')
      expect(result.errors[0]).toContain('CVE-2024-3094 in xz-utils 5.6.0-0.2 blocks')
    } finally {
      stack.clock.speed = speed
    }
  })

  it('passes a clean image reported ACTIVE', async () => {
    const repo = uniqueName('e2e/scan-clean')
    await images.push(repo)
    await scenario(repo, 'clean')
    const result = await gate({
      image: `${stack.registryHost}/${repo}:v1`,
      'severity-threshold': 'LOW'
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ passed: 'true', blocking: '0', 'scan-status': 'ACTIVE' })
    expect(result.log).toContain('enhanced scanning (Amazon Inspector, CONTINUOUS_SCAN)')
  })
})

// Last: this moves the simulated clock by days (registry login tokens expire).
describe('scan-gate against the local stack: max-scan-age', () => {
  beforeAll(async () => {
    await scanning('BASIC')
  })

  it('a basic scan older than max-scan-age is restarted and its new findings gated; a younger one is trusted', async () => {
    const repo = uniqueName('e2e/scan-aged')
    await images.push(repo)
    const image = `${stack.registryHost}/${repo}:v1`
    await scenario(repo, { findings: [HIGH] })
    const scans = (sinceId: number) =>
      stack.requestLog({ sinceId, operation: 'StartImageScan' }).length
    let before = stack.requestLog().at(-1)?.id ?? 0
    const first = await gate({ image })
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ high: '1', critical: '0', passed: 'true' })
    expect(scans(before)).toBe(1)

    // Eight days later the vulnerability database knows a CRITICAL in this image; the old scan does not show it.
    await scenario(repo, { findings: [HIGH, CRITICAL] })
    stack.clock.advance(8 * 24 * 3600 * 1000)
    before = stack.requestLog().at(-1)?.id ?? 0
    const second = await gate({ image })
    expect(second.exitCode).toBe(1)
    expect(second.outputs).toMatchObject({ critical: '1', high: '1', blocking: '1' })
    expect(second.log).toMatch(
      /the last basic scan completed \S+, older than "max-scan-age" \(168h\): started a new scan/
    )
    expect(scans(before)).toBe(1)

    // Six days after that scan it is still young enough: trusted, no new scan.
    stack.clock.advance(6 * 24 * 3600 * 1000)
    before = stack.requestLog().at(-1)?.id ?? 0
    const third = await gate({ image, 'max-scan-age': '168h' })
    expect(third.exitCode).toBe(1)
    expect(third.outputs).toMatchObject({ critical: '1' })
    expect(scans(before)).toBe(0)
  })
})
