/**
 * deploy-ecs end to end: the bundled action against the local stack (OIDC → STS, ECS with deployments, the
 * circuit breaker and service deployments, ECR backed by a real registry, IAM/Secrets Manager/SSM/Logs/ELBv2 for
 * verification) and images pushed by the real Docker engine.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand
} from '@aws-sdk/client-ecs'
import type { SimStack } from '../../packages/sim/src/stack.js'
import { E2E_NETWORK, type E2eImages, EcsE2e } from '../helpers/ecs-e2e.js'
import { chunksContaining, recordChunks } from '../helpers/loaded-chunks.js'
import { uniqueName } from '../helpers/runner.js'

jest.setTimeout(120_000)

/** The services' JSON protocol target prefixes, which only their SDK clients contain. */
const ECS_PROTOCOL_NAME = 'AmazonEC2ContainerServiceV20141113'
const CODEDEPLOY_PROTOCOL_NAME = 'CodeDeploy_20141006'

const SPEED = 20
const e2e = new EcsE2e('deploy-ecs-e2e', ['good', 'good2', 'crash', 'slow'], SPEED)
const { taskDefinition, service, currentTaskDefinition, deploy } = e2e
let stack: SimStack
let ecs: ECSClient
let images: E2eImages
let execRole: string

beforeAll(async () => {
  await e2e.start()
  ;({ stack, ecs, images, execRole } = e2e)
})

afterAll(() => e2e.stop())

function mutations(sinceId: number): string[] {
  return stack
    .requestLog({ sinceId })
    .filter((r) => /^(Register|Update|Create|Run|Stop)/.test(r.operation))
    .map((r) => r.operation)
}

const lastId = (): number => stack.requestLog().at(-1)?.id ?? 0

describe('deploy-ecs: rolling deployments', () => {
  it('deploys a new image, tracks our deployment to SUCCESSFUL, and shows the deployments table and events', async () => {
    const { name } = await service()
    const chunks = recordChunks()
    const result = await deploy(name, taskDefinition(name, images.good2), {}, { env: chunks.env })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toMatchObject({ status: 'SUCCESSFUL', changed: 'true' })
    expect(result.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${name}:2$`))
    expect(result.outputs['deployment-id']).toMatch(/^ecs-svc\/\d+$/)
    expect(result.outputs['service-url']).toContain('/ecs/v2/clusters/e2e/services/')
    expect(result.log).toMatch(/deployments:\n\s+PRIMARY/)
    expect(result.log).toMatch(/event: .*has reached a steady state/)
    expect(result.log).toMatch(/OK\s+image of web: .*web:v2: exists/)
    expect(result.log).toMatch(/OK\s+execution role .*trusts ecs-tasks/)
    expect(result.summary).toContain('Timeline')
    expect(result.summary).toContain('Verify')
    expect(await currentTaskDefinition(name)).toBe(result.outputs['task-definition-arn'])
    // A rolling deploy loads the ECS client and never the CodeDeploy one (that is for CODE_DEPLOY services only).
    const ecsChunks = chunksContaining(ECS_PROTOCOL_NAME)
    const codeDeployChunks = chunksContaining(CODEDEPLOY_PROTOCOL_NAME)
    expect(ecsChunks).not.toEqual([])
    expect(codeDeployChunks).not.toEqual([])
    expect(chunks.loaded()).toEqual(expect.arrayContaining(ecsChunks))
    expect(chunks.loaded().filter((chunk) => codeDeployChunks.includes(chunk))).toEqual([])
  })

  it('registers one revision for the same file deployed twice; the second run reports changed=false', async () => {
    const { name } = await service()
    const td = taskDefinition(name, images.good2)
    const first = await deploy(name, td)
    expect(first.outputs).toMatchObject({ status: 'SUCCESSFUL', changed: 'true' })
    const since = lastId()
    const second = await deploy(name, td)
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ status: 'SUCCESSFUL', changed: 'false' })
    expect(second.outputs['task-definition-arn']).toBe(first.outputs['task-definition-arn'])
    expect(mutations(since)).toEqual([])
    expect(second.log).toContain('nothing to register')
  })

  it('fails fast on a crashing image, before the circuit breaker, rolls back, and names the exit code', async () => {
    // 10 tasks, 3 started at a time (maximumPercent 130): the circuit breaker needs 5 failures, so a second batch
    // would have to crash before ECS gives up; max-failed-tasks stops at the first 3. Simulated time runs at
    // real speed while the new revision fails, so the action's 2 s polls meet ECS's real pace.
    const { name, v1 } = await service(10, {
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        maximumPercent: 130
      }
    })
    stack.clock.speed = 1
    const pending = deploy(name, taskDefinition(name, images.crash), { 'max-failed-tasks': '3' })
    let breakerFailures: number | undefined
    try {
      for (let i = 0; i < 300; i++) {
        const s = (
          await ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] }))
        ).services?.[0]
        const sd = s?.currentServiceDeployment
          ? (
              await ecs.send(
                new DescribeServiceDeploymentsCommand({
                  serviceDeploymentArns: [s.currentServiceDeployment]
                })
              )
            ).serviceDeployments?.[0]
          : undefined
        if (sd?.status?.startsWith('ROLLBACK') || sd?.status === 'STOPPED') {
          breakerFailures = sd.deploymentCircuitBreaker?.failureCount
          break
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      stack.clock.speed = SPEED
    }
    const result = await pending
    // The rollback was ours: ECS had counted fewer failures than its threshold.
    expect(breakerFailures).toBeDefined()
    expect(breakerFailures).toBeLessThan(5)
    expect(result.exitCode).toBe(1)
    expect(result.outputs['status']).toBe('ROLLED_BACK')
    const message = result.errors.join('\n')
    expect(message).toMatch(/tasks of the new revision stopped with the same reason/)
    expect(message).toMatch(/Essential container in task exited/)
    expect(message).toMatch(/web exited 3/)
    expect(message).toMatch(/rolled back to .*:1/)
    expect(await currentTaskDefinition(name)).toBe(v1)
  })

  it('verify stops an image that was never pushed before anything changes', async () => {
    const { name, v1 } = await service()
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, images.missing))
    expect(result.exitCode).toBe(1)
    expect(result.errors.join('\n')).toMatch(
      /verification check\(s\) failed.*image of web: .*never-pushed: image not found/
    )
    expect(mutations(since)).toEqual([])
    expect(result.outputs['status']).toBe('FAILED')
    expect(await currentTaskDefinition(name)).toBe(v1)
  })

  it('without verify, the never-pushed image fails with CannotPullContainerError and the IAM/ECR checks to make', async () => {
    const { name, v1 } = await service()
    const result = await deploy(name, taskDefinition(name, images.missing), { verify: 'false' })
    expect(result.exitCode).toBe(1)
    const message = result.errors.join('\n')
    expect(message).toMatch(/CannotPullContainerError/)
    expect(message).toMatch(/ecr:BatchGetImage/)
    expect(message).toMatch(/ecr:GetDownloadUrlForLayer/)
    expect(['ROLLED_BACK', 'FAILED']).toContain(result.outputs['status'])
    expect(await currentTaskDefinition(name)).toBe(v1)
  })

  it('fails every verify check whose resource is missing or wrong, naming each', async () => {
    await stack.admin.post('iam/seed', {
      roles: [
        {
          name: 'lambda-only',
          trust: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'lambda.amazonaws.com' },
                Action: 'sts:AssumeRole'
              }
            ]
          }
        }
      ]
    })
    const tg = await stack.admin.post<{ targetGroups: string[] }>('elasticloadbalancing/seed', {
      targetGroups: [{ name: uniqueName('tg'), port: 80 }]
    })
    const { name } = await service(1, {
      loadBalancers: [
        { targetGroupArn: tg.targetGroups[0], containerName: 'web', containerPort: 9090 }
      ]
    })
    const td = taskDefinition(name, images.good2, {
      executionRoleArn: `arn:aws:iam::${stack.accountId}:role/does-not-exist`,
      taskRoleArn: `arn:aws:iam::${stack.accountId}:role/lambda-only`
    })
    const container = (td['containerDefinitions'] as Record<string, unknown>[])[0] as Record<
      string,
      unknown
    >
    container['secrets'] = [
      {
        name: 'DB',
        valueFrom: `arn:aws:secretsmanager:us-east-1:${stack.accountId}:secret:prod/none-AbCdEf`
      },
      { name: 'KEY', valueFrom: `arn:aws:ssm:us-east-1:${stack.accountId}:parameter/web/none` }
    ]
    container['logConfiguration'] = {
      logDriver: 'awslogs',
      options: { 'awslogs-group': '/ecs/none', 'awslogs-region': 'us-east-1' }
    }
    const since = lastId()
    const result = await deploy(name, td)
    expect(result.exitCode).toBe(1)
    for (const line of [
      /FAIL execution role .*does-not-exist: role does not exist/,
      /FAIL task role .*lambda-only: its trust policy does not allow ecs-tasks/,
      /FAIL secret DB of web: .*secret does not exist/,
      /FAIL secret KEY of web: .*SSM parameter does not exist/,
      /FAIL log group of web: \/ecs\/none: does not exist/,
      /FAIL target group .*web:9090: container web exposes 8080, not 9090/
    ]) {
      expect(result.log).toMatch(line)
    }
    expect(mutations(since)).toEqual([])
    const missingCluster = await deploy(name, taskDefinition(name, images.good2), {
      cluster: 'nope'
    })
    expect(missingCluster.errors.join('\n')).toMatch(/cluster "nope" does not exist|cluster nope/)
  })

  it('skips the checks the role may not perform, naming the permission, and still deploys', async () => {
    const restricted = `arn:aws:iam::${stack.accountId}:role/${uniqueName('ecs-only')}`
    await stack.admin.post('sts/roles', {
      roleArn: restricted,
      trust: { sub: ['repo:*'], subOperator: 'StringLike', aud: 'sts.amazonaws.com' },
      allowedActions: ['ecs:*', 'ecr:*']
    })
    const tg = await stack.admin.post<{ targetGroups: string[] }>('elasticloadbalancing/seed', {
      targetGroups: [{ name: uniqueName('tg'), port: 8080 }]
    })
    const { name } = await service(1, {
      loadBalancers: [
        { targetGroupArn: tg.targetGroups[0], containerName: 'web', containerPort: 8080 }
      ]
    })
    const td = taskDefinition(name, images.good2, { taskRoleArn: execRole })
    const container = (td['containerDefinitions'] as Record<string, unknown>[])[0] as Record<
      string,
      unknown
    >
    container['secrets'] = [
      {
        name: 'DB',
        valueFrom: `arn:aws:secretsmanager:us-east-1:${stack.accountId}:secret:prod/db-AbCdEf`
      },
      { name: 'KEY', valueFrom: '/web/key' }
    ]
    const result = await deploy(name, td, {}, { roleArn: restricted })
    for (const line of [
      /SKIP execution role .*grant iam:GetRole/,
      /SKIP task role .*grant iam:GetRole/,
      /SKIP secret DB of web: .*grant secretsmanager:DescribeSecret/,
      /SKIP secret KEY of web: .*grant ssm:GetParameters/,
      /SKIP log group of web: .*grant logs:DescribeLogGroups/,
      /SKIP target group .*grant elasticloadbalancing:DescribeTargetGroups/
    ]) {
      expect(result.log).toMatch(line)
    }
    expect(result.outputs['status']).toBe('SUCCESSFUL')

    // Without ecr:DescribeImages and ecs:DescribeClusters, the image and cluster checks are skipped too.
    const noDescribe = `arn:aws:iam::${stack.accountId}:role/${uniqueName('no-describe')}`
    await stack.admin.post('sts/roles', {
      roleArn: noDescribe,
      trust: { sub: ['repo:*'], subOperator: 'StringLike', aud: 'sts.amazonaws.com' },
      allowedActions: [
        'ecs:DescribeServices',
        'ecs:DescribeServiceDeployments',
        'ecs:DescribeTaskDefinition',
        'ecs:DescribeTasks',
        'ecs:ListTasks',
        'ecs:RegisterTaskDefinition',
        'ecs:UpdateService',
        'ecs:StopServiceDeployment',
        'ecr:GetAuthorizationToken',
        'iam:*',
        'logs:*'
      ]
    })
    const second = await service(1)
    const plain = await deploy(
      second.name,
      taskDefinition(second.name, images.good2),
      {},
      { roleArn: noDescribe }
    )
    expect(plain.log).toMatch(/SKIP\s+cluster e2e: .*grant ecs:DescribeClusters/)
    expect(plain.log).toMatch(/SKIP\s+image of web: .*grant ecr:DescribeImages/)
    expect(plain.outputs['status']).toBe('SUCCESSFUL')
  })

  it('keeps the service volume configuration: UpdateService never sends volumeConfigurations', async () => {
    const volumes = { volumes: [{ name: 'data', configuredAtLaunch: true }] }
    const name = uniqueName('vol')
    const v1 = (
      await ecs.send(
        new RegisterTaskDefinitionCommand(taskDefinition(name, images.good, volumes) as never)
      )
    ).taskDefinition?.taskDefinitionArn as string
    const volumeConfigurations = [
      {
        name: 'data',
        managedEBSVolume: {
          roleArn: 'arn:aws:iam::123456789012:role/ecs-ebs',
          sizeInGiB: 20,
          volumeType: 'gp3',
          filesystemType: 'ext4'
        }
      }
    ]
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'e2e',
        serviceName: name,
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: E2E_NETWORK,
        volumeConfigurations: volumeConfigurations as never
      })
    )
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, images.good2, volumes))
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('SUCCESSFUL')
    const updates = stack
      .requestLog({ sinceId: since })
      .filter((r) => r.operation === 'UpdateService')
    expect(updates).toHaveLength(1)
    expect(updates[0]?.params).not.toHaveProperty('volumeConfigurations')
    const described = (
      await ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] }))
    ).services?.[0]
    expect(described?.taskDefinition).toBe(result.outputs['task-definition-arn'])
    expect(described?.deployments?.[0]?.volumeConfigurations).toEqual(volumeConfigurations)
  })

  it('succeeds through 50 % throttling of DescribeServices', async () => {
    const { name } = await service()
    await stack.admin.post('faults', {
      service: 'ecs',
      operation: 'DescribeServices',
      type: 'throttle',
      rate: 0.5,
      spread: true
    })
    try {
      const result = await deploy(name, taskDefinition(name, images.good2))
      expect(result.errors).toEqual([])
      expect(result.outputs['status']).toBe('SUCCESSFUL')
    } finally {
      await stack.admin.delete('faults')
    }
    const throttled = stack
      .requestLog({ service: 'ecs', operation: 'DescribeServices' })
      .filter((r) => r.errorCode?.startsWith('Throttl'))
    expect(throttled.length).toBeGreaterThan(0)
  })

  it('refreshes credentials that expire during the wait instead of timing out', async () => {
    const { name, v1 } = await service()
    const since = lastId()
    const pending = deploy(name, taskDefinition(name, images.slow))
    for (let i = 0; i < 200; i++) {
      if ((await currentTaskDefinition(name)) !== v1) break
      await new Promise((r) => setTimeout(r, 50))
    }
    // Two simulated hours later every credential issued so far has expired.
    stack.clock.advance(2 * 60 * 60 * 1000)
    const result = await pending
    expect(result.errors).toEqual([])
    expect(result.outputs['status']).toBe('SUCCESSFUL')
    expect(result.log).toMatch(/credentials expired during the wait; fetching new ones/)
    const log = stack.requestLog({ sinceId: since })
    const expired = log.findIndex((r) => r.errorCode === 'ExpiredTokenException')
    expect(expired).toBeGreaterThan(-1)
    expect(
      log
        .slice(expired)
        .some((r) => r.operation === 'AssumeRoleWithWebIdentity' && r.status === 200)
    ).toBe(true)
  })

  it('reports that our deployment was replaced when someone else deploys during it', async () => {
    const { name, v1 } = await service()
    const other = await ecs.send(
      new RegisterTaskDefinitionCommand(taskDefinition(name, images.good) as never)
    )
    const pending = deploy(name, taskDefinition(name, images.slow))
    for (let i = 0; i < 200; i++) {
      const s = (await ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] })))
        .services?.[0]
      // Ours is registered (as revision 3) and rolling out: now someone else deploys revision 2.
      if (s?.taskDefinition && s.taskDefinition !== v1) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await ecs.send(
      new UpdateServiceCommand({
        cluster: 'e2e',
        service: name,
        taskDefinition: other.taskDefinition?.taskDefinitionArn
      })
    )
    const result = await pending
    expect(result.exitCode).toBe(1)
    expect(result.outputs['status']).toBe('FAILED')
    expect(result.errors.join('\n')).toMatch(/was replaced by another deployment/)
  })

  it('stops before UpdateService when the run-task-before migration fails', async () => {
    const { name, v1 } = await service()
    const since = lastId()
    const result = await deploy(name, taskDefinition(name, images.crash), {
      'run-task-before': 'migrate --up',
      verify: 'false'
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors.join('\n')).toMatch(
      /one-off task "migrate --up" failed \(web exit code 3.*the service was not updated/
    )
    expect(result.errors.join('\n')).toMatch(/CloudWatch Logs group \/ecs\/web/)
    expect(mutations(since)).toEqual(['RegisterTaskDefinition', 'RunTask'])
    expect(await currentTaskDefinition(name)).toBe(v1)
  })

  it('times out, stops the deployment with a rollback, and reports TIMED_OUT', async () => {
    const { name, v1 } = await service(1)
    await stack.admin.post('clock/speed', { speed: 1 })
    try {
      const result = await deploy(name, taskDefinition(name, images.slow), {
        'wait-timeout': '10s'
      })
      expect(result.exitCode).toBe(1)
      expect(result.outputs['status']).toBe('TIMED_OUT')
      expect(result.errors.join('\n')).toMatch(/did not finish within 10s.*rolled back to/)
      expect(
        stack.requestLog({ service: 'ecs', operation: 'StopServiceDeployment' }).length
      ).toBeGreaterThan(0)
      expect(await currentTaskDefinition(name)).toBe(v1)
    } finally {
      await stack.admin.post('clock/speed', { speed: SPEED })
    }
  })

  it('on SIGTERM during the wait, requests a rollback and reports CANCELLED', async () => {
    const { name } = await service(1)
    await stack.admin.post('clock/speed', { speed: 1 })
    try {
      const since = lastId()
      const result = await deploy(
        name,
        taskDefinition(name, images.slow),
        {},
        {
          signal: { when: /deployment ecs-svc\/\d+ started/, signal: 'SIGTERM' }
        }
      )
      expect(result.exitCode).toBe(1)
      expect(result.outputs['status']).toBe('CANCELLED')
      expect(result.errors.join('\n')).toMatch(/cancelled.*rollback requested/)
      expect(mutations(since)).toContain('StopServiceDeployment')
    } finally {
      await stack.admin.post('clock/speed', { speed: SPEED })
    }
  })
})
