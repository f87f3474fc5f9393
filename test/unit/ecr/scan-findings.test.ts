import { describe, expect, it } from '@jest/globals'
import {
  countBySeverity,
  findingsFingerprint,
  normalizeBasicFinding,
  normalizeEnhancedFinding,
  normalizeFindings,
  normalizeSeverity
} from '../../../packages/ecr/src/scan-findings.js'
import { basicFinding, enhancedFinding } from '../../fixtures/scan-gate/findings.js'

describe('normalizeSeverity', () => {
  it.each([
    ['CRITICAL', 'CRITICAL'],
    ['high', 'HIGH'],
    [' Medium ', 'MEDIUM'],
    ['LOW', 'LOW'],
    ['INFORMATIONAL', 'INFORMATIONAL'],
    ['UNTRIAGED', 'UNDEFINED'],
    ['UNDEFINED', 'UNDEFINED'],
    ['', 'UNDEFINED'],
    [undefined, 'UNDEFINED']
  ])('%s → %s', (input, expected) => {
    expect(normalizeSeverity(input)).toBe(expected)
  })
})

describe('normalizeBasicFinding', () => {
  it('takes the id from name and the package from attributes', () => {
    expect(normalizeBasicFinding(basicFinding('CVE-2023-0001', 'HIGH', 'zlib', '1.2.11'))).toEqual({
      id: 'CVE-2023-0001',
      severity: 'HIGH',
      package: 'zlib',
      installedVersion: '1.2.11',
      description: 'CVE-2023-0001 in zlib',
      uri: 'https://security-tracker.debian.org/tracker/CVE-2023-0001',
      score: 7.5,
      source: 'basic'
    })
  })
})

describe('normalizeEnhancedFinding', () => {
  it('maps vulnerabilityId, package, versions and the fix', () => {
    const [f] = normalizeEnhancedFinding(
      enhancedFinding('CVE-2024-1', 'CRITICAL', {
        pkg: 'glibc',
        version: '2.35',
        fixedInVersion: '2.35-0ubuntu3.5',
        fixAvailable: 'YES',
        score: 9.8
      })
    )
    expect(f).toMatchObject({
      id: 'CVE-2024-1',
      severity: 'CRITICAL',
      package: 'glibc',
      installedVersion: '2.35',
      fixedVersion: '2.35-0ubuntu3.5',
      fixAvailable: true,
      score: 9.8,
      uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-1',
      source: 'enhanced'
    })
  })

  it('keeps UNTRIAGED as the reported severity and normalises it to UNDEFINED', () => {
    const [f] = normalizeEnhancedFinding(enhancedFinding('CVE-2024-2', 'UNTRIAGED'))
    expect(f?.severity).toBe('UNDEFINED')
    expect(f?.reportedSeverity).toBe('UNTRIAGED')
  })

  it('marks fixAvailable NO and NotAvailable versions as unfixed', () => {
    expect(
      normalizeEnhancedFinding(enhancedFinding('CVE-2024-3', 'HIGH', { fixAvailable: 'NO' }))[0]
        ?.fixAvailable
    ).toBe(false)
    expect(
      normalizeEnhancedFinding(
        enhancedFinding('CVE-2024-4', 'HIGH', { fixedInVersion: 'NotAvailable' })
      )[0]?.fixAvailable
    ).toBe(false)
    expect(
      normalizeEnhancedFinding(enhancedFinding('CVE-2024-5', 'HIGH'))[0]?.fixAvailable
    ).toBeUndefined()
  })

  it('expands one entry per vulnerable package', () => {
    const entries = normalizeEnhancedFinding(
      enhancedFinding('CVE-2024-6', 'HIGH', {
        packages: [
          { name: 'libssl3', version: '3.0.2', fixedInVersion: '3.0.13' },
          { name: 'openssl', version: '3.0.2' }
        ]
      })
    )
    expect(entries.map((e) => [e.package, e.fixedVersion])).toEqual([
      ['libssl3', '3.0.13'],
      ['openssl', undefined]
    ])
  })
})

describe('counting and fingerprints', () => {
  it('counts every finding of every page, sorted most severe first', () => {
    const findings = normalizeFindings(
      [basicFinding('CVE-1', 'LOW'), basicFinding('CVE-2', 'CRITICAL')],
      [
        enhancedFinding('CVE-3', 'HIGH'),
        enhancedFinding('CVE-4', 'UNTRIAGED'),
        enhancedFinding('CVE-5', 'HIGH')
      ]
    )
    expect(findings.map((f) => f.id)).toEqual(['CVE-2', 'CVE-3', 'CVE-5', 'CVE-1', 'CVE-4'])
    expect(countBySeverity(findings)).toEqual({
      CRITICAL: 1,
      HIGH: 2,
      MEDIUM: 0,
      LOW: 1,
      INFORMATIONAL: 0,
      UNDEFINED: 1
    })
  })

  it('gives the same fingerprint whatever the order, and a different one when a finding changes', () => {
    const a = normalizeFindings(
      [],
      [enhancedFinding('CVE-1', 'HIGH'), enhancedFinding('CVE-2', 'LOW')]
    )
    const b = [...a].reverse()
    expect(findingsFingerprint(b)).toBe(findingsFingerprint(a))
    const c = normalizeFindings(
      [],
      [enhancedFinding('CVE-1', 'CRITICAL'), enhancedFinding('CVE-2', 'LOW')]
    )
    expect(findingsFingerprint(c)).not.toBe(findingsFingerprint(a))
  })
})
