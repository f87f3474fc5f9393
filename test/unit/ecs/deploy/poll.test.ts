import { describe, expect, it } from '@jest/globals'
import { PollInterval, sleepUnlessAborted } from '../../../../packages/ecs/src/deploy/poll.js'

const options = { initialMs: 2000, maxMs: 15_000, factor: 1.5, jitter: 0.2 }

describe('PollInterval', () => {
  it('starts at 2 s, backs off by the factor while nothing changes, and caps at 15 s', () => {
    const poll = new PollInterval(options, () => 0.5)
    const waits = Array.from({ length: 10 }, () => poll.next('unchanged'))
    expect(waits[0]).toBe(3000)
    expect(Math.max(...waits)).toBe(15_000)
    for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThanOrEqual(waits[i - 1]!)
  })

  it('returns to the start when something changed', () => {
    const poll = new PollInterval(options, () => 0.5)
    for (let i = 0; i < 6; i++) poll.next('unchanged')
    expect(poll.next('changed')).toBe(2000)
  })

  it('doubles on throttling, up to twice the cap', () => {
    const poll = new PollInterval(options, () => 0.5)
    const waits = Array.from({ length: 8 }, () => poll.next('throttled'))
    expect(waits[0]).toBe(4000)
    expect(Math.max(...waits)).toBe(30_000)
  })

  it('jitters within ±20 %', () => {
    expect(new PollInterval(options, () => 0).next('changed')).toBe(1600)
    expect(new PollInterval(options, () => 0.999999).next('changed')).toBe(2400)
  })
})

describe('sleepUnlessAborted', () => {
  it('wakes early when the signal aborts', async () => {
    const controller = new AbortController()
    const started = Date.now()
    const sleeping = sleepUnlessAborted(60_000, controller.signal)
    controller.abort()
    await sleeping
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
