import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../../helpers/runner.js'

const CHANGELOG = `# Changelog

## [Unreleased]

## [1.2.0] - 2026-12-01

### Added

- \`wait-until: stable\`.

## [1.1.0] - 2026-11-01

### Fixed

- A fix.

## [1.0.0] - 2026-10-01

[1.2.0]: https://github.com/shipline/shipline/compare/v1.1.0...v1.2.0
`

function notes(version: string, text = CHANGELOG): ReturnType<typeof spawnSync> {
  const dir = mkdtempSync(join(tmpdir(), 'changelog-'))
  writeFileSync(join(dir, 'CHANGELOG.md'), text)
  return spawnSync(
    process.execPath,
    [join(REPO_ROOT, '.github/scripts/changelog-notes.mjs'), version, join(dir, 'CHANGELOG.md')],
    { encoding: 'utf8' }
  )
}

describe('changelog-notes (the release notes of one version)', () => {
  it('prints exactly the section of the version, with or without the v', () => {
    for (const version of ['v1.2.0', '1.2.0']) {
      const result = notes(version)
      expect(result.status).toBe(0)
      expect(result.stdout).toBe('### Added\n\n- `wait-until: stable`.\n')
    }
    expect(notes('v1.1.0').stdout).toBe('### Fixed\n\n- A fix.\n')
  })

  it('fails for a version without a section, or with an empty one', () => {
    const missing = notes('v9.9.9')
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('has no notes for v9.9.9')
    expect(notes('v1.0.0').status).toBe(1)
  })

  it('refuses a version that is not X.Y.Z', () => {
    expect(notes('latest').status).toBe(2)
  })

  it('CHANGELOG.md follows the convention: an Unreleased section and dated X.Y.Z sections', () => {
    const result = spawnSync('grep', ['-E', '^## \\[', join(REPO_ROOT, 'CHANGELOG.md')], {
      encoding: 'utf8'
    })
    const headings = result.stdout.trim().split('\n')
    expect(headings[0]).toBe('## [Unreleased]')
    for (const heading of headings.slice(1))
      expect(heading).toMatch(/^## \[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}$/)
  })
})
