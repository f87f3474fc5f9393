import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getInputs, INPUT_NAMES } from '../../../../actions/scan-gate/src/inputs.js'

const saved = { ...process.env }
let workspace: string

function setInputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values))
    process.env[`INPUT_${name.toUpperCase()}`] = value
}

beforeEach(() => {
  for (const name of INPUT_NAMES) delete process.env[`INPUT_${name.toUpperCase()}`]
  workspace = mkdtempSync(join(tmpdir(), 'scan-gate-inputs-'))
  process.env['GITHUB_WORKSPACE'] = workspace
  process.env['AWS_REGION'] = 'us-east-1'
})

afterEach(() => {
  process.env = { ...saved }
})

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const DIGEST = `sha256:${'b'.repeat(64)}`

describe('getInputs', () => {
  it('applies the defaults', () => {
    setInputs({ image: `${HOST}/team/api:sha-1234567` })
    const inputs = getInputs()
    expect(inputs).toMatchObject({
      image: { registry: HOST, repository: 'team/api', tag: 'sha-1234567', digest: undefined },
      platform: 'linux/amd64',
      threshold: 'CRITICAL',
      ignoreUnfixed: false,
      failOnScanError: true,
      timeoutSeconds: 600,
      allowlist: undefined,
      sarifFile: undefined,
      reportFile: undefined,
      dockerfile: 'Dockerfile',
      settleSeconds: undefined,
      maxScanAgeSeconds: 7 * 24 * 3600
    })
    expect(inputs.auth.region).toBe('us-east-1')
  })

  it.each([
    [`${HOST}/team/api:sha-1`, { tag: 'sha-1' }],
    [`${HOST}/team/api@${DIGEST}`, { digest: DIGEST }],
    ['api:v1', { repository: 'api', tag: 'v1', registry: undefined }],
    ['127.0.0.1:5001/api:v1', { registry: '127.0.0.1:5001', repository: 'api' }]
  ])('accepts %s', (image, expected) => {
    setInputs({ image })
    expect(getInputs().image).toMatchObject(expected)
  })

  it('reads every option and resolves report paths in the workspace', () => {
    writeFileSync(join(workspace, 'allow.yml'), '- {id: CVE-1, reason: r, expires: 2030-01-01}\n')
    setInputs({
      image: 'api:v1',
      platform: 'ALL',
      'severity-threshold': 'high',
      'ignore-unfixed': 'true',
      allowlist: 'allow.yml',
      'fail-on-scan-error': 'false',
      timeout: '90s',
      'settle-time': '30s',
      'max-scan-age': '48h',
      'sarif-file': 'out/scan.sarif',
      'report-file': join(workspace, 'reports/report.json'),
      dockerfile: 'docker/api.Dockerfile'
    })
    expect(getInputs()).toMatchObject({
      platform: 'all',
      threshold: 'HIGH',
      ignoreUnfixed: true,
      failOnScanError: false,
      timeoutSeconds: 90,
      settleSeconds: 30,
      maxScanAgeSeconds: 48 * 3600,
      allowlist: { file: 'allow.yml', entries: [{ id: 'CVE-1' }] },
      sarifFile: join(workspace, 'out/scan.sarif'),
      reportFile: join(workspace, 'reports/report.json'),
      dockerfile: 'docker/api.Dockerfile'
    })
  })

  it.each([
    [
      {},
      /^input "image" is required but was empty\. Pass the image-uri or image-ref output of build-tag-push/
    ],
    [
      { image: 'api' },
      /^input "image": "api" has neither a tag nor a digest\. Name the exact image/
    ],
    [{ image: 'API:v1' }, /^input "image": "API:v1" is not a valid image reference/],
    [
      { image: 'api:v1', 'severity-threshold': 'SEVERE' },
      /^input "severity-threshold": expected one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED, NONE, got "SEVERE"/
    ],
    [
      { image: 'api:v1', platform: 'amd64' },
      /^input "platform": expected os\/arch\[\/variant\] or "all"/
    ],
    [{ image: 'api:v1', timeout: 'ten minutes' }, /^input "timeout": expected a duration/],
    [{ image: 'api:v1', timeout: '0' }, /^input "timeout": duration 0s is out of range/],
    [
      { image: 'api:v1', timeout: '60s', 'settle-time': '60s' },
      /^input "settle-time": 60s leaves no time for the scan within "timeout" \(60s\)/
    ],
    [{ image: 'api:v1', 'settle-time': 'soon' }, /^input "settle-time": expected a duration/],
    [
      { image: 'api:v1', 'max-scan-age': '12h' },
      /^input "max-scan-age": duration 43200s is out of range\. Use a value of at least 86400s/
    ],
    [
      { image: 'api:v1', 'ignore-unfixed': 'yes' },
      /^input "ignore-unfixed": expected true or false/
    ],
    [
      { image: 'api:v1', dockerfile: '../Dockerfile' },
      /^input "dockerfile": "\.\.\/Dockerfile" must be a path inside the repository/
    ],
    [
      { image: 'api:v1', allowlist: 'missing.yml' },
      /^input "allowlist": file "missing\.yml" does not exist/
    ],
    [
      { image: 'api:v1', allowlist: '/etc/passwd' },
      /^input "allowlist": "\/etc\/passwd" resolves to .* outside the workspace/
    ],
    [
      { image: 'api:v1', 'sarif-file': '../escape.sarif' },
      /^input "sarif-file": "\.\.\/escape\.sarif" resolves to .* outside the workspace/
    ],
    [
      { image: 'api:v1', 'report-file': '/tmp/report.json' },
      /^input "report-file": .* outside the workspace/
    ],
    [
      { image: `${HOST.replace('us-east-1', 'eu-west-1')}/api:v1` },
      /^input "aws-region" is us-east-1, but the image's registry .* is in eu-west-1\. Set "aws-region: eu-west-1"/
    ]
  ])('rejects %j', (values, message) => {
    setInputs(values)
    expect(() => getInputs()).toThrow(message)
  })

  it('rejects an allowlist entry without expiry, naming the file and the entry', () => {
    writeFileSync(join(workspace, 'allow.yml'), '- {id: CVE-2024-1, reason: accepted}\n')
    setInputs({ image: 'api:v1', allowlist: 'allow.yml' })
    expect(() => getInputs()).toThrow(
      'input "allowlist": allow.yml entry 1 (CVE-2024-1) has no "expires"'
    )
  })

  it('rejects malformed allowlist YAML with its position', () => {
    writeFileSync(join(workspace, 'allow.yml'), '- id: CVE-1\n  reason: "unterminated\n')
    setInputs({ image: 'api:v1', allowlist: 'allow.yml' })
    expect(() => getInputs()).toThrow(
      /^input "allowlist": allow\.yml: invalid YAML at line \d+, column \d+/
    )
  })
})
