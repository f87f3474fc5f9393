import { describe, expect, it } from '@jest/globals'
import type { ServiceDeployment } from '@aws-sdk/client-ecs'
import {
  stageReached,
  StageWatcher,
  strategyConfiguration,
  type StrategyRequest
} from '../../../../packages/ecs/src/index.js'

const none: StrategyRequest = {
  strategy: 'auto',
  bakeTimeMinutes: undefined,
  canary: undefined,
  linear: undefined
}

describe('strategyConfiguration', () => {
  const current = {
    deploymentCircuitBreaker: { enable: true, rollback: true },
    maximumPercent: 200,
    strategy: 'BLUE_GREEN' as const,
    bakeTimeInMinutes: 5,
    lifecycleHooks: [{ targetType: 'PAUSE' as const, lifecycleStages: ['POST_SCALE_UP' as const] }],
    canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 }
  }

  it('sends nothing for auto and for settings the service already has', () => {
    expect(strategyConfiguration(current, none)).toBeUndefined()
    expect(
      strategyConfiguration(current, { ...none, strategy: 'blue-green', bakeTimeMinutes: 5 })
    ).toBeUndefined()
  })

  it('keeps hooks, circuit breaker and the other fields while changing the strategy', () => {
    const next = strategyConfiguration(current, {
      ...none,
      strategy: 'canary',
      canary: { percent: 20, intervalMinutes: undefined }
    })
    expect(next).toEqual({
      ...current,
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 10 }
    })
  })

  it('asks for bake-time when a service first switches to an ECS-native strategy', () => {
    expect(() =>
      strategyConfiguration(
        { maximumPercent: 200 },
        { ...none, strategy: 'linear', linear: { stepPercent: 10, intervalMinutes: 1 } }
      )
    ).toThrow(/bake-time/)
  })
})

describe('StageWatcher', () => {
  it('prints each stage as it starts and ends, with the traffic split, and records durations', () => {
    let now = 0
    const lines: string[] = []
    const w = new StageWatcher(
      (m) => lines.push(m),
      () => now
    )
    const sd = (stage: string, weight: number): ServiceDeployment => ({
      lifecycleStage: stage as never,
      targetServiceRevision: { requestedProductionTrafficWeight: weight },
      sourceServiceRevisions: [{ requestedProductionTrafficWeight: 100 - weight }]
    })
    expect(w.observe(sd('SCALE_UP', 0))).toBe(true)
    now = 4000
    expect(w.observe(sd('SCALE_UP', 0))).toBe(false)
    w.observe(sd('PRODUCTION_TRAFFIC_SHIFT', 10))
    now = 65_000
    w.observe(sd('PRODUCTION_TRAFFIC_SHIFT', 100))
    w.finish()
    expect(lines).toEqual([
      'stage SCALE_UP started (production traffic: new 0% / old 100%)',
      'stage SCALE_UP ended after 4s (production traffic: new 10% / old 90%)',
      'stage PRODUCTION_TRAFFIC_SHIFT started (production traffic: new 10% / old 90%)',
      'stage PRODUCTION_TRAFFIC_SHIFT: production traffic: new 100% / old 0%'
    ])
    expect(w.records).toEqual([
      { stage: 'SCALE_UP', startedAt: 0, endedAt: 4000, trafficPercent: 0 },
      { stage: 'PRODUCTION_TRAFFIC_SHIFT', startedAt: 4000, endedAt: 65_000, trafficPercent: 100 }
    ])
  })

  it('orders stages', () => {
    expect(stageReached('BAKE_TIME', 'POST_TEST_TRAFFIC_SHIFT')).toBe(true)
    expect(stageReached('SCALE_UP', 'POST_TEST_TRAFFIC_SHIFT')).toBe(false)
    expect(stageReached(undefined, 'SCALE_UP')).toBe(false)
  })
})
