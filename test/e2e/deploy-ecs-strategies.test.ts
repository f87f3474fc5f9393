/**
 * deploy-ecs ECS-native strategies end to end: BLUE_GREEN, CANARY and LINEAR through the bundled action against
 * the local stack (lifecycle stages, Lambda and PAUSE hooks, ContinueServiceDeployment), with images pushed by the
 * real Docker engine.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs'
import type { SimStack } from '../../packages/sim/src/stack.js'
import { type E2eImages, EcsE2e } from '../helpers/ecs-e2e.js'
import { runAction, uniqueName } from '../helpers/runner.js'

jest.setTimeout(120_000)

const SPEED = 20
const e2e = new EcsE2e('deploy-ecs-strategies', ['good', 'good2', 'crash'], SPEED)
const { taskDefinition, service, currentTaskDefinition, deploy } = e2e
let stack: SimStack
let ecs: ECSClient
let images: E2eImages

beforeAll(async () => {
  await e2e.start()
  ;({ stack, ecs, images } = e2e)
})

afterAll(() => e2e.stop())

const FN = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

interface StageRow {
  stage: string
  duration: string
}

/** The summary's lifecycle-stage rows (stage name and duration). */
function stageRows(summary: string): StageRow[] {
  const rows: StageRow[] = []
  const re = /<tr><td>([A-Z_]+)<\/td><td>([^<]+)<\/td>/g
  for (let m = re.exec(summary); m; m = re.exec(summary))
    rows.push({ stage: m[1]!, duration: m[2]! })
  return rows.filter((r) => /^[A-Z]+(_[A-Z]+)*$/.test(r.stage) && /\d+(m|s)/.test(r.duration))
}

const STRATEGIES = [
  { strategy: 'blue-green', inputs: { strategy: 'blue-green', 'bake-time': '1m' } },
  {
    strategy: 'canary',
    inputs: {
      strategy: 'canary',
      'bake-time': '0',
      'canary-percent': '20',
      'canary-interval': '1m'
    }
  },
  {
    strategy: 'linear',
    inputs: {
      strategy: 'linear',
      'bake-time': '0',
      'linear-step-percent': '50',
      'linear-interval': '1m'
    }
  }
] as const

describe('deploy-ecs: ECS-native strategies', () => {
  for (const { strategy, inputs } of STRATEGIES) {
    it(`${strategy}: deploys through the lifecycle stages and shows them with durations`, async () => {
      const { name } = await service(1)
      const result = await deploy(name, taskDefinition(name, images.good2), inputs)
      expect(result.errors).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(result.outputs['status']).toBe('SUCCESSFUL')
      expect(result.log).toMatch(/stage [A-Z_]+ started/)
      expect(result.log).toMatch(/production traffic: new 100% \/ old 0%/)
      // canary 20% and linear 50% steps show as partial splits; blue-green shifts all at once
      expect(/production traffic: new (20|50)% \/ old (80|50)%/.test(result.log)).toBe(
        strategy !== 'blue-green'
      )
      expect(result.summary).toContain('Lifecycle stages')
      const rows = stageRows(result.summary)
      expect(rows.map((r) => r.stage)).toEqual(
        // Stages shorter than a poll interval pass unseen; the shifts and bake times here last a simulated minute.
        expect.arrayContaining([
          strategy === 'blue-green' ? 'BAKE_TIME' : 'PRODUCTION_TRAFFIC_SHIFT',
          'CLEAN_UP'
        ])
      )
      const svc = (
        await ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] }))
      ).services?.[0]
      expect(svc?.deploymentConfiguration).toMatchObject({
        strategy: strategy === 'blue-green' ? 'BLUE_GREEN' : strategy.toUpperCase(),
        // what the service had is kept
        deploymentCircuitBreaker: { enable: true, rollback: true }
      })
      expect(await currentTaskDefinition(name)).toBe(result.outputs['task-definition-arn'])
    })
  }

  it('blue-green: a crashing image fails fast and is ROLLED_BACK, naming the stage', async () => {
    const { name, v1 } = await service(2)
    const result = await deploy(name, taskDefinition(name, images.crash), {
      ...STRATEGIES[0].inputs,
      'max-failed-tasks': '2'
    })
    expect(result.exitCode).toBe(1)
    expect(result.outputs['status']).toBe('ROLLED_BACK')
    const message = result.errors.join('\n')
    expect(message).toMatch(/at stage (SCALE_UP|POST_SCALE_UP)/)
    expect(message).toMatch(/web exited 3|Essential container in task exited/)
    expect(result.summary).toContain('Lifecycle stages')
    expect(await currentTaskDefinition(name)).toBe(v1)
  })

  for (const [strategy, stage] of [
    ['canary', 'POST_TEST_TRAFFIC_SHIFT'],
    ['linear', 'POST_PRODUCTION_TRAFFIC_SHIFT']
  ] as const) {
    it(`${strategy}: a failing lifecycle hook at ${stage} rolls the deployment back, naming the hook and stage`, async () => {
      const fn = uniqueName('hook')
      await stack.admin.post('lambda/functions', {
        functionName: fn,
        // the service's first deployment (CreateService) passes the hook; ours fails it
        outcomes: ['SUCCEEDED', 'FAILED'],
        message: 'smoke test: 3 of 10 requests failed'
      })
      const { name, v1 } = await service(1, {
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          strategy: 'BLUE_GREEN',
          bakeTimeInMinutes: 0,
          lifecycleHooks: [
            {
              targetType: 'AWS_LAMBDA',
              hookTargetArn: FN(fn),
              roleArn: 'arn:aws:iam::123456789012:role/ecs-hooks',
              lifecycleStages: [stage]
            }
          ]
        }
      })
      const opts = STRATEGIES.find((s) => s.strategy === strategy)!.inputs
      const result = await deploy(name, taskDefinition(name, images.good2), opts)
      expect(result.exitCode).toBe(1)
      expect(result.outputs['status']).toBe('ROLLED_BACK')
      const message = result.errors.join('\n')
      expect(message).toContain(`at stage ${stage}`)
      expect(message).toContain(fn)
      expect(message).toContain('smoke test: 3 of 10 requests failed')
      expect(stageRows(result.summary).map((r) => r.stage)).toContain(stage)
      expect(await currentTaskDefinition(name)).toBe(v1)
      // the hooks stay as configured on the service
      const svc = (
        await ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] }))
      ).services?.[0]
      expect(svc?.deploymentConfiguration?.lifecycleHooks?.[0]?.hookTargetArn).toBe(FN(fn))
    })
  }

  it('strategy on a CODE_DEPLOY service is an input error before anything changes', async () => {
    const { name } = await service(1, {
      deploymentController: { type: 'CODE_DEPLOY' },
      deploymentConfiguration: {}
    })
    const since = stack.requestLog().at(-1)?.id ?? 0
    const result = await deploy(name, taskDefinition(name, images.good2), {
      strategy: 'canary',
      'bake-time': '0'
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors.join('\n')).toMatch(/"strategy".*CODE_DEPLOY/)
    const mutating = stack
      .requestLog({ sinceId: since })
      .filter((r) => /^(Register|Update|Create|Run|Stop|Continue)/.test(r.operation))
    expect(mutating).toEqual([])
  })

  it('wait-until <stage> returns PAUSED at that stage; continue-deployment: true finishes it, rollback rolls back', async () => {
    // A PAUSE hook added after the service's first deployment (which it would hold too).
    const withPauseHook = async (): Promise<{ name: string; v1: string }> => {
      const created = await service(1)
      await ecs.send(
        new UpdateServiceCommand({
          cluster: 'e2e',
          service: created.name,
          deploymentConfiguration: {
            deploymentCircuitBreaker: { enable: true, rollback: true },
            strategy: 'BLUE_GREEN',
            bakeTimeInMinutes: 0,
            lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }]
          }
        })
      )
      return created
    }
    const a = await withPauseHook()
    const first = await deploy(a.name, taskDefinition(a.name, images.good2), {
      'wait-until': 'POST_TEST_TRAFFIC_SHIFT'
    })
    expect(first.errors).toEqual([])
    expect(first.exitCode).toBe(0)
    expect(first.outputs['status']).toBe('PAUSED')
    expect(first.log).toMatch(/stage POST_TEST_TRAFFIC_SHIFT started/)
    const resumed = await runAction('deploy-ecs', {
      inputs: {
        'role-to-assume': stack.roleArn,
        cluster: 'e2e',
        service: a.name,
        'continue-deployment': 'true'
      },
      env: stack.env,
      workspace: mkdtempSync(join(tmpdir(), 'deploy-ecs-strategies-')),
      timeoutMs: 110_000
    })
    expect(resumed.errors).toEqual([])
    expect(resumed.outputs['status']).toBe('SUCCESSFUL')
    expect(resumed.log).toMatch(/continuing the deployment paused at POST_TEST_TRAFFIC_SHIFT/)
    expect(await currentTaskDefinition(a.name)).toBe(first.outputs['task-definition-arn'])

    // Without wait-until a PAUSE hook makes the run end PAUSED too, and the next run rolls back.
    const b = await withPauseHook()
    const paused = await deploy(b.name, taskDefinition(b.name, images.good2))
    expect(paused.exitCode).toBe(0)
    expect(paused.outputs['status']).toBe('PAUSED')
    expect(paused.log).toMatch(/continue-deployment: true/)
    const rolled = await runAction('deploy-ecs', {
      inputs: {
        'role-to-assume': stack.roleArn,
        cluster: 'e2e',
        service: b.name,
        'continue-deployment': 'rollback'
      },
      env: stack.env,
      workspace: mkdtempSync(join(tmpdir(), 'deploy-ecs-strategies-')),
      timeoutMs: 110_000
    })
    expect(rolled.errors).toEqual([])
    expect(rolled.exitCode).toBe(0)
    expect(rolled.outputs['status']).toBe('ROLLED_BACK')
    expect(await currentTaskDefinition(b.name)).toBe(b.v1)
  })
})
