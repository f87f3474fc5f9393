import { describe, expect, it } from '@jest/globals'
import { formatPlatform, platformMatches } from '@shipline/oci'

describe('platformMatches', () => {
  it.each([
    // the default variant of arm64 (v8) and amd64 (v1) is what an index entry without a variant means
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm64/v8', 'linux/arm64/v8', true],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64', 'linux/arm64', true],
    ['linux/amd64/v1', 'linux/amd64', true],
    ['linux/aarch64', 'linux/arm64/v8', true],
    ['LINUX/ARM64/V8', 'linux/arm64', true],
    // a variant that is not the default must be equal
    ['linux/arm64/v7', 'linux/arm64/v8', false],
    ['linux/arm64/v9', 'linux/arm64', false],
    ['linux/amd64/v3', 'linux/amd64', false],
    ['linux/amd64', 'linux/amd64/v3', true],
    ['linux/arm/v7', 'linux/arm', true],
    ['linux/arm/v6', 'linux/arm', false],
    ['linux/arm', 'linux/arm/v6', true],
    ['linux/amd64', 'linux/arm64', false],
    ['windows/amd64', 'linux/amd64', false],
    ['linux/amd64', undefined, false]
  ])('%s matches %s: %s', (wanted, actual, expected) => {
    expect(platformMatches(wanted, actual)).toBe(expected)
  })

  it('formats the normalised platform', () => {
    expect(formatPlatform('linux/arm64/v8')).toBe('linux/arm64')
    expect(formatPlatform('linux/x86_64')).toBe('linux/amd64')
    expect(formatPlatform('linux/arm/v6')).toBe('linux/arm/v6')
  })
})
