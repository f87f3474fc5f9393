import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  ApplicationDoesNotExistException,
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  CodeDeployServiceException,
  ContinueDeploymentCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  DeploymentAlreadyCompletedException,
  DeploymentDoesNotExistException,
  DeploymentGroupDoesNotExistException,
  DeploymentIsNotInReadyStateException,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  InvalidRevisionException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  type DeploymentInfo
} from '@aws-sdk/client-codedeploy'
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack
let cd: CodeDeployClient
let ecs: ECSClient

const GOOD_V1 = 'public.example/api:v1'
const GOOD_V2 = 'public.example/api:v2'
const CRASH = 'public.example/api:crash'
const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } }

beforeAll(async () => {
  stack = await startStack({ registry: false })
  const config = {
    ...stack.clientConfig,
    maxAttempts: 1
  }
  cd = new CodeDeployClient(config)
  ecs = new ECSClient(config)
  await stack.admin.post('ecs/images', { images: [GOOD_V1, GOOD_V2, CRASH] })
  await stack.admin.post('ecs/scenario', { image: CRASH, behaviour: 'crash', exitCode: 1 })
  await stack.admin.post('ecs/seed', { clusters: ['prod'] })
})
afterAll(async () => {
  cd?.destroy()
  ecs?.destroy()
  await stack?.stop()
})

async function errorOf(p: Promise<unknown>): Promise<CodeDeployServiceException> {
  try {
    await p
  } catch (e) {
    return e as CodeDeployServiceException
  }
  throw new Error('expected the call to fail')
}

async function register(image: string): Promise<string> {
  const r = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'api',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'api', image, portMappings: [{ containerPort: 80 }] }]
    })
  )
  return r.taskDefinition!.taskDefinitionArn!
}

function appspec(taskDefinition: string, containerName = 'api', containerPort = 80): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: "${taskDefinition}"`,
    '        LoadBalancerInfo:',
    `          ContainerName: "${containerName}"`,
    `          ContainerPort: ${containerPort}`
  ].join('\n')
}

async function setup(
  name: string,
  opts: { ready?: number; termination?: number; rollback?: boolean } = {}
): Promise<string> {
  const v1 = await register(GOOD_V1)
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'prod',
      serviceName: name,
      taskDefinition: v1,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: network,
      deploymentController: { type: 'CODE_DEPLOY' }
    })
  )
  await cd.send(new CreateApplicationCommand({ applicationName: name, computePlatform: 'ECS' }))
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: name,
      deploymentGroupName: `${name}-dg`,
      serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ecsServices: [{ clusterName: 'prod', serviceName: name }],
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption:
          opts.ready === undefined
            ? { actionOnTimeout: 'CONTINUE_DEPLOYMENT' }
            : { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: opts.ready },
        terminateBlueInstancesOnDeploymentSuccess: {
          action: 'TERMINATE',
          terminationWaitTimeInMinutes: opts.termination ?? 0
        }
      },
      autoRollbackConfiguration: {
        enabled: opts.rollback ?? true,
        events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST']
      },
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: `${name}-blue` }, { name: `${name}-green` }],
            prodTrafficRoute: {
              listenerArns: [
                'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/1'
              ]
            }
          }
        ]
      }
    })
  )
  stack.clock.advance(5000)
  return v1
}

async function deploy(app: string, taskDefinition: string, content?: string): Promise<string> {
  const r = await cd.send(
    new CreateDeploymentCommand({
      applicationName: app,
      deploymentGroupName: `${app}-dg`,
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: content ?? appspec(taskDefinition) }
      }
    })
  )
  return r.deploymentId!
}

async function info(id: string): Promise<DeploymentInfo> {
  return (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!
}

async function advanceUntil(
  check: () => Promise<boolean>,
  stepMs = 1000,
  maxSteps = 500
): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (await check()) return
    stack.clock.advance(stepMs)
  }
  throw new Error('condition not reached in simulated time')
}

async function serviceTd(name: string): Promise<string | undefined> {
  const r = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [name] }))
  return r.services?.[0]?.taskDefinition
}

describe('applications and deployment groups', () => {
  it('creates and reads them, with CodeDeploy errors for missing ones', async () => {
    await setup('shop')
    const app = await cd.send(new GetApplicationCommand({ applicationName: 'shop' }))
    expect(app.application).toMatchObject({
      applicationName: 'shop',
      computePlatform: 'ECS',
      linkedToGitHub: false
    })
    const g = await cd.send(
      new GetDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'shop-dg' })
    )
    expect(g.deploymentGroupInfo).toMatchObject({
      deploymentGroupName: 'shop-dg',
      computePlatform: 'ECS',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      ecsServices: [{ clusterName: 'prod', serviceName: 'shop' }]
    })
    expect(
      g.deploymentGroupInfo?.blueGreenDeploymentConfiguration
        ?.terminateBlueInstancesOnDeploymentSuccess
    ).toEqual({
      action: 'TERMINATE',
      terminationWaitTimeInMinutes: 0
    })
    expect(
      await errorOf(cd.send(new GetApplicationCommand({ applicationName: 'nope' })))
    ).toBeInstanceOf(ApplicationDoesNotExistException)
    expect(
      await errorOf(
        cd.send(
          new GetDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'nope' })
        )
      )
    ).toBeInstanceOf(DeploymentGroupDoesNotExistException)
    const dup = await errorOf(
      cd.send(new CreateApplicationCommand({ applicationName: 'shop', computePlatform: 'ECS' }))
    )
    expect(dup.name).toBe('ApplicationAlreadyExistsException')
    const notCd = await errorOf(
      cd.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'shop',
          deploymentGroupName: 'x',
          serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
          deploymentStyle: {
            deploymentType: 'BLUE_GREEN',
            deploymentOption: 'WITH_TRAFFIC_CONTROL'
          },
          ecsServices: [{ clusterName: 'prod', serviceName: 'ghost' }]
        })
      )
    )
    expect(notCd.name).toBe('InvalidECSServiceException')
  })
})

describe('blue/green deployments', () => {
  it('succeeds: replacement task set, ready wait, reroute, termination wait; the service ends on the new revision', async () => {
    await setup('blue', { ready: 30, termination: 5 })
    const v2 = await register(GOOD_V2)
    const id = await deploy('blue', v2)
    expect(id).toMatch(/^d-[A-Z0-9]{9}$/)
    expect((await info(id)).status).toBe('Created')

    await advanceUntil(async () => (await info(id)).status === 'Ready')
    expect(await serviceTd('blue')).not.toBe(v2)
    const target = await cd.send(
      new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'prod:blue' })
    )
    const events = target.deploymentTarget?.ecsTarget?.lifecycleEvents ?? []
    expect(events.find((e) => e.lifecycleEventName === 'Install')?.status).toBe('Succeeded')
    expect(events.find((e) => e.lifecycleEventName === 'AllowTraffic')?.status).toBe('Pending')
    expect(target.deploymentTarget?.ecsTarget?.taskSetsInfo?.map((t) => t.taskSetLabel)).toEqual([
      'Blue',
      'Green'
    ])
    expect(target.deploymentTarget?.ecsTarget?.taskSetsInfo?.[1]?.runningCount).toBe(2)

    await cd.send(
      new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'READY_WAIT' })
    )
    await advanceUntil(async () => (await info(id)).instanceTerminationWaitTimeStarted === true)
    expect((await info(id)).status).toBe('InProgress')
    expect(await serviceTd('blue')).toBe(v2)
    await cd.send(
      new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' })
    )
    await advanceUntil(async () => (await info(id)).status === 'Succeeded')
    const done = await info(id)
    expect(done.deploymentOverview).toMatchObject({ Succeeded: 1, Failed: 0 })
    expect(done.completeTime).toBeInstanceOf(Date)
    stack.clock.advance(5000)
    const svc = (
      await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['blue'] }))
    ).services![0]!
    expect(svc.taskDefinition).toBe(v2)
    expect(svc.taskSets?.map((t) => t.taskDefinition)).toEqual([v2])

    const targets = await cd.send(new ListDeploymentTargetsCommand({ deploymentId: id }))
    expect(targets.targetIds).toEqual(['prod:blue'])
    const again = await errorOf(cd.send(new StopDeploymentCommand({ deploymentId: id })))
    expect(again).toBeInstanceOf(DeploymentAlreadyCompletedException)
    const notReady = await errorOf(cd.send(new ContinueDeploymentCommand({ deploymentId: id })))
    expect(notReady).toBeInstanceOf(DeploymentIsNotInReadyStateException)
  })

  it('fails a crashing replacement task set with errorInformation and rolls back automatically', async () => {
    const v1 = await setup('red')
    const bad = await register(CRASH)
    const id = await deploy('red', bad)
    stack.clock.advance(10_000)
    expect((await info(id)).status).toBe('InProgress')
    stack.clock.advance(61 * 60 * 1000)
    const failed = await info(id)
    expect(failed.status).toBe('Failed')
    expect(failed.errorInformation?.code).toBe('ECS_UPDATE_ERROR')
    expect(failed.errorInformation?.message).toMatch(/replacement task set to become healthy/)
    const rollbackId = failed.rollbackInfo?.rollbackDeploymentId
    expect(rollbackId).toMatch(/^d-/)
    await advanceUntil(async () => (await info(rollbackId!)).status === 'Succeeded')
    const rb = await info(rollbackId!)
    expect(rb.creator).toBe('codeDeployRollback')
    expect(rb.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(id)
    expect(await serviceTd('red')).toBe(v1)
  })

  it('fails a deployment whose AppSpec names a container port the task definition lacks', async () => {
    await setup('port')
    const v2 = await register(GOOD_V2)
    const id = await deploy('port', v2, appspec(v2, 'api', 8080))
    await advanceUntil(async () => (await info(id)).status === 'Failed')
    expect((await info(id)).errorInformation).toEqual({
      code: 'ECS_UPDATE_ERROR',
      message: expect.stringMatching(/container port 8080/) as unknown as string
    })
  })

  it('validates the AppSpec and the names on CreateDeployment', async () => {
    await setup('val')
    const invalid = await errorOf(deploy('val', 'x', 'version: 0.0\nResources: []\n'))
    expect(invalid).toBeInstanceOf(InvalidRevisionException)
    const noTd = await errorOf(
      deploy(
        'val',
        'x',
        'Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties: {}\n'
      )
    )
    expect(noTd).toBeInstanceOf(InvalidRevisionException)
    expect(noTd.message).toMatch(/TaskDefinition/)
    const noApp = await errorOf(
      cd.send(new CreateDeploymentCommand({ applicationName: 'ghost', deploymentGroupName: 'x' }))
    )
    expect(noApp).toBeInstanceOf(ApplicationDoesNotExistException)
    const noGroup = await errorOf(
      cd.send(new CreateDeploymentCommand({ applicationName: 'val', deploymentGroupName: 'ghost' }))
    )
    expect(noGroup).toBeInstanceOf(DeploymentGroupDoesNotExistException)
    const noDeployment = await errorOf(
      cd.send(new GetDeploymentCommand({ deploymentId: 'd-AAAAAAAAA' }))
    )
    expect(noDeployment).toBeInstanceOf(DeploymentDoesNotExistException)
  })

  it('stops a deployment on request and rolls back', async () => {
    const v1 = await setup('halt', { ready: 60 })
    const v2 = await register(GOOD_V2)
    const id = await deploy('halt', v2)
    await advanceUntil(async () => (await info(id)).status === 'Ready')
    const r = await cd.send(
      new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true })
    )
    expect(r.status).toBe('Pending')
    const stopped = await info(id)
    expect(stopped.status).toBe('Stopped')
    expect(stopped.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/)
    stack.clock.advance(10_000)
    expect(await serviceTd('halt')).toBe(v1)
  })
})

describe('AppSpec hooks (Lambda functions from the shared registry)', () => {
  function withHooks(taskDefinition: string, hooks: Record<string, string>): string {
    return [
      appspec(taskDefinition),
      'Hooks:',
      ...Object.entries(hooks).map(([event, fn]) => `  - ${event}: "${fn}"`)
    ].join('\n')
  }

  async function target(id: string) {
    const ids = await cd.send(new ListDeploymentTargetsCommand({ deploymentId: id }))
    const one = await cd.send(
      new GetDeploymentTargetCommand({ deploymentId: id, targetId: ids.targetIds![0]! })
    )
    const batch = await cd.send(
      new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: ids.targetIds! })
    )
    expect(batch.deploymentTargets?.[0]?.ecsTarget?.lifecycleEvents).toEqual(
      one.deploymentTarget?.ecsTarget?.lifecycleEvents
    )
    return one.deploymentTarget!.ecsTarget!
  }

  it('a FAILED AfterAllowTraffic hook fails the event with diagnostics and rolls the deployment back', async () => {
    await setup('hookfail')
    await stack.admin.post('lambda/functions', {
      functionName: 'hookfail-smoke',
      outcome: 'FAILED',
      message: 'smoke test: GET /health returned 503'
    })
    const v2 = await register(GOOD_V2)
    const id = await deploy('hookfail', v2, withHooks(v2, { AfterAllowTraffic: 'hookfail-smoke' }))
    await advanceUntil(async () => ['Failed', 'Stopped'].includes((await info(id)).status!))
    const d = await info(id)
    expect(d.status).toBe('Failed')
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE')
    expect(d.errorInformation?.message).toContain('smoke test: GET /health returned 503')
    expect(d.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/)
    const t = await target(id)
    const after = t.lifecycleEvents!.find((e) => e.lifecycleEventName === 'AfterAllowTraffic')!
    expect(after.status).toBe('Failed')
    expect(after.diagnostics).toMatchObject({
      errorCode: 'ScriptFailed',
      scriptName: 'hookfail-smoke',
      message: 'smoke test: GET /health returned 503'
    })
    const calls = await stack.admin.get<{
      invocations: { functionArn: string; payload: Record<string, string> }[]
    }>('lambda/invocations')
    const call = calls.invocations.find((i) => i.functionArn === 'hookfail-smoke')!
    expect(call.payload.DeploymentId).toBe(id)
    expect(call.payload.LifecycleEventHookExecutionId).toEqual(expect.any(String))
  })

  it('an IN_PROGRESS hook waits for PutLifecycleEventHookExecutionStatus, which completes the event once', async () => {
    await setup('hookput')
    await stack.admin.post('lambda/functions', {
      functionName: 'hookput-check',
      outcome: 'IN_PROGRESS'
    })
    const v2 = await register(GOOD_V2)
    const id = await deploy('hookput', v2, withHooks(v2, { BeforeInstall: 'hookput-check' }))
    stack.clock.advance(10_000)
    const waiting = await target(id)
    expect(
      waiting.lifecycleEvents!.find((e) => e.lifecycleEventName === 'BeforeInstall')?.status
    ).toBe('InProgress')
    const calls = await stack.admin.get<{
      invocations: { functionArn: string; payload: Record<string, string> }[]
    }>('lambda/invocations')
    const execId = calls.invocations.find((i) => i.functionArn === 'hookput-check')!.payload
      .LifecycleEventHookExecutionId!
    const bad = await errorOf(
      cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: id,
          lifecycleEventHookExecutionId: 'nope',
          status: 'Succeeded'
        })
      )
    )
    expect(bad.name).toBe('InvalidLifecycleEventHookExecutionIdException')
    await cd.send(
      new PutLifecycleEventHookExecutionStatusCommand({
        deploymentId: id,
        lifecycleEventHookExecutionId: execId,
        status: 'Succeeded'
      })
    )
    const again = await errorOf(
      cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: id,
          lifecycleEventHookExecutionId: execId,
          status: 'Failed'
        })
      )
    )
    expect(again.name).toBe('LifecycleEventAlreadyCompletedException')
    await advanceUntil(async () => (await info(id)).status === 'Succeeded')
  })

  it('refuses an AppSpec naming a hook event ECS deployments do not have', async () => {
    await setup('hookbad')
    const v2 = await register(GOOD_V2)
    const e = await errorOf(deploy('hookbad', v2, withHooks(v2, { Install: 'x' })))
    expect(e.name).toBe('InvalidRevisionException')
  })
})
