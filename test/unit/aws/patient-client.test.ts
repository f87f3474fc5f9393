import { describe, expect, it } from '@jest/globals'
import { operationName, patientClient } from '../../../packages/aws/src/patient-client.js'
import { DescribeImagesCommand } from '@aws-sdk/client-ecr'

function throttle(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 }
  })
}

function fakeClock() {
  let now = 0
  const sleeps: number[] = []
  return {
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms)
      now += ms
      return Promise.resolve()
    },
    sleeps
  }
}

describe('patientClient', () => {
  it('sends a call again after the SDK gave up on a transient failure, until it succeeds', async () => {
    const clock = fakeClock()
    const answers: Array<() => Promise<string>> = [
      () => Promise.reject(throttle()),
      () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
      () => Promise.resolve('ok')
    ]
    const client = {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      send: (_command: unknown) => (answers.shift() as () => Promise<string>)(),
      other: 42
    }
    const logs: string[] = []
    const patient = patientClient(client, {
      budgetMs: 60_000,
      ...clock,
      random: () => 0.5,
      log: (m) => logs.push(m)
    })
    await expect(patient.send(new DescribeImagesCommand({ repositoryName: 'app' }))).resolves.toBe(
      'ok'
    )
    expect(clock.sleeps).toHaveLength(2)
    expect(logs[0]).toMatch(
      /^DescribeImages failed transiently \(ThrottlingException\); trying again in/
    )
    expect(patient.other).toBe(42)
  })

  it('gives up with the last error once the budget is spent', async () => {
    const clock = fakeClock()
    let calls = 0
    const client = {
      send: () => {
        calls++
        return Promise.reject(throttle())
      }
    }
    const patient = patientClient(client, { budgetMs: 10_000, ...clock, log: () => undefined })
    await expect(patient.send()).rejects.toThrow('Rate exceeded')
    expect(calls).toBeGreaterThan(2)
    expect(clock.now()).toBeLessThanOrEqual(10_000)
  })

  it('never repeats a call that failed for a non-transient reason', async () => {
    const clock = fakeClock()
    let calls = 0
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 }
    })
    const client = {
      send: () => {
        calls++
        return Promise.reject(denied)
      }
    }
    await expect(
      patientClient(client, { budgetMs: 60_000, ...clock, log: () => undefined }).send()
    ).rejects.toBe(denied)
    expect(calls).toBe(1)
    expect(clock.sleeps).toEqual([])
  })

  it('names the operation from the command schema (which survives minification)', () => {
    expect(operationName(new DescribeImagesCommand({ repositoryName: 'app' }))).toBe(
      'DescribeImages'
    )
    expect(operationName({})).toBe('The AWS call')
  })
})
