import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeImageScanFindingsCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  StartImageScanCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import { run, type ScanGateDeps } from '../../../../actions/scan-gate/src/main.js'
import { getInputs, INPUT_NAMES } from '../../../../actions/scan-gate/src/inputs.js'
import { parseFileCommands } from '../../../helpers/runner.js'
import {
  awsError,
  basicFinding,
  enhancedFinding,
  fakeClock,
  manyEnhanced,
  scriptedFindings,
  type ScanState
} from '../../../fixtures/scan-gate/findings.js'
import { sarifValidator } from '../../../fixtures/scan-gate/sarif-schema.js'

const ecrMock = mockClient(ECRClient)
const saved = { ...process.env }
const DIGEST = `sha256:${'d'.repeat(64)}`
const TODAY = '2026-06-15'

let dir: string
let log: string[]
let ecrCreated: number
let clock: ReturnType<typeof fakeClock>
const logText = () => log.join('')

function setInputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values))
    process.env[`INPUT_${name.toUpperCase()}`] = value
}

function deps(): ScanGateDeps {
  return {
    getInputs: () => getInputs(),
    ecr: () => {
      ecrCreated++
      return Promise.resolve(new ECRClient({ region: 'us-east-1' }))
    },
    clock,
    today: () => TODAY
  }
}

function scanMode(scanType: 'BASIC' | 'ENHANCED'): void {
  ecrMock.on(GetRegistryScanningConfigurationCommand).resolves({
    scanningConfiguration: {
      scanType,
      rules: [
        {
          scanFrequency: scanType === 'ENHANCED' ? 'CONTINUOUS_SCAN' : 'SCAN_ON_PUSH',
          repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }]
        }
      ]
    }
  })
}

function scan(states: ScanState[]) {
  const script = scriptedFindings(states)
  ecrMock.on(DescribeImageScanFindingsCommand).callsFake(script.handler)
  return script
}

// @actions/core remembers the summary file path of its first write: one file for the whole test file.
const SUMMARY = join(mkdtempSync(join(tmpdir(), 'scan-gate-summary-')), 'summary')
const outputs = () => parseFileCommands(readFileSync(join(dir, 'output'), 'utf8'))
const summary = () => readFileSync(SUMMARY, 'utf8')

beforeEach(() => {
  ecrMock.reset()
  for (const name of INPUT_NAMES) delete process.env[`INPUT_${name.toUpperCase()}`]
  dir = mkdtempSync(join(tmpdir(), 'scan-gate-main-'))
  writeFileSync(join(dir, 'output'), '')
  writeFileSync(SUMMARY, '')
  Object.assign(process.env, {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: SUMMARY,
    GITHUB_WORKSPACE: dir,
    AWS_REGION: 'us-east-1'
  })
  log = []
  ecrCreated = 0
  clock = fakeClock()
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    log.push(String(chunk))
    return true
  })
  ecrMock.on(DescribeImagesCommand).resolves({
    imageDetails: [
      { imageDigest: DIGEST, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }
    ]
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  process.env = { ...saved }
  process.exitCode = undefined
})

describe('run: gating', () => {
  it('threshold HIGH with one HIGH finding fails, with outputs, annotation, summary and a full SARIF', async () => {
    scanMode('BASIC')
    scan([
      {
        status: 'COMPLETE',
        basic: [
          basicFinding('CVE-2024-1111', 'HIGH', 'openssl', '1.1.1k'),
          basicFinding('CVE-2024-2222', 'LOW', 'zlib', '1.2')
        ]
      }
    ])
    setInputs({
      image: 'api:v1',
      'severity-threshold': 'HIGH',
      'sarif-file': 'scan.sarif',
      'report-file': 'report.json'
    })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(outputs()).toEqual({
      digest: DIGEST,
      critical: '0',
      high: '1',
      medium: '0',
      low: '1',
      informational: '0',
      undefined: '0',
      blocking: '1',
      passed: 'false',
      'scan-status': 'COMPLETE'
    })
    expect(logText()).toContain(
      '::error title=CVE-2024-1111 (HIGH)::CVE-2024-1111 in openssl 1.1.1k blocks api:v1.'
    )
    expect(logText()).toContain(
      '::error::scan-gate: 1 blocking finding(s) at or above HIGH in api:v1: CVE-2024-1111. Upgrade the packages'
    )
    expect(summary()).toContain('Scan gate failed: api:v1')
    expect(summary()).toContain('Blocking findings')
    // An empty cell (basic findings have no fixed version) must not break the row.
    expect(summary()).toMatch(
      /<td>CVE-2024-1111<\/td><td>HIGH<\/td><td>openssl<\/td><td>1\.1\.1k<\/td><td>&nbsp;<\/td><td><a href="https:\/\/security-tracker\.debian\.org\/tracker\/CVE-2024-1111">advisory<\/a><\/td><td>&nbsp;<\/td><\/tr>/
    )
    const sarif = JSON.parse(readFileSync(join(dir, 'scan.sarif'), 'utf8')) as {
      runs: { results: { ruleId: string }[] }[]
    }
    expect(sarifValidator()(sarif)).toBe(true)
    expect(sarif.runs[0]?.results.map((r) => r.ruleId)).toEqual(['CVE-2024-1111', 'CVE-2024-2222'])
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      passed: boolean
      counts: Record<string, number>
    }
    expect(report.passed).toBe(false)
    expect(report.counts['LOW']).toBe(1)
    // Basic mode with scan-on-push and an existing scan: no StartImageScan.
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0)
  })

  it('passes when a valid allowlist entry covers the finding, and lists it as suppressed', async () => {
    scanMode('BASIC')
    scan([{ status: 'COMPLETE', basic: [basicFinding('CVE-2024-1111', 'HIGH')] }])
    writeFileSync(
      join(dir, 'allow.yml'),
      '- id: CVE-2024-1111\n  reason: not reachable in our use\n  expires: 2026-12-31\n'
    )
    setInputs({ image: 'api:v1', 'severity-threshold': 'HIGH', allowlist: 'allow.yml' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(outputs()).toMatchObject({ passed: 'true', blocking: '0', high: '1' })
    expect(summary()).toContain('Suppressed findings')
    expect(summary()).toMatch(
      /<td>CVE-2024-1111<\/td><td>HIGH<\/td><td>openssl<\/td><td>not reachable in our use<\/td><td>2026-12-31<\/td>/
    )
    expect(logText()).not.toContain('::error')
  })

  it('fails when the entry expired and says so', async () => {
    scanMode('BASIC')
    scan([{ status: 'COMPLETE', basic: [basicFinding('CVE-2024-1111', 'HIGH')] }])
    writeFileSync(
      join(dir, 'allow.yml'),
      '- {id: CVE-2024-1111, reason: accepted, expires: 2026-06-01}\n'
    )
    setInputs({ image: 'api:v1', 'severity-threshold': 'HIGH', allowlist: 'allow.yml' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(outputs()).toMatchObject({ passed: 'false', blocking: '1' })
    expect(logText()).toContain(
      '::warning::Allowlist allow.yml entry 1 (CVE-2024-1111) expired on 2026-06-01 and no longer suppresses anything'
    )
    expect(logText()).toContain('Its allowlist entry expired on 2026-06-01')
    expect(logText()).toMatch(
      /::error::scan-gate: 1 blocking finding\(s\) .* \(allowlist entry for CVE-2024-1111 expired\)/
    )
    expect(summary()).toContain('Expired allowlist entries')
  })

  it('enhanced: never starts a scan, gates findings that arrive over later polls across ≥3 pages', async () => {
    scanMode('ENHANCED')
    const late = [
      ...manyEnhanced(240, ['LOW', 'MEDIUM']),
      enhancedFinding('CVE-2025-9999', 'CRITICAL', { fixedInVersion: '3.0.14' })
    ]
    const script = scan([
      { status: 'ACTIVE', enhanced: [] },
      { status: 'ACTIVE', enhanced: late.slice(0, 5) },
      { status: 'ACTIVE', enhanced: late }
    ])
    setInputs({ image: 'api:v1' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0)
    expect(outputs()).toMatchObject({
      critical: '1',
      low: '120',
      medium: '120',
      blocking: '1',
      'scan-status': 'ACTIVE'
    })
    expect(script.calls.filter((c) => c.nextToken).length).toBeGreaterThanOrEqual(4)
    expect(logText()).toContain('(changed: waiting for them to settle, 1m from now)')
    expect(logText()).toContain('::error title=CVE-2025-9999 (CRITICAL)::')
    expect(logText()).toContain('Upgrade to 3.0.14.')
  })

  it('NONE reports without blocking', async () => {
    scanMode('BASIC')
    scan([{ status: 'COMPLETE', basic: [basicFinding('CVE-1', 'CRITICAL')] }])
    setInputs({ image: 'api:v1', 'severity-threshold': 'NONE' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(outputs()).toMatchObject({ critical: '1', blocking: '0', passed: 'true' })
  })
})

describe('run: scan states', () => {
  it('starts a basic scan when none exists', async () => {
    ecrMock
      .on(GetRegistryScanningConfigurationCommand)
      .resolves({ scanningConfiguration: { scanType: 'BASIC', rules: [] } })
    ecrMock.on(StartImageScanCommand).resolves({ imageScanStatus: { status: 'IN_PROGRESS' } })
    scan([{ error: 'ScanNotFoundException' }, { status: 'IN_PROGRESS' }, { status: 'COMPLETE' }])
    setInputs({ image: 'api:v1' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(1)
    expect(outputs()).toMatchObject({ passed: 'true', 'scan-status': 'COMPLETE' })
  })

  it('UNSUPPORTED_IMAGE fails clearly', async () => {
    scanMode('BASIC')
    scan([
      {
        status: 'UNSUPPORTED_IMAGE',
        description: 'The operating system and/or package manager are not supported.'
      }
    ])
    setInputs({ image: 'api:v1' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toContain(
      `::error::scan-gate: The ECR scan of api@${DIGEST} ended with status UNSUPPORTED_IMAGE (The operating system and/or package manager are not supported). ECR cannot scan this image`
    )
    expect(outputs()).toMatchObject({ 'scan-status': 'UNSUPPORTED_IMAGE', digest: DIGEST })
  })

  it('UNSUPPORTED_IMAGE passes with a warning when fail-on-scan-error is false', async () => {
    scanMode('BASIC')
    scan([{ status: 'UNSUPPORTED_IMAGE' }])
    setInputs({ image: 'api:v1', 'fail-on-scan-error': 'false' })
    await run(deps())
    expect(process.exitCode).toBeUndefined()
    expect(logText()).toContain('::warning::The ECR scan of')
    expect(logText()).toContain('was NOT gated')
    expect(outputs()).toMatchObject({
      passed: 'true',
      'scan-status': 'UNSUPPORTED_IMAGE',
      blocking: '0'
    })
  })

  it('times out while IN_PROGRESS with the elapsed time and the status', async () => {
    scanMode('BASIC')
    scan([{ status: 'IN_PROGRESS' }])
    setInputs({ image: 'api:v1', timeout: '5s' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toMatch(
      /::error::scan-gate: Timed out after 5s waiting for the ECR scan of api@sha256:d+ \(last status IN_PROGRESS\)/
    )
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(5000)
  })

  it('gates each platform image of an index and explains why', async () => {
    const index = JSON.stringify({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { digest: `sha256:${'1'.repeat(64)}`, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: `sha256:${'2'.repeat(64)}`, platform: { os: 'linux', architecture: 'arm64' } },
        { digest: `sha256:${'3'.repeat(64)}`, platform: { os: 'unknown', architecture: 'unknown' } }
      ]
    })
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: DIGEST, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }
      ]
    })
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: index }] })
    scanMode('BASIC')
    ecrMock
      .on(DescribeImageScanFindingsCommand)
      .callsFake((input: { imageId?: { imageDigest?: string } }) =>
        Promise.resolve({
          imageScanStatus: { status: 'COMPLETE' },
          imageScanFindings: {
            findings: input.imageId?.imageDigest?.startsWith('sha256:2')
              ? [basicFinding('CVE-ARM', 'CRITICAL')]
              : []
          }
        })
      )
    setInputs({ image: 'api:v1', platform: 'all' })
    await run(deps())
    expect(logText()).toContain(
      'api:v1 is an image index (2 platform image(s), 1 attestation/unknown manifest(s)). ECR cannot scan an index'
    )
    expect(process.exitCode).toBe(1)
    expect(outputs()).toMatchObject({ digest: DIGEST, critical: '1', blocking: '1' })
    expect(logText()).toContain(
      '::error title=CVE-ARM (CRITICAL)::CVE-ARM in openssl 1.1.1k-r0 blocks api:v1 (linux/arm64).'
    )
    const scanned = ecrMock
      .commandCalls(DescribeImageScanFindingsCommand)
      .map((c) => c.args[0].input.imageId?.imageDigest?.slice(7, 8))
    expect(new Set(scanned)).toEqual(new Set(['1', '2']))
  })
})

describe('run: bad inputs fail before any AWS call', () => {
  it.each([
    [{ image: 'api:v1', 'severity-threshold': 'URGENT' }, 'input "severity-threshold"'],
    [{ image: 'api:v1', allowlist: 'allow.yml' }, 'has no "expires"'],
    [{ image: 'api' }, 'has neither a tag nor a digest']
  ])('%j', async (values, message) => {
    writeFileSync(join(dir, 'allow.yml'), '- {id: CVE-1, reason: r}\n')
    setInputs(values)
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toContain(message)
    expect(ecrCreated).toBe(0)
    expect(ecrMock.calls()).toHaveLength(0)
  })

  it('an image that does not exist fails with the fix before any wait', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .rejects(awsError('ImageNotFoundException', 'The image does not exist'))
    setInputs({ image: 'api:nope' })
    await run(deps())
    expect(process.exitCode).toBe(1)
    expect(logText()).toContain(
      '::error::scan-gate: input "image": image api:nope does not exist in ECR (repository "api"). Pass the image-uri or image-ref output of build-tag-push'
    )
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0)
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0)
    expect(clock.sleeps).toEqual([])
    expect(existsSync(join(dir, 'scan.sarif'))).toBe(false)
  })
})
