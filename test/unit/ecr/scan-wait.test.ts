import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeImageScanFindingsCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  StartImageScanCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import {
  detectScanMode,
  ecrClockNow,
  Poller,
  readAllFindings,
  ScanStatusError,
  waitForScan,
  wildcardMatches,
  type ScanMode
} from '../../../packages/ecr/src/scan-wait.js'
import type { ScanTarget } from '../../../packages/ecr/src/scan-image.js'
import {
  awsError,
  basicFinding,
  enhancedFinding,
  fakeClock,
  manyEnhanced,
  scriptedFindings,
  type ScanState
} from '../../fixtures/scan-gate/findings.js'

const ecrMock = mockClient(ECRClient)
const ecr = new ECRClient({ region: 'us-east-1' })
const target: ScanTarget = {
  repositoryName: 'team/api',
  registryId: undefined,
  digest: `sha256:${'a'.repeat(64)}`
}

beforeEach(() => {
  ecrMock.reset()
})

/** Settle window 0: the findings are trusted at the second equal reading (the settle window has its own tests). */
function setup(states: ScanState[], timeoutMs = 600_000, pageSize = 100) {
  const script = scriptedFindings(states, pageSize)
  ecrMock.on(DescribeImageScanFindingsCommand).callsFake(script.handler)
  const clock = fakeClock()
  const poller = new Poller(clock, timeoutMs)
  const log: string[] = []
  const wait = (mode: ScanMode) =>
    waitForScan(ecr, target, { mode, poller, log: (m) => log.push(m), settleMs: () => 0 })
  return { script, clock, poller, log, wait }
}

describe('wildcardMatches', () => {
  it.each([
    ['*', 'team/api', true],
    ['team/*', 'team/api', true],
    ['team/*', 'other/api', false],
    ['api', 'team/api', false],
    ['te.m/*', 'team/api', false],
    ['*api', 'team/api', true]
  ])('%s vs %s → %s', (filter, repo, expected) => {
    expect(wildcardMatches(filter, repo)).toBe(expected)
  })
})

describe('detectScanMode', () => {
  it('reads ENHANCED and the matching rule frequency', async () => {
    ecrMock.on(GetRegistryScanningConfigurationCommand).resolves({
      scanningConfiguration: {
        scanType: 'ENHANCED',
        rules: [
          {
            scanFrequency: 'SCAN_ON_PUSH',
            repositoryFilters: [{ filter: 'other/*', filterType: 'WILDCARD' }]
          },
          {
            scanFrequency: 'CONTINUOUS_SCAN',
            repositoryFilters: [{ filter: 'team/*', filterType: 'WILDCARD' }]
          }
        ]
      }
    })
    await expect(detectScanMode(ecr, target)).resolves.toMatchObject({
      mode: 'ENHANCED',
      frequency: 'CONTINUOUS_SCAN'
    })
  })

  it('reads BASIC without rules as manual', async () => {
    ecrMock
      .on(GetRegistryScanningConfigurationCommand)
      .resolves({ scanningConfiguration: { scanType: 'BASIC', rules: [] } })
    const info = await detectScanMode(ecr, target)
    expect(info.mode).toBe('BASIC')
    expect(info.frequency).toBeUndefined()
  })

  it('falls back to UNKNOWN when the configuration cannot be read', async () => {
    ecrMock
      .on(GetRegistryScanningConfigurationCommand)
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: x is not authorized to perform: ecr:GetRegistryScanningConfiguration'
        )
      )
    const info = await detectScanMode(ecr, target)
    expect(info.mode).toBe('UNKNOWN')
    expect(info.note).toContain('ecr:GetRegistryScanningConfiguration')
  })
})

describe('Poller', () => {
  it('grows the interval from 2 s to a 15 s cap and never sleeps past the deadline', async () => {
    const clock = fakeClock()
    const poller = new Poller(clock, 60_000)
    while (await poller.wait()) {
      /* poll */
    }
    expect(clock.sleeps).toEqual([2000, 3000, 4500, 6750, 10125, 15000, 15000, 3625])
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000)
  })

  it('starts over at the short interval after a reset', async () => {
    const clock = fakeClock()
    const poller = new Poller(clock, 600_000)
    await poller.wait()
    await poller.wait()
    poller.reset()
    await poller.wait()
    expect(clock.sleeps).toEqual([2000, 3000, 2000])
  })
})

describe('readAllFindings', () => {
  it('follows nextToken through every page and counts itself', async () => {
    const script = scriptedFindings([{ status: 'ACTIVE', enhanced: manyEnhanced(250) }])
    ecrMock.on(DescribeImageScanFindingsCommand).callsFake(script.handler)
    const reading = await readAllFindings(ecr, target)
    expect(reading.pages).toBe(3)
    expect(reading.findings).toHaveLength(250)
    expect(script.calls.map((c) => c.nextToken)).toEqual([undefined, 'poll0:100', 'poll0:200'])
    expect(script.calls.every((c) => c.maxResults === 1000)).toBe(true)
    // ECR's counts describe the first page only; ours cover all 250.
    expect(Object.values(reading.reportedCounts ?? {}).reduce((a, b) => a + b, 0)).toBe(100)
  })

  it('refuses a repeated pagination token', async () => {
    ecrMock
      .on(DescribeImageScanFindingsCommand)
      .resolves({ imageScanStatus: { status: 'COMPLETE' }, nextToken: 'same' })
    await expect(readAllFindings(ecr, target)).rejects.toThrow(/repeated a pagination token/)
  })
})

describe('waitForScan: basic', () => {
  it('starts a scan when none exists, waits, and settles on two equal readings', async () => {
    const { wait, clock, log } = setup([
      { error: 'ScanNotFoundException' },
      { status: 'IN_PROGRESS' },
      { status: 'COMPLETE', basic: [basicFinding('CVE-2023-1', 'HIGH')] }
    ])
    ecrMock.on(StartImageScanCommand).resolves({ imageScanStatus: { status: 'IN_PROGRESS' } })
    const result = await wait('BASIC')
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(1)
    expect(ecrMock.commandCalls(StartImageScanCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'team/api',
      registryId: undefined,
      imageId: { imageDigest: target.digest }
    })
    expect(result).toMatchObject({
      status: 'COMPLETE',
      mode: 'BASIC',
      startedScan: true,
      readings: 2
    })
    expect(result.findings.map((f) => f.id)).toEqual(['CVE-2023-1'])
    expect(clock.sleeps.length).toBe(3)
    expect(log.join('\n')).toContain('started a basic scan')
  })

  it('treats LimitExceededException as already scanned and keeps polling', async () => {
    const { wait, log } = setup([{ error: 'ScanNotFoundException' }, { status: 'COMPLETE' }])
    ecrMock
      .on(StartImageScanCommand)
      .rejects(
        awsError(
          'LimitExceededException',
          'The scan quota per image has been exceeded. Wait and try again.'
        )
      )
    const result = await wait('BASIC')
    expect(result.status).toBe('COMPLETE')
    expect(result.startedScan).toBe(false)
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(1)
    expect(log.join('\n')).toContain('already scanned in the last 24 hours')
  })

  it('switches to enhanced when StartImageScan says the feature is disabled', async () => {
    const { wait } = setup([
      { error: 'ScanNotFoundException' },
      { error: 'ScanNotFoundException' },
      { status: 'ACTIVE' }
    ])
    ecrMock
      .on(StartImageScanCommand)
      .rejects(awsError('ValidationException', 'This feature is disabled'))
    const result = await wait('UNKNOWN')
    expect(result.mode).toBe('ENHANCED')
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(1)
  })

  it.each(['FAILED', 'UNSUPPORTED_IMAGE', 'SCAN_ELIGIBILITY_EXPIRED', 'FINDINGS_UNAVAILABLE'])(
    'fails clearly on %s',
    async (status) => {
      const { wait } = setup([
        { status: 'IN_PROGRESS' },
        { status, description: 'The operating system is not supported' }
      ])
      const error = await wait('BASIC').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ScanStatusError)
      expect((error as ScanStatusError).status).toBe(status)
      expect((error as Error).message).toContain(`ended with status ${status}`)
      expect((error as Error).message).toContain('team/api@sha256:')
    }
  )

  it('maps UnsupportedImageTypeException from StartImageScan to UNSUPPORTED_IMAGE', async () => {
    const { wait } = setup([{ error: 'ScanNotFoundException' }])
    ecrMock
      .on(StartImageScanCommand)
      .rejects(awsError('UnsupportedImageTypeException', 'The image type is not supported'))
    await expect(wait('BASIC')).rejects.toMatchObject({ status: 'UNSUPPORTED_IMAGE' })
  })
})

describe('waitForScan: enhanced', () => {
  it('never starts a scan, accepts ACTIVE, and waits for findings that arrive over later polls', async () => {
    const early = manyEnhanced(2, ['HIGH'])
    const late = manyEnhanced(230, ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'])
    const { wait, script } = setup([
      { error: 'ScanNotFoundException' },
      { status: 'PENDING' },
      { status: 'ACTIVE', enhanced: [] },
      { status: 'ACTIVE', enhanced: early },
      { status: 'ACTIVE', enhanced: late },
      { status: 'ACTIVE', enhanced: late }
    ])
    const result = await wait('ENHANCED')
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0)
    expect(result.status).toBe('ACTIVE')
    expect(result.findings).toHaveLength(230)
    expect(result.pages).toBe(3)
    expect(result.readings).toBe(4)
    expect(script.polls()).toBe(6)
  })

  it('times out while IN_PROGRESS with the elapsed time and status, never sleeping past the timeout', async () => {
    const { wait, clock } = setup(
      [{ status: 'IN_PROGRESS', description: 'scan in progress' }],
      5000
    )
    const error = (await wait('ENHANCED').catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(
      /^Timed out after 5s waiting for the ECR scan of team\/api@sha256:a+ \(last status IN_PROGRESS: scan in progress\)/
    )
    expect(error.message).toContain('Amazon Inspector')
    expect(clock.sleeps).toEqual([2000, 3000])
  })

  it('times out when the findings never settle', async () => {
    let n = 0
    ecrMock.on(DescribeImageScanFindingsCommand).callsFake(() =>
      Promise.resolve({
        imageScanStatus: { status: 'ACTIVE' },
        imageScanFindings: { enhancedFindings: manyEnhanced(++n) }
      })
    )
    const poller = new Poller(fakeClock(), 20_000)
    await expect(
      waitForScan(ecr, target, { mode: 'ENHANCED', poller, log: () => undefined })
    ).rejects.toThrow(
      /waiting for the findings of .* to settle \(status ACTIVE; \d+ findings in the last reading, unchanged for 0s of the 1m settle time, changed \d+ time\(s\)/
    )
  })

  it('polls again after a transient error', async () => {
    let n = 0
    ecrMock.on(DescribeImageScanFindingsCommand).callsFake(() => {
      n++
      if (n === 1)
        return Promise.reject(
          Object.assign(awsError('ThrottlingException'), { $metadata: { httpStatusCode: 400 } })
        )
      return Promise.resolve({
        imageScanStatus: { status: 'ACTIVE' },
        imageScanFindings: { enhancedFindings: [enhancedFinding('CVE-1', 'LOW')] }
      })
    })
    const poller = new Poller(fakeClock(), 600_000)
    const result = await waitForScan(ecr, target, {
      mode: 'ENHANCED',
      poller,
      log: () => undefined
    })
    expect(result.findings).toHaveLength(1)
  })
})

describe('waitForScan: settle time (issue 9 #1)', () => {
  const CRITICAL = enhancedFinding('CVE-2024-3094', 'CRITICAL')

  /** ECR reports ACTIVE with no findings, and a CRITICAL from `atMs` after the first call (on the fake clock). */
  function lateFinding(clock: { now: () => number }, atMs: number) {
    let first: number | undefined
    ecrMock.on(DescribeImageScanFindingsCommand).callsFake(() => {
      first ??= clock.now()
      return Promise.resolve({
        imageScanStatus: { status: 'ACTIVE' },
        imageScanFindings: { enhancedFindings: clock.now() - first >= atMs ? [CRITICAL] : [] }
      })
    })
  }

  it('enhanced: a CRITICAL that arrives 30 s after ACTIVE is gated (default settle 60 s)', async () => {
    const clock = fakeClock()
    lateFinding(clock, 30_000)
    const poller = new Poller(clock, 600_000)
    const log: string[] = []
    const result = await waitForScan(ecr, target, {
      mode: 'ENHANCED',
      poller,
      log: (m) => log.push(m)
    })
    expect(result.findings.map((f) => f.id)).toEqual(['CVE-2024-3094'])
    expect(result.settleMs).toBe(60_000)
    // The window restarted when the finding arrived: trusted only 60 s after the last change.
    expect(poller.elapsedMs()).toBeGreaterThanOrEqual(90_000)
    expect(log.join('\n')).toContain('(changed: waiting for them to settle, 1m from now)')
  })

  it('an UNKNOWN mode that turns out ACTIVE uses the enhanced window', async () => {
    const clock = fakeClock()
    lateFinding(clock, 45_000)
    const poller = new Poller(clock, 600_000)
    const result = await waitForScan(ecr, target, { mode: 'UNKNOWN', poller, log: () => undefined })
    expect(result.mode).toBe('ENHANCED')
    expect(result.findings).toHaveLength(1)
  })

  it('basic: trusted after the shorter basic window; a configured window is honoured', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({
      imageScanStatus: { status: 'COMPLETE' },
      imageScanFindings: { findings: [basicFinding('CVE-2023-1', 'HIGH')] }
    })
    const clock = fakeClock()
    const poller = new Poller(clock, 600_000)
    const basic = await waitForScan(ecr, target, { mode: 'BASIC', poller, log: () => undefined })
    expect(basic.settleMs).toBe(10_000)
    expect(poller.elapsedMs()).toBe(10_000)
    const clock2 = fakeClock()
    const poller2 = new Poller(clock2, 600_000)
    const custom = await waitForScan(ecr, target, {
      mode: 'BASIC',
      poller: poller2,
      log: () => undefined,
      settleMs: () => 3000
    })
    expect(custom.settleMs).toBe(3000)
    expect(poller2.elapsedMs()).toBe(3000)
  })

  it('fails closed when the timeout ends inside the settle window, naming both settings', async () => {
    const clock = fakeClock()
    lateFinding(clock, 1_000_000)
    const poller = new Poller(clock, 40_000)
    const error = (await waitForScan(ecr, target, {
      mode: 'ENHANCED',
      poller,
      log: () => undefined
    }).catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(
      /^Timed out after 40s waiting for the findings of team\/api@sha256:a+ to settle \(status ACTIVE; 0 findings in the last reading, unchanged for 40s of the 1m settle time\)/
    )
    expect(error.message).toContain('"settle-time"')
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(40_000)
  })
})

describe('waitForScan: max-scan-age (basic)', () => {
  const DAY = 24 * 3600 * 1000
  const NOW = Date.UTC(2026, 11, 3, 12)

  /** A COMPLETE basic scan from `ageMs` ago; after StartImageScan, IN_PROGRESS once, then a fresh COMPLETE. */
  function staleScan(ageMs: number, startError?: Error) {
    let restarted = false
    let pollsSinceRestart = 0
    ecrMock.on(StartImageScanCommand).callsFake(() => {
      if (startError) return Promise.reject(startError)
      restarted = true
      return Promise.resolve({ imageScanStatus: { status: 'IN_PROGRESS' } })
    })
    ecrMock.on(DescribeImageScanFindingsCommand).callsFake(() => {
      if (restarted && pollsSinceRestart++ === 0)
        return Promise.resolve({ imageScanStatus: { status: 'IN_PROGRESS' } })
      return Promise.resolve({
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindings: {
          imageScanCompletedAt: new Date(restarted ? NOW : NOW - ageMs),
          findings: restarted ? [basicFinding('CVE-2026-1', 'CRITICAL')] : []
        }
      })
    })
  }

  const wait = (maxScanAgeMs: number | undefined, mode: ScanMode = 'BASIC') => {
    const log: string[] = []
    const promise = waitForScan(ecr, target, {
      mode,
      poller: new Poller(fakeClock(), 600_000),
      log: (m) => log.push(m),
      settleMs: () => 0,
      maxScanAgeMs,
      wallNow: () => NOW
    })
    return { promise, log }
  }

  it('restarts a scan older than max-scan-age and gates the new findings', async () => {
    staleScan(8 * DAY)
    const { promise, log } = wait(7 * DAY)
    const result = await promise
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(1)
    expect(result.startedScan).toBe(true)
    expect(result.completedAt?.getTime()).toBe(NOW)
    expect(result.findings.map((f) => f.id)).toEqual(['CVE-2026-1'])
    expect(log.join('\n')).toContain('older than "max-scan-age" (168h')
  })

  it('trusts a scan younger than max-scan-age, and never restarts without a limit', async () => {
    staleScan(6 * DAY)
    expect((await wait(7 * DAY).promise).findings).toEqual([])
    staleScan(30 * DAY)
    expect((await wait(undefined).promise).findings).toEqual([])
    expect(ecrMock.commandCalls(StartImageScanCommand)).toHaveLength(0)
  })

  it('an unknown mode that turns out enhanced (StartImageScan disabled) trusts the old COMPLETE scan', async () => {
    staleScan(8 * DAY, awsError('ValidationException', 'This feature is disabled'))
    const { promise, log } = wait(7 * DAY, 'UNKNOWN')
    const result = await promise
    expect(result.mode).toBe('ENHANCED')
    expect(result.startedScan).toBe(false)
    expect(log.join('\n')).toContain('"max-scan-age" does not apply')
  })

  it('fails with the fix when ECR refuses the restart (one basic scan per 24 hours)', async () => {
    staleScan(
      8 * DAY,
      awsError('LimitExceededException', 'The scan quota per image has been exceeded.')
    )
    await expect(wait(7 * DAY).promise).rejects.toThrow(
      /older than "max-scan-age" \(168h\), and ECR refused a new scan \(LimitExceededException.*raise "max-scan-age"/
    )
  })
})

describe('ecrClockNow', () => {
  it("adds the SDK's clock-skew offset (from ECR's Date header) to the local clock", () => {
    const before = Date.now()
    const skewed = { send: ecr.send.bind(ecr), config: { systemClockOffset: 8 * 24 * 3600 * 1000 } }
    expect(ecrClockNow(skewed) - before).toBeGreaterThanOrEqual(8 * 24 * 3600 * 1000)
    expect(Math.abs(ecrClockNow({ send: ecr.send.bind(ecr) }) - Date.now())).toBeLessThan(1000)
  })
})
