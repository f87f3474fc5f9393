import { describe, expect, it } from '@jest/globals'
import {
  buildFingerprint,
  differingInputs,
  formatFingerprint,
  parseFingerprint
} from '../../../../actions/build-tag-push/src/fingerprint.js'
import type { BuildInputs } from '../../../../actions/build-tag-push/src/inputs.js'

function build(workspace: string, overrides: Partial<BuildInputs> = {}): BuildInputs {
  return {
    context: `${workspace}/svc`,
    dockerfile: `${workspace}/svc/Dockerfile`,
    buildArgs: [
      { key: 'B', value: '2' },
      { key: 'A', value: 'hunter2-secret' }
    ],
    target: 'api',
    platforms: ['linux/arm64', 'linux/amd64'],
    ...overrides
  } as BuildInputs
}

describe('build-inputs fingerprint', () => {
  it('is the same on runners with other workspace paths and for reordered args and platforms', () => {
    const a = buildFingerprint(build('/home/runner/work/shop/shop'), '/home/runner/work/shop/shop')
    const b = buildFingerprint(
      build('/srv/ws', {
        buildArgs: [
          { key: 'A', value: 'hunter2-secret' },
          { key: 'B', value: '2' }
        ],
        platforms: ['linux/amd64', 'linux/arm64']
      }),
      '/srv/ws'
    )
    expect(a).toEqual(b)
  })

  it('round-trips through the label and never contains an input value', () => {
    const fp = buildFingerprint(build('/ws'), '/ws')
    const label = formatFingerprint(fp)
    expect(label).not.toMatch(/hunter2|svc|api|linux/)
    expect(parseFingerprint(label)).toEqual(fp)
    expect(parseFingerprint('v0;context=1')).toBeUndefined()
    expect(parseFingerprint(label.replace(/;target=\w+/, ''))).toBeUndefined()
  })

  it.each([
    [{ target: 'worker' }, ['target']],
    [{ dockerfile: '/ws/svc/Dockerfile.prod' }, ['dockerfile']],
    [{ context: '/ws/other' }, ['context']],
    [{ platforms: ['linux/amd64'] }, ['platforms']],
    [
      {
        buildArgs: [
          { key: 'A', value: 'other' },
          { key: 'B', value: '2' }
        ]
      },
      ['build-args']
    ],
    [{ buildArgs: [] }, ['build-args']]
  ])('names the differing input for %j', (overrides, expected) => {
    const base = buildFingerprint(build('/ws'), '/ws')
    expect(differingInputs(buildFingerprint(build('/ws', overrides), '/ws'), base)).toEqual(
      expected
    )
  })
})
