import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  daysUntil,
  isExpired,
  isValidDate,
  loadAllowlist,
  parseAllowlist
} from '../../../../actions/scan-gate/src/allowlist.js'

const FILE = '.github/scan-allowlist.yml'

describe('parseAllowlist', () => {
  it('reads a list of entries, package optional', () => {
    const text = [
      '- id: CVE-2024-0001',
      '  reason: only reachable through a TIFF parser we never call',
      '  expires: 2026-12-31',
      '  package: libtiff',
      '- {id: GHSA-xxxx-yyyy-zzzz, reason: "dev-only dependency", expires: "2027-01-15"}'
    ].join('\n')
    expect(parseAllowlist(text, FILE).entries).toEqual([
      {
        id: 'CVE-2024-0001',
        reason: 'only reachable through a TIFF parser we never call',
        expires: '2026-12-31',
        package: 'libtiff',
        index: 1
      },
      { id: 'GHSA-xxxx-yyyy-zzzz', reason: 'dev-only dependency', expires: '2027-01-15', index: 2 }
    ])
  })

  it('accepts the list under an allowlist: key, and an empty file', () => {
    expect(
      parseAllowlist('allowlist:\n  - {id: CVE-1, reason: r, expires: 2026-01-01}\n', FILE).entries
    ).toHaveLength(1)
    expect(parseAllowlist('', FILE).entries).toEqual([])
  })

  it.each([
    [
      '- {id: CVE-2024-1, reason: accepted}',
      /entry 1 \(CVE-2024-1\) has no "expires"\. Every exception must expire/
    ],
    ['- {id: CVE-2024-1, expires: 2026-01-01}', /entry 1 \(CVE-2024-1\) has no "reason"/],
    ['- {id: CVE-2024-1, reason: "  ", expires: 2026-01-01}', /has no "reason"/],
    ['- {reason: r, expires: 2026-01-01}', /entry 1 has no "id"/],
    [
      '- {id: CVE-2024-1, reason: r, expires: 2026-02-30}',
      /has "expires: 2026-02-30", which is not a date\. Write the date as YYYY-MM-DD/
    ],
    ['- {id: CVE-2024-1, reason: r, expires: 31/12/2026}', /which is not a date/],
    [
      '- {id: CVE-2024-1, reason: r, expires: 2026-01-01, expiry: 2027-01-01}',
      /has an unknown key "expiry"/
    ],
    [
      '- {id: CVE-2024-1, reason: r, expires: 2026-01-01, package: ""}',
      /empty or non-text "package"/
    ],
    ['- CVE-2024-1', /entry 1 is not a mapping/],
    ['id: CVE-1', /must be a YAML list of entries/],
    [
      '- id: CVE-1\n  reason: [unclosed',
      /\.github\/scan-allowlist\.yml: invalid YAML at line \d+, column \d+/
    ]
  ])('%j is rejected naming the file and the entry', (text, message) => {
    expect(() => parseAllowlist(text, FILE)).toThrow(message)
    expect(() => parseAllowlist(text, FILE)).toThrow(/^input "allowlist": /)
  })

  it('names the right entry when a later one is bad', () => {
    const text = '- {id: CVE-1, reason: r, expires: 2026-01-01}\n- {id: CVE-2, reason: r}\n'
    expect(() => parseAllowlist(text, FILE)).toThrow(
      `input "allowlist": ${FILE} entry 2 (CVE-2) has no "expires"`
    )
  })
})

describe('dates', () => {
  it.each([
    ['2026-12-31', true],
    ['2024-02-29', true],
    ['2023-02-29', false],
    ['2026-13-01', false],
    ['2026-1-01', false]
  ])('isValidDate(%s) = %s', (text, expected) => {
    expect(isValidDate(text)).toBe(expected)
  })

  it('an entry still suppresses on its expiry day and stops the day after', () => {
    expect(isExpired({ expires: '2026-06-30' }, '2026-06-30')).toBe(false)
    expect(isExpired({ expires: '2026-06-30' }, '2026-07-01')).toBe(true)
    expect(daysUntil('2026-07-03', '2026-06-30')).toBe(3)
  })
})

describe('loadAllowlist', () => {
  it('reads a file relative to the workspace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'allowlist-'))
    writeFileSync(join(dir, 'allow.yml'), '- {id: CVE-1, reason: r, expires: 2026-01-01}\n')
    expect(loadAllowlist('allow.yml', dir).entries[0]?.id).toBe('CVE-1')
  })

  it('names the input and the path when the file is missing', () => {
    expect(() => loadAllowlist('missing.yml', tmpdir())).toThrow(
      /^input "allowlist": file "missing\.yml" does not exist/
    )
  })
})
