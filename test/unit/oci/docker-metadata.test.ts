import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseBuildxMetadata } from '@shipline/oci'
import { REPO_ROOT } from '../../helpers/runner.js'

const fixture = (name: string) =>
  readFileSync(join(REPO_ROOT, 'test/fixtures/build-tag-push', name), 'utf8')

describe('parseBuildxMetadata', () => {
  it('reads a single-manifest push', () => {
    expect(parseBuildxMetadata(fixture('buildx-metadata-manifest.json'))).toEqual({
      digest: 'sha256:7f3a1e2d4c5b6a79887766554433221100ffeeddccbbaa998877665544332211',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      configDigest: 'sha256:3c2f8a6e1e1d5b8d9c6a7e0b1f2d3c4b5a69788776655443322110ffeeddccbb'
    })
  })

  it('reads an index push (attestations or several platforms): the digest is the index', () => {
    expect(parseBuildxMetadata(fixture('buildx-metadata-index.json'))).toEqual({
      digest: 'sha256:aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233',
      mediaType: 'application/vnd.oci.image.index.v1+json',
      configDigest: undefined
    })
  })

  it('falls back to the descriptor digest', () => {
    const d = `sha256:${'e'.repeat(64)}`
    expect(
      parseBuildxMetadata(JSON.stringify({ 'containerimage.descriptor': { digest: d } })).digest
    ).toBe(d)
  })

  it.each([
    ['not JSON', 'not JSON'],
    ['null', 'empty'],
    ['{"buildx.build.ref":"x"}', 'nothing was pushed']
  ])('rejects %s', (text, message) => {
    expect(() => parseBuildxMetadata(text)).toThrow(message)
  })
})
