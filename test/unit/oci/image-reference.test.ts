import { describe, expect, it } from '@jest/globals'
import {
  formatImageReference,
  parseImageReference,
  withDigest
} from '../../../packages/oci/src/image-reference.js'

const D = `sha256:${'a'.repeat(64)}`

describe('parseImageReference', () => {
  it.each([
    ['nginx', { registry: undefined, repository: 'nginx', tag: undefined, digest: undefined }],
    [
      'team/api:1.2',
      { registry: undefined, repository: 'team/api', tag: '1.2', digest: undefined }
    ],
    [
      '127.0.0.1:5001/shop/api:abc1234',
      { registry: '127.0.0.1:5001', repository: 'shop/api', tag: 'abc1234', digest: undefined }
    ],
    [
      'localhost/app',
      { registry: 'localhost', repository: 'app', tag: undefined, digest: undefined }
    ],
    [
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1@${D}`,
      {
        registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        repository: 'api',
        tag: 'v1',
        digest: D
      }
    ],
    [
      `registry.example.com:8443/a/b/c@${D}`,
      { registry: 'registry.example.com:8443', repository: 'a/b/c', tag: undefined, digest: D }
    ]
  ])('parses %s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected)
  })

  it.each([
    ['', /empty/],
    ['Api:1', /lowercase/],
    ['api:', /tag ""/],
    ['api:-bad', /tag "-bad"/],
    ['api@sha256:abc', /digest/],
    ['reg.io/', /missing/],
    ['a b', /white space/],
    [`api:${'x'.repeat(129)}`, /tag/]
  ])('rejects %s', (text, message) => {
    expect(() => parseImageReference(text)).toThrow(message)
  })

  it('round-trips and re-addresses by digest', () => {
    const ref = parseImageReference('127.0.0.1:5001/shop/api:abc1234')
    expect(formatImageReference(ref)).toBe('127.0.0.1:5001/shop/api:abc1234')
    expect(withDigest(ref, D)).toBe(`127.0.0.1:5001/shop/api@${D}`)
  })
})
