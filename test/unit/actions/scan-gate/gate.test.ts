import { describe, expect, it } from '@jest/globals'
import type { NormalizedFinding } from '@shipline/ecr'
import type { AllowlistEntry } from '../../../../actions/scan-gate/src/allowlist.js'
import {
  evaluateGate,
  meetsThreshold,
  type GatePolicy
} from '../../../../actions/scan-gate/src/gate.js'

const f = (
  id: string,
  severity: NormalizedFinding['severity'],
  extra: Partial<NormalizedFinding> = {}
): NormalizedFinding => ({
  id,
  severity,
  package: 'openssl',
  installedVersion: '3.0.2',
  source: 'enhanced',
  ...extra
})
const entry = (
  id: string,
  expires: string,
  extra: Partial<AllowlistEntry> = {}
): AllowlistEntry => ({
  id,
  reason: 'reviewed by security',
  expires,
  index: 1,
  ...extra
})
const policy = (p: Partial<GatePolicy> = {}): GatePolicy => ({
  threshold: 'HIGH',
  ignoreUnfixed: false,
  allowlist: [],
  today: '2026-06-15',
  ...p
})
const image = (findings: NormalizedFinding[]) => [{ digest: 'sha256:abc', findings }]

describe('meetsThreshold', () => {
  it.each([
    ['CRITICAL', 'HIGH', true],
    ['HIGH', 'HIGH', true],
    ['MEDIUM', 'HIGH', false],
    ['CRITICAL', 'NONE', false],
    ['UNDEFINED', 'INFORMATIONAL', false],
    ['UNDEFINED', 'UNDEFINED', true],
    ['INFORMATIONAL', 'LOW', false]
  ] as const)('%s at threshold %s → %s', (severity, threshold, expected) => {
    expect(meetsThreshold(severity, threshold)).toBe(expected)
  })
})

describe('evaluateGate', () => {
  it('threshold HIGH with one HIGH finding fails; lower findings are counted but do not block', () => {
    const gate = evaluateGate(
      image([f('CVE-1', 'HIGH'), f('CVE-2', 'MEDIUM'), f('CVE-3', 'LOW')]),
      policy()
    )
    expect(gate.passed).toBe(false)
    expect(gate.blocking.map((b) => b.id)).toEqual(['CVE-1'])
    expect(gate.counts).toMatchObject({ HIGH: 1, MEDIUM: 1, LOW: 1 })
  })

  it('a valid allowlist entry suppresses it and lists it as suppressed', () => {
    const e = entry('cve-1', '2026-12-31')
    const gate = evaluateGate(image([f('CVE-1', 'HIGH')]), policy({ allowlist: [e] }))
    expect(gate.passed).toBe(true)
    expect(gate.suppressed).toHaveLength(1)
    expect(gate.suppressed[0]?.suppression).toEqual({ kind: 'allowlist', entry: e })
    expect(gate.unusedEntries).toEqual([])
  })

  it('an expired entry stops suppressing and is reported as expired', () => {
    const e = entry('CVE-1', '2026-06-14')
    const gate = evaluateGate(image([f('CVE-1', 'HIGH')]), policy({ allowlist: [e] }))
    expect(gate.passed).toBe(false)
    expect(gate.blocking[0]?.expiredEntry).toBe(e)
    expect(gate.expiredEntries).toEqual([{ entry: e, matched: true }])
  })

  it('an entry with a package only matches that package', () => {
    const e = entry('CVE-1', '2026-12-31', { package: 'zlib' })
    const gate = evaluateGate(
      image([f('CVE-1', 'HIGH'), f('CVE-1', 'HIGH', { package: 'zlib' })]),
      policy({ allowlist: [e] })
    )
    expect(gate.blocking.map((b) => b.package)).toEqual(['openssl'])
    expect(gate.suppressed.map((b) => b.package)).toEqual(['zlib'])
  })

  it('ignore-unfixed suppresses only findings without a fix', () => {
    const findings = [
      f('CVE-1', 'CRITICAL', { fixAvailable: false }),
      f('CVE-2', 'CRITICAL', { fixAvailable: true, fixedVersion: '3.0.13' }),
      f('CVE-3', 'CRITICAL')
    ]
    const gate = evaluateGate(image(findings), policy({ ignoreUnfixed: true }))
    expect(gate.blocking.map((b) => b.id)).toEqual(['CVE-2', 'CVE-3'])
    expect(gate.suppressed.map((b) => [b.id, b.suppression?.kind])).toEqual([['CVE-1', 'unfixed']])
    expect(evaluateGate(image(findings), policy()).blocking).toHaveLength(3)
  })

  it('NONE reports only', () => {
    const gate = evaluateGate(image([f('CVE-1', 'CRITICAL')]), policy({ threshold: 'NONE' }))
    expect(gate.passed).toBe(true)
    expect(gate.counts.CRITICAL).toBe(1)
  })

  it('reports unused and soon-expiring entries', () => {
    const soon = entry('CVE-1', '2026-06-18')
    const unused = entry('CVE-9', '2027-01-01')
    const gate = evaluateGate(image([f('CVE-1', 'HIGH')]), policy({ allowlist: [soon, unused] }))
    expect(gate.expiringSoon).toEqual([{ entry: soon, days: 3 }])
    expect(gate.unusedEntries).toEqual([unused])
  })

  it('gates the findings of every platform image', () => {
    const gate = evaluateGate(
      [
        { digest: 'sha256:1', platform: 'linux/amd64', findings: [f('CVE-1', 'LOW')] },
        { digest: 'sha256:2', platform: 'linux/arm64', findings: [f('CVE-2', 'CRITICAL')] }
      ],
      policy()
    )
    expect(gate.blocking.map((b) => [b.id, b.platform, b.digest])).toEqual([
      ['CVE-2', 'linux/arm64', 'sha256:2']
    ])
  })
})
