import { describe, expect, it } from '@jest/globals'
import type { NormalizedFinding } from '@shipline/ecr'
import { evaluateGate } from '../../../../actions/scan-gate/src/gate.js'
import { buildSarif, sarifLevel } from '../../../../actions/scan-gate/src/sarif.js'
import { sarifValidator } from '../../../fixtures/scan-gate/sarif-schema.js'

const validate = sarifValidator()
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
  uri: `https://nvd.nist.gov/vuln/detail/${id}`,
  description: `Description of ${id}`,
  ...extra
})
const context = {
  reference: 'team/api:sha-1',
  repositoryName: 'team/api',
  dockerfile: 'docker/api Dockerfile',
  toolVersion: 'v1.2.3'
}

type Sarif = {
  version: string
  runs: {
    tool: {
      driver: { rules: { id: string; properties: Record<string, unknown>; helpUri?: string }[] }
    }
    results: {
      ruleId: string
      ruleIndex: number
      level: string
      partialFingerprints: Record<string, string>
      suppressions?: { justification: string }[]
      locations: { physicalLocation: { artifactLocation: { uri: string } } }[]
    }[]
  }[]
}

function gateOf(findings: NormalizedFinding[]) {
  return evaluateGate([{ digest: 'sha256:abc', findings }], {
    threshold: 'CRITICAL',
    ignoreUnfixed: false,
    allowlist: [{ id: 'CVE-4', reason: 'reviewed', expires: '2099-01-01', index: 1 }],
    today: '2026-06-15'
  })
}

describe('buildSarif', () => {
  const findings = [
    f('CVE-1', 'CRITICAL', { score: 9.8 }),
    f('CVE-2', 'HIGH'),
    f('CVE-2', 'MEDIUM', { package: 'libssl3' }),
    f('CVE-3', 'LOW', { uri: 'not a url' }),
    f('CVE-4', 'INFORMATIONAL'),
    f('CVE-5', 'UNDEFINED', { description: undefined })
  ]
  const sarif = buildSarif(gateOf(findings), context) as unknown as Sarif

  it('validates against the SARIF 2.1.0 schema', () => {
    const ok = validate(sarif)
    expect(validate.errors ?? []).toEqual([])
    expect(ok).toBe(true)
  })

  it('contains every finding of every severity, below the threshold too', () => {
    const run = sarif.runs[0]
    expect(run?.results.map((r) => r.ruleId)).toEqual([
      'CVE-1',
      'CVE-2',
      'CVE-2',
      'CVE-3',
      'CVE-4',
      'CVE-5'
    ])
    expect(run?.results.map((r) => r.level)).toEqual([
      'error',
      'error',
      'warning',
      'note',
      'note',
      'note'
    ])
  })

  it('has one rule per vulnerability with the worst severity as security-severity', () => {
    const rules = sarif.runs[0]?.tool.driver.rules ?? []
    expect(rules.map((r) => [r.id, r.properties['security-severity']])).toEqual([
      ['CVE-1', '9.5'],
      ['CVE-2', '8.0'],
      ['CVE-3', '2.0'],
      ['CVE-4', '0.0'],
      ['CVE-5', '0.0']
    ])
    const results = sarif.runs[0]?.results ?? []
    for (const r of results) expect(rules[r.ruleIndex]?.id).toBe(r.ruleId)
    expect(rules.find((r) => r.id === 'CVE-3')?.helpUri).toBeUndefined()
  })

  it('locates results in the Dockerfile, fingerprints them stably and records suppressions', () => {
    const results = sarif.runs[0]?.results ?? []
    expect(results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      'docker/api%20Dockerfile'
    )
    const prints = results.map((r) => r.partialFingerprints['shiplineScanFinding/v1'])
    expect(new Set(prints).size).toBe(results.length)
    const again = buildSarif(gateOf(findings.map((x) => ({ ...x }))), context) as unknown as Sarif
    expect(
      again.runs[0]?.results.map((r) => r.partialFingerprints['shiplineScanFinding/v1'])
    ).toEqual(prints)
    expect(results.find((r) => r.ruleId === 'CVE-4')?.suppressions?.[0]?.justification).toBe(
      'allowlisted until 2099-01-01: reviewed'
    )
  })

  it('is still valid with no findings', () => {
    expect(validate(buildSarif(gateOf([]), context))).toBe(true)
  })

  it('the validator rejects a broken log (the check can fail)', () => {
    const broken = JSON.parse(JSON.stringify(sarif)) as {
      version: string
      runs: { results: { message?: unknown }[] }[]
    }
    delete broken.runs[0]?.results[0]?.message
    expect(validate(broken)).toBe(false)
    expect(validate({ ...sarif, version: '2.0.0' })).toBe(false)
  })

  it.each([
    ['CRITICAL', 'error'],
    ['HIGH', 'error'],
    ['MEDIUM', 'warning'],
    ['LOW', 'note']
  ] as const)('%s → level %s', (severity, level) => {
    expect(sarifLevel(severity)).toBe(level)
  })
})
