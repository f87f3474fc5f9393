/**
 * deploy-ecs on a CODE_DEPLOY service, end to end: the bundled action against the local stack (OIDC → STS, ECS,
 * CodeDeploy blue/green with the shared Lambda hook registry). No Docker: the images are known to the ECS model.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand
} from '@aws-sdk/client-codedeploy'
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { uncovered } from '../helpers/iam-coverage.js'
import { runAction, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(90_000)

const V1 = 'public.example/web:v1'
const V2 = 'public.example/web:v2'
const CRASH = 'public.example/web:crash'
let stack: SimStack
let ecs: ECSClient
let cd: CodeDeployClient
let execRole: string
const network = { awsvpcConfiguration: { subnets: ['subnet-0cd'], securityGroups: ['sg-0cd'] } }
const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef'

beforeAll(async () => {
  stack = await startStack({ speed: 50, registry: false })
  ecs = new ECSClient({ ...stack.clientConfig })
  cd = new CodeDeployClient({ ...stack.clientConfig })
  await stack.admin.post('ecs/images', { images: [V1, V2, CRASH] })
  await stack.admin.post('ecs/scenario', { image: CRASH, behaviour: 'crash', exitCode: 3 })
  await stack.admin.post('ecs/seed', { clusters: ['cd'] })
  const roles = await stack.admin.post<{ roles: string[] }>('iam/seed', {
    roles: [{ name: 'web-exec-cd' }]
  })
  execRole = roles.roles[0] as string
})

afterAll(async () => {
  ecs?.destroy()
  cd?.destroy()
  await stack?.stop()
})

function taskDefinition(family: string, image: string, port = 8080): Record<string, unknown> {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    executionRoleArn: execRole,
    containerDefinitions: [
      { name: 'web', image, essential: true, portMappings: [{ containerPort: port }] }
    ]
  }
}

/** A CODE_DEPLOY service on v1 behind a load balancer, its application and a blue/green group. */
async function codeDeployService(
  opts: { groupFor?: string; termination?: boolean } = {}
): Promise<{ name: string; v1: string }> {
  const name = uniqueName('cd')
  const v1 = (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition(name, V1) as never)))
    .taskDefinition!.taskDefinitionArn!
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'cd',
      serviceName: name,
      taskDefinition: v1,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: network,
      deploymentController: { type: 'CODE_DEPLOY' },
      loadBalancers: [{ targetGroupArn: TG, containerName: 'web', containerPort: 8080 }]
    })
  )
  await cd.send(new CreateApplicationCommand({ applicationName: name, computePlatform: 'ECS' }))
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: name,
      deploymentGroupName: `${name}-dg`,
      serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ecsServices: [{ clusterName: 'cd', serviceName: opts.groupFor ?? name }],
      // No terminateBlueInstancesOnDeploymentSuccess unless asked: the case where a NaN budget used to appear.
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
        ...(opts.termination
          ? {
              terminateBlueInstancesOnDeploymentSuccess: {
                action: 'TERMINATE',
                terminationWaitTimeInMinutes: 5
              }
            }
          : {})
      },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
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
  return { name, v1 }
}

function deploy(
  name: string,
  td: Record<string, unknown>,
  inputs: Record<string, string> = {},
  files: Record<string, string> = {},
  signal?: { when: RegExp; signal: NodeJS.Signals }
): Promise<RunResult> {
  const workspace = mkdtempSync(join(tmpdir(), 'deploy-ecs-cd-e2e-'))
  writeFileSync(join(workspace, 'task-definition.json'), JSON.stringify(td, null, 2))
  for (const [file, content] of Object.entries(files)) writeFileSync(join(workspace, file), content)
  return runAction('deploy-ecs', {
    inputs: {
      'role-to-assume': stack.roleArn,
      'task-definition': 'task-definition.json',
      cluster: 'cd',
      service: name,
      verify: 'false',
      'codedeploy-application': name,
      'codedeploy-deployment-group': `${name}-dg`,
      ...inputs
    },
    env: stack.env,
    workspace,
    signal,
    timeoutMs: 60_000
  })
}

const lastId = (): number => stack.requestLog().at(-1)?.id ?? 0
const calls = (since: number, operation: string) =>
  stack.requestLog({ sinceId: since }).filter((r) => r.operation === operation)

async function appSpecReceived(deploymentId: string): Promise<Record<string, unknown>> {
  const d = await cd.send(new GetDeploymentCommand({ deploymentId }))
  return JSON.parse(d.deploymentInfo!.revision!.appSpecContent!.content!) as Record<string, unknown>
}

async function serviceTaskDefinition(name: string): Promise<string | undefined> {
  return (await ecs.send(new DescribeServicesCommand({ cluster: 'cd', services: [name] })))
    .services?.[0]?.taskDefinition
}

describe('deploy-ecs: CodeDeploy blue/green', () => {
  it('deploys with a generated AppSpec (container and port from the load balancer) and a finite budget without a termination wait', async () => {
    const { name } = await codeDeployService()
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, V2), {
      'codedeploy-description': 'e2e generated'
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('SUCCESSFUL')
    const id = result.outputs['codedeploy-deployment-id']!
    expect(id).toMatch(/^d-[A-Z0-9]{9}$/)
    expect(result.outputs['deployment-id']).toBe(id)
    const spec = await appSpecReceived(id)
    expect(spec).toMatchObject({
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: {
              TaskDefinition: result.outputs['task-definition-arn'],
              LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 }
            }
          }
        }
      ]
    })
    expect(calls(since, 'UpdateService')).toEqual([])
    expect(calls(since, 'CreateDeployment')).toHaveLength(1)
    // Every call the action made (as the assumed role) is allowed by docs/iam/deploy-ecs.json.
    const made = stack
      .requestLog({ sinceId: since })
      .filter((r) => r.kind === 'aws' && /assumed-role/.test(r.callerArn ?? ''))
      .map((r) => ({ action: 'deploy-ecs', iamAction: `${r.service}:${r.operation}` }))
    expect(made.map((c) => c.iamAction)).toEqual(
      expect.arrayContaining(['codedeploy:GetDeploymentGroup', 'codedeploy:CreateDeployment'])
    )
    expect(uncovered(made)).toEqual([])
    expect(await serviceTaskDefinition(name)).toBe(result.outputs['task-definition-arn'])
    // 15m install allowance + 0 ready + 0 shift + 0 termination: finite, from the group (under wait-timeout 30m).
    expect(result.log).toContain(
      'wait budget 15m install and hooks + 0m ready wait + 0m traffic shift + 0m termination wait = 15m'
    )
    expect(result.log).not.toMatch(/NaN|Infinity/)
    expect(result.log).toMatch(/lifecycle event Install: Succeeded/)
    expect(result.log).toMatch(/traffic: .*Green 100%/)
    expect(result.summary).toContain('CodeDeploy lifecycle events')
    expect(result.summary).toContain('AfterAllowTraffic')
    expect(result.summary).toContain(`codedeploy/deployments/${id}`)
  })

  it('with a termination wait: "deployed" returns once all traffic is shifted; the budget counts the wait only for "stable"', async () => {
    const { name } = await codeDeployService({ termination: true })
    const result = await deploy(name, taskDefinition(name, V2))
    expect(result.exitCode).toBe(0)
    expect(result.outputs.status).toBe('SUCCESSFUL')
    expect(result.log).toContain('+ 0m termination wait = 15m')
    expect(result.log).toContain('all traffic is on the replacement task set')
    // The original task set waits for its termination: the group's deployment is still active.
    const beforeBusy = lastId()
    const busy = await deploy(name, taskDefinition(name, V1))
    expect(calls(beforeBusy, 'RegisterTaskDefinition')).toEqual([])
    expect(calls(beforeBusy, 'CreateDeployment')).toEqual([])
    expect(busy.exitCode).toBe(1)
    expect(busy.errors.join('\n')).toContain('already has an active deployment')
    expect(busy.errors.join('\n')).toContain('TERMINATION_WAIT')
    stack.clock.advance(6 * 60_000)
    const stable = await deploy(name, taskDefinition(name, V1), {
      'wait-until': 'stable',
      'wait-timeout': '30s'
    })
    // 15m + 5m termination wait is more than wait-timeout: the cap applies and says so.
    expect(stable.log).toContain(
      'wait budget 30s from wait-timeout (the deployment group would need 15m install and hooks + 0m ready wait + 0m traffic shift + 5m termination wait = 20m)'
    )
    // "stable" waits out the termination wait (5 simulated minutes: 6 s here) to Succeeded.
    expect(stable.outputs.status).toBe('SUCCESSFUL')
    expect(stable.log).not.toContain('all traffic is on the replacement task set')
    expect(stable.log).toMatch(/deployment d-\w+: Succeeded/)
  })

  it('deploys a provided AppSpec with every TaskDefinition replaced by the registered revision', async () => {
    const { name } = await codeDeployService()
    const appspec = [
      'version: 0.0',
      'Resources:',
      '  - TargetService:',
      '      Type: AWS::ECS::Service',
      '      Properties:',
      '        TaskDefinition: "<TASK_DEFINITION>"',
      '        LoadBalancerInfo:',
      '          ContainerName: "web"',
      '          ContainerPort: 8080',
      '        PlatformVersion: "LATEST"'
    ].join('\n')
    const result = await deploy(
      name,
      taskDefinition(name, V2),
      { 'codedeploy-appspec': 'appspec.yaml' },
      { 'appspec.yaml': appspec }
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const spec = await appSpecReceived(result.outputs['codedeploy-deployment-id']!)
    const props = (spec.Resources as Record<string, Record<string, Record<string, unknown>>>[])[0]!
      .TargetService!.Properties as Record<string, unknown>
    expect(props.TaskDefinition).toBe(result.outputs['task-definition-arn'])
    expect(props.TaskDefinition).toMatch(new RegExp(`task-definition/${name}:2$`))
    expect(props.PlatformVersion).toBe('LATEST')
  })

  it('fails with the lifecycle event message and ROLLED_BACK when the AfterAllowTraffic hook fails', async () => {
    const { name, v1 } = await codeDeployService()
    await stack.admin.post('lambda/functions', {
      functionName: `${name}-smoke`,
      outcome: 'FAILED',
      message: 'smoke test failed: GET /health returned 503'
    })
    const result = await deploy(name, taskDefinition(name, V2), {
      'codedeploy-hooks': `AfterAllowTraffic=${name}-smoke`
    })
    expect(result.exitCode).toBe(1)
    expect(result.outputs.status).toBe('ROLLED_BACK')
    expect(result.errors.join('\n')).toContain('smoke test failed: GET /health returned 503')
    expect(result.errors.join('\n')).toContain('AfterAllowTraffic')
    expect(result.summary).toContain('ScriptFailed')
    for (let i = 0; i < 50 && (await serviceTaskDefinition(name)) !== v1; i++)
      await new Promise((r) => setTimeout(r, 100))
    expect(await serviceTaskDefinition(name)).toBe(v1)
  })

  it('stops the deployment with a rollback when the wait budget runs out, naming the stopped tasks', async () => {
    const { name, v1 } = await codeDeployService()
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, CRASH), { 'wait-timeout': '10s' })
    expect(result.exitCode).toBe(1)
    expect(result.outputs.status).toBe('TIMED_OUT')
    expect(result.log).toContain('wait budget 10s from wait-timeout')
    const stops = calls(since, 'StopDeployment')
    expect(stops).toHaveLength(1)
    expect(stops[0]!.params).toMatchObject({
      deploymentId: result.outputs['codedeploy-deployment-id'],
      autoRollbackEnabled: true
    })
    expect(result.errors.join('\n')).toMatch(/lifecycle event Install still in progress/)
    expect(result.errors.join('\n')).toMatch(/task\(s\): .*exit(ed| code)/i)
    expect(await serviceTaskDefinition(name)).toBe(v1)
  })

  it('on cancel (SIGTERM) stops the deployment with a rollback and ends CANCELLED', async () => {
    const { name, v1 } = await codeDeployService()
    const since = lastId()
    const result = await deploy(
      name,
      taskDefinition(name, CRASH),
      {},
      {},
      {
        when: /lifecycle event Install: InProgress/,
        signal: 'SIGTERM'
      }
    )
    expect(result.exitCode).toBe(1)
    expect(result.outputs.status).toBe('CANCELLED')
    expect(calls(since, 'StopDeployment')[0]?.params).toMatchObject({ autoRollbackEnabled: true })
    expect(await serviceTaskDefinition(name)).toBe(v1)
  })

  it('refuses a deployment group that does not deploy this service, before CreateDeployment', async () => {
    const other = await codeDeployService()
    const { name } = await codeDeployService({ groupFor: other.name })
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, V2))
    expect(result.exitCode).toBe(1)
    expect(result.errors.join('\n')).toContain(`deploys cd/${other.name}, not cd/${name}`)
    expect(calls(since, 'CreateDeployment')).toEqual([])
    expect(calls(since, 'RegisterTaskDefinition')).toEqual([])
  })
})
