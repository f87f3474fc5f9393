import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  ContinueServiceDeploymentCommand,
  CreateServiceCommand,
  type DeploymentLifecycleHook,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  type ECSServiceException,
  RegisterTaskDefinitionCommand,
  type ServiceDeployment,
  UpdateServiceCommand
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack
let ecs: ECSClient
const V1 = 'public.example/hooks:v1'
const V2 = 'public.example/hooks:v2'
const network = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } }
const FN = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

beforeAll(async () => {
  stack = await startStack({ registry: false })
  ecs = new ECSClient({ ...stack.clientConfig, maxAttempts: 1 })
  await stack.admin.post('ecs/images', { images: [V1, V2] })
  await stack.admin.post('ecs/seed', { clusters: ['main'] })
})
afterAll(async () => {
  ecs?.destroy()
  await stack?.stop()
})

async function errorOf(p: Promise<unknown>): Promise<ECSServiceException> {
  try {
    await p
  } catch (e) {
    return e as ECSServiceException
  }
  throw new Error('expected the call to fail')
}

async function register(family: string, image: string): Promise<string> {
  const r = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image, essential: true }]
    })
  )
  return r.taskDefinition!.taskDefinitionArn!
}

async function sdOf(arn: string): Promise<ServiceDeployment> {
  const r = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))
  return r.serviceDeployments![0]!
}

async function until(check: () => Promise<boolean>, stepMs = 1000, max = 900): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await check()) return
    stack.clock.advance(stepMs)
  }
  throw new Error('condition not reached in simulated time')
}

/** A BLUE_GREEN service at v1 with `hooks`, then an update to v2; returns the new service deployment ARN. */
async function deployWithHooks(name: string, hooks: DeploymentLifecycleHook[]): Promise<string> {
  const v1 = await register(name, V1)
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'main',
      serviceName: name,
      taskDefinition: v1,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: network,
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 }
    })
  )
  await until(async () => {
    const s = await ecs.send(new DescribeServicesCommand({ cluster: 'main', services: [name] }))
    return s.services![0]!.deployments?.[0]?.rolloutState === 'COMPLETED'
  })
  const v2 = await register(name, V2)
  const out = await ecs.send(
    new UpdateServiceCommand({
      cluster: 'main',
      service: name,
      taskDefinition: v2,
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: hooks
      }
    })
  )
  return out.service!.currentServiceDeployment!
}

describe('ECS-native lifecycle hooks', () => {
  it('invokes an AWS_LAMBDA hook at its stage with the documented payload; SUCCEEDED lets the deployment go on', async () => {
    await stack.admin.post('lambda/functions', { functionName: 'ok-hook', outcome: 'SUCCEEDED' })
    const arn = await deployWithHooks('hook-ok', [
      {
        targetType: 'AWS_LAMBDA',
        hookTargetArn: FN('ok-hook'),
        lifecycleStages: ['POST_SCALE_UP'],
        hookDetails: { k: 'v' }
      }
    ])
    await until(async () => (await sdOf(arn)).status === 'SUCCESSFUL')
    const sd = await sdOf(arn)
    expect(sd.lifecycleHookDetails).toEqual([
      expect.objectContaining({
        targetType: 'AWS_LAMBDA',
        targetArn: FN('ok-hook'),
        status: 'SUCCEEDED',
        timeoutAction: 'ROLLBACK'
      })
    ])
    const inv = await stack.admin.get<{
      invocations: { functionArn: string; payload: Record<string, unknown> }[]
    }>('lambda/invocations')
    const mine = inv.invocations.filter((i) => i.functionArn === FN('ok-hook'))
    expect(mine).toHaveLength(1)
    expect(mine[0]!.payload).toMatchObject({
      lifecycleStage: 'POST_SCALE_UP',
      resourceArn: arn,
      hookDetails: { k: 'v' },
      executionDetails: { targetServiceRevisionArn: sd.targetServiceRevision!.arn }
    })
  })

  it('re-invokes an IN_PROGRESS hook after the callback delay and holds the stage meanwhile', async () => {
    await stack.admin.post('lambda/functions', {
      functionName: 'slow-hook',
      outcomes: ['IN_PROGRESS', 'SUCCEEDED']
    })
    const arn = await deployWithHooks('hook-slow', [
      {
        targetType: 'AWS_LAMBDA',
        hookTargetArn: FN('slow-hook'),
        lifecycleStages: ['PRE_SCALE_UP']
      }
    ])
    await until(async () => (await sdOf(arn)).lifecycleStage === 'PRE_SCALE_UP')
    stack.clock.advance(20_000)
    expect((await sdOf(arn)).lifecycleStage).toBe('PRE_SCALE_UP')
    expect((await sdOf(arn)).lifecycleHookDetails?.[0]?.status).toBe('IN_PROGRESS')
    await until(async () => (await sdOf(arn)).status === 'SUCCESSFUL')
    const inv = await stack.admin.get<{
      invocations: { functionArn: string; at: string }[]
    }>('lambda/invocations')
    const mine = inv.invocations.filter((i) => i.functionArn === FN('slow-hook'))
    expect(mine).toHaveLength(2)
    expect(Date.parse(mine[1]!.at) - Date.parse(mine[0]!.at)).toBeGreaterThanOrEqual(30_000)
  })

  it('rolls the deployment back when a hook answers FAILED, naming the hook and the stage', async () => {
    await stack.admin.post('lambda/functions', {
      functionName: 'bad-hook',
      outcome: 'FAILED',
      message: 'smoke test failed'
    })
    const arn = await deployWithHooks('hook-bad', [
      {
        targetType: 'AWS_LAMBDA',
        hookTargetArn: FN('bad-hook'),
        lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT']
      }
    ])
    await until(async () => (await sdOf(arn)).status === 'ROLLBACK_SUCCESSFUL')
    const sd = await sdOf(arn)
    expect(sd.statusReason).toMatch(
      /bad-hook FAILED at stage POST_TEST_TRAFFIC_SHIFT: smoke test failed/
    )
    expect(sd.lifecycleHookDetails?.[0]?.status).toBe('FAILED')
    const s = await ecs.send(
      new DescribeServicesCommand({ cluster: 'main', services: ['hook-bad'] })
    )
    expect(s.services![0]!.taskDefinition).toMatch(/hook-bad:1$/)
  })

  it('fails a hook whose function does not exist', async () => {
    const arn = await deployWithHooks('hook-missing', [
      {
        targetType: 'AWS_LAMBDA',
        hookTargetArn: FN('no-such-fn'),
        lifecycleStages: ['PRE_SCALE_UP']
      }
    ])
    await until(async () => (await sdOf(arn)).status === 'ROLLBACK_SUCCESSFUL')
    expect((await sdOf(arn)).statusReason).toMatch(/ResourceNotFoundException/)
  })

  it('holds a PAUSE hook AWAITING_ACTION until ContinueServiceDeployment CONTINUE, with documented errors', async () => {
    const arn = await deployWithHooks('hook-pause', [
      { targetType: 'PAUSE', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }
    ])
    await until(
      async () => (await sdOf(arn)).lifecycleHookDetails?.[0]?.status === 'AWAITING_ACTION'
    )
    stack.clock.advance(600_000)
    const held = await sdOf(arn)
    expect(held).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' })
    const hookId = held.lifecycleHookDetails![0]!.hookId!
    expect(held.lifecycleHookDetails![0]!.targetArn).toBeUndefined()
    const wrong = await errorOf(
      ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: 'nope' }))
    )
    expect(wrong.name).toBe('InvalidParameterException')
    const missing = await errorOf(
      ecs.send(
        new ContinueServiceDeploymentCommand({
          serviceDeploymentArn: `${arn}x`,
          hookId
        })
      )
    )
    expect(missing.name).toBe('ServiceDeploymentNotFoundException')
    await ecs.send(
      new ContinueServiceDeploymentCommand({
        serviceDeploymentArn: arn,
        hookId,
        action: 'CONTINUE'
      })
    )
    const again = await errorOf(
      ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId }))
    )
    expect(again.name).toBe('ConflictException')
    await until(async () => (await sdOf(arn)).status === 'SUCCESSFUL')
  })

  it('rolls back a paused deployment on ContinueServiceDeployment ROLLBACK', async () => {
    const arn = await deployWithHooks('hook-pause-rb', [
      { targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }
    ])
    await until(
      async () => (await sdOf(arn)).lifecycleHookDetails?.[0]?.status === 'AWAITING_ACTION'
    )
    const hookId = (await sdOf(arn)).lifecycleHookDetails![0]!.hookId!
    await ecs.send(
      new ContinueServiceDeploymentCommand({
        serviceDeploymentArn: arn,
        hookId,
        action: 'ROLLBACK'
      })
    )
    await until(async () => (await sdOf(arn)).status === 'ROLLBACK_SUCCESSFUL')
    expect((await sdOf(arn)).statusReason).toMatch(/POST_SCALE_UP/)
  })

  it('applies a hook timeout: CONTINUE goes on, ROLLBACK (the default) rolls back', async () => {
    const arn = await deployWithHooks('hook-timeout', [
      {
        targetType: 'PAUSE',
        lifecycleStages: ['PRE_SCALE_UP'],
        timeoutConfiguration: { timeoutInMinutes: 2, action: 'CONTINUE' }
      }
    ])
    await until(async () => (await sdOf(arn)).status === 'SUCCESSFUL', 15_000, 60)
    expect((await sdOf(arn)).lifecycleHookDetails?.[0]?.status).toBe('TIMED_OUT')
    const arn2 = await deployWithHooks('hook-timeout-rb', [
      {
        targetType: 'PAUSE',
        lifecycleStages: ['PRE_SCALE_UP'],
        timeoutConfiguration: { timeoutInMinutes: 2 }
      }
    ])
    await until(async () => (await sdOf(arn2)).status === 'ROLLBACK_SUCCESSFUL', 15_000, 60)
    expect((await sdOf(arn2)).statusReason).toMatch(/TIMED_OUT at stage PRE_SCALE_UP/)
  })
})
