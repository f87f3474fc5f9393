import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  ClientException,
  ClusterNotFoundException,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  ServiceDeploymentNotFoundException,
  ServiceNotActiveException,
  ServiceNotFoundException,
  StopServiceDeploymentCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  paginateListTaskDefinitions,
  paginateListTasks,
  type RegisterTaskDefinitionCommandInput,
  type Service
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack
let ecs: ECSClient

const GOOD_V1 = 'public.example/app:v1'
const GOOD_V2 = 'public.example/app:v2'
const CRASH = 'public.example/app:crash'
const UNHEALTHY = 'public.example/app:unhealthy'
const SLOW = 'public.example/app:slow'
const MISSING = 'public.example/app:never-pushed'

beforeAll(async () => {
  stack = await startStack({ registry: false })
  ecs = new ECSClient({
    ...stack.clientConfig,
    maxAttempts: 1
  })
  await stack.admin.post('ecs/images', { images: [GOOD_V1, GOOD_V2, CRASH, UNHEALTHY, SLOW] })
  await stack.admin.post('ecs/scenario', { image: CRASH, behaviour: 'crash', exitCode: 3 })
  await stack.admin.post('ecs/scenario', { image: UNHEALTHY, behaviour: 'unhealthy' })
  await stack.admin.post('ecs/scenario', { image: SLOW, behaviour: 'slow-start' })
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

function taskDef(
  family: string,
  image: string,
  extra: Partial<RegisterTaskDefinitionCommandInput> = {}
): RegisterTaskDefinitionCommandInput {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    containerDefinitions: [
      { name: 'app', image, essential: true, portMappings: [{ containerPort: 8080 }] }
    ],
    ...extra
  }
}

const network = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } }

async function register(family: string, image: string): Promise<string> {
  const r = await ecs.send(new RegisterTaskDefinitionCommand(taskDef(family, image)))
  return r.taskDefinition!.taskDefinitionArn!
}

async function describe1(service: string, cluster = 'main'): Promise<Service> {
  const r = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))
  return r.services![0]!
}

/** Advances the simulated clock in steps (so every intermediate state is observable) until `done`. */
async function advanceUntil(
  check: () => Promise<boolean>,
  stepMs = 1000,
  maxSteps = 600
): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (await check()) return
    stack.clock.advance(stepMs)
  }
  throw new Error('condition not reached in simulated time')
}

describe('task definitions', () => {
  it('validates like ECS with ClientExceptions', async () => {
    const cases: [Partial<RegisterTaskDefinitionCommandInput>, RegExp][] = [
      [{ containerDefinitions: [] }, /Container list cannot be empty/],
      [{ family: 'bad family!' }, /Family contains invalid characters/],
      [{ networkMode: 'bridge' }, /Fargate only supports network mode 'awsvpc'/],
      [
        { cpu: '256', memory: '4096' },
        /No Fargate configuration exists for given values: 256 CPU, 4096 memory/
      ],
      [{ cpu: undefined }, /Fargate requires that 'cpu' be defined at the task level/],
      [
        {
          containerDefinitions: [
            {
              name: 'app',
              image: GOOD_V1,
              dependsOn: [{ containerName: 'db', condition: 'START' }]
            }
          ]
        },
        /Container 'db' does not exist/
      ],
      [
        {
          containerDefinitions: [
            { name: 'app', image: GOOD_V1 },
            { name: 'app', image: GOOD_V1 }
          ]
        },
        /Duplicate container name 'app'/
      ],
      [
        { containerDefinitions: [{ name: 'app', image: '' }] },
        /Container.image should not be null or empty/
      ],
      [
        { containerDefinitions: [{ name: 'app', image: GOOD_V1, memory: 1024 }] },
        /greater than the task 'memory'/
      ],
      [
        {
          executionRoleArn: undefined,
          containerDefinitions: [
            { name: 'app', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' }
          ]
        },
        /execution role ARN to support ECR images/
      ]
    ]
    for (const [patch, message] of cases) {
      const e = await errorOf(
        ecs.send(new RegisterTaskDefinitionCommand(taskDef('web', GOOD_V1, patch)))
      )
      expect(e).toBeInstanceOf(ClientException)
      expect(e.message).toMatch(message)
    }
  })

  it('increments revisions per family, describes by family, family:revision and ARN with tags, deregisters', async () => {
    const first = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...taskDef('td-rev', GOOD_V1),
        tags: [{ key: 'team', value: 'a' }]
      })
    )
    expect(first.taskDefinition).toMatchObject({
      family: 'td-rev',
      revision: 1,
      status: 'ACTIVE',
      cpu: '256',
      memory: '512'
    })
    expect(first.taskDefinition?.compatibilities).toEqual(['EC2', 'FARGATE'])
    expect(first.taskDefinition?.containerDefinitions?.[0]?.portMappings?.[0]).toMatchObject({
      containerPort: 8080,
      hostPort: 8080,
      protocol: 'tcp'
    })
    expect(first.taskDefinition?.registeredAt).toBeInstanceOf(Date)
    const second = await ecs.send(new RegisterTaskDefinitionCommand(taskDef('td-rev', GOOD_V2)))
    expect(second.taskDefinition?.revision).toBe(2)
    expect(second.taskDefinition?.taskDefinitionArn).toBe(
      `arn:aws:ecs:${stack.region}:${stack.accountId}:task-definition/td-rev:2`
    )

    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'td-rev' }))
    expect(latest.taskDefinition?.revision).toBe(2)
    const byRev = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'td-rev:1', include: ['TAGS'] })
    )
    expect(byRev.tags).toEqual([{ key: 'team', value: 'a' }])
    const byArn = await ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: first.taskDefinition!.taskDefinitionArn!
      })
    )
    expect(byArn.taskDefinition?.containerDefinitions?.[0]?.image).toBe(GOOD_V1)
    expect(byArn.tags).toBeUndefined()

    const dereg = await ecs.send(
      new DeregisterTaskDefinitionCommand({ taskDefinition: 'td-rev:2' })
    )
    expect(dereg.taskDefinition?.status).toBe('INACTIVE')
    const afterDereg = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'td-rev' })
    )
    expect(afterDereg.taskDefinition?.revision).toBe(1)

    const missing = await errorOf(
      ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope:9' }))
    )
    expect(missing).toBeInstanceOf(ClientException)
    expect(missing.message).toBe('Unable to describe task definition.')
    const noRev = await errorOf(
      ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'td-rev' }))
    )
    expect(noRev).toBeInstanceOf(InvalidParameterException)
  })

  it('lists task definitions page by page', async () => {
    for (let i = 0; i < 5; i++) await register('td-page', GOOD_V1)
    const arns: string[] = []
    let pages = 0
    for await (const page of paginateListTaskDefinitions(
      { client: ecs, pageSize: 2 },
      { familyPrefix: 'td-page' }
    )) {
      pages++
      arns.push(...(page.taskDefinitionArns ?? []))
    }
    expect(pages).toBe(3)
    expect(arns.map((a) => a.split(':').pop())).toEqual(['1', '2', '3', '4', '5'])
    const desc = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'td-page', sort: 'DESC', maxResults: 1 })
    )
    expect(desc.taskDefinitionArns?.[0]).toMatch(/td-page:5$/)
    expect(desc.nextToken).toBeDefined()
    const bad = await errorOf(ecs.send(new ListTaskDefinitionsCommand({ nextToken: 'garbage' })))
    expect(bad).toBeInstanceOf(InvalidParameterException)
  })
})

describe('clusters', () => {
  it('creates and describes clusters, reporting missing ones as failures', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'extra' }))
    expect(created.cluster).toMatchObject({ clusterName: 'extra', status: 'ACTIVE' })
    const r = await ecs.send(new DescribeClustersCommand({ clusters: ['extra', 'ghost'] }))
    expect(r.clusters?.map((c) => c.clusterName)).toEqual(['extra'])
    expect(r.failures).toEqual([
      { arn: `arn:aws:ecs:${stack.region}:${stack.accountId}:cluster/ghost`, reason: 'MISSING' }
    ])
    const e = await errorOf(
      ecs.send(
        new CreateServiceCommand({
          cluster: 'ghost',
          serviceName: 's',
          taskDefinition: 'td-rev',
          desiredCount: 1
        })
      )
    )
    expect(e).toBeInstanceOf(ClusterNotFoundException)
  })
})

describe('rolling deployments', () => {
  it('creates a service, rolls out a new revision to COMPLETED with events and service deployments', async () => {
    const v1 = await register('web', GOOD_V1)
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'web',
        taskDefinition: v1,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    expect(created.service?.deployments?.[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS'
    })
    await advanceUntil(
      async () => (await describe1('web')).deployments?.[0]?.rolloutState === 'COMPLETED'
    )

    const v2 = await register('web', GOOD_V2)
    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'web', taskDefinition: v2 })
    )
    expect(updated.service?.deployments?.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE'])
    const newId = updated.service!.deployments![0]!.id!
    expect(newId).toMatch(/^ecs-svc\/\d{19}$/)

    let sawBoth = false
    await advanceUntil(async () => {
      const s = await describe1('web')
      if (s.deployments?.length === 2 && (s.runningCount ?? 0) >= 2) sawBoth = true
      return s.deployments?.length === 1 && s.deployments[0]?.rolloutState === 'COMPLETED'
    }, 500)
    expect(sawBoth).toBe(true)
    const s = await describe1('web')
    expect(s).toMatchObject({
      taskDefinition: v2,
      runningCount: 2,
      pendingCount: 0,
      desiredCount: 2
    })
    expect(s.deployments?.[0]).toMatchObject({
      id: newId,
      rolloutState: 'COMPLETED',
      rolloutStateReason: `ECS deployment ${newId} completed.`,
      runningCount: 2,
      failedTasks: 0
    })
    expect(s.events?.[0]?.message).toBe('(service web) has reached a steady state.')
    expect(s.events?.[1]?.message).toBe(`(service web) (deployment ${newId}) deployment completed.`)
    expect(s.events?.some((e) => /has stopped 2 running tasks/.test(e.message ?? ''))).toBe(true)
    // Events are newest first.
    const times = s.events!.map((e) => e.createdAt!.getTime())
    expect([...times].sort((a, b) => b - a)).toEqual(times)

    const list = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'main', service: 'web' })
    )
    expect(list.serviceDeployments?.map((d) => d.status)).toEqual(['SUCCESSFUL', 'SUCCESSFUL'])
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [
          list.serviceDeployments![0]!.serviceDeploymentArn!,
          'arn:aws:ecs:us-east-1:123456789012:service-deployment/main/web/nope'
        ]
      })
    )
    const sd = described.serviceDeployments![0]!
    expect(sd.targetServiceRevision?.runningTaskCount).toBe(2)
    expect(sd.sourceServiceRevisions?.[0]?.runningTaskCount).toBe(0)
    expect(sd.finishedAt).toBeInstanceOf(Date)
    expect(sd.deploymentCircuitBreaker?.status).toBe('DISABLED')
    expect(described.failures?.[0]?.reason).toBe('MISSING')

    const tasks = await ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web' }))
    const d = await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: tasks.taskArns! }))
    expect(d.tasks?.every((t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn === v2)).toBe(
      true
    )
    expect(d.tasks?.[0]?.startedBy).toBe(newId)
  })

  it('fails a crashing deployment through the circuit breaker and rolls back to the old revision', async () => {
    const v1 = await register('cb', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'cb',
        taskDefinition: v1,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: network,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }
      })
    )
    await advanceUntil(
      async () => (await describe1('cb')).deployments?.[0]?.rolloutState === 'COMPLETED'
    )
    const oldId = (await describe1('cb')).deployments![0]!.id!
    const bad = await register('cb', CRASH)
    const up = await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'cb', taskDefinition: bad })
    )
    const badId = up.service!.deployments![0]!.id!

    let sawFailed = false
    await advanceUntil(async () => {
      const s = await describe1('cb')
      const failed = s.deployments?.find((d) => d.id === badId)
      if (failed?.rolloutState === 'FAILED') sawFailed = true
      return (
        s.deployments?.length === 1 &&
        s.deployments[0]?.id !== badId &&
        s.deployments[0]?.rolloutState === 'COMPLETED'
      )
    }, 500)
    expect(sawFailed).toBe(true)
    const s = await describe1('cb')
    expect(s.taskDefinition).toBe(v1)
    const rollback = s.deployments![0]!
    expect(rollback.id).not.toBe(oldId)
    expect(rollback.taskDefinition).toBe(v1)
    expect(rollback.rolloutStateReason).toBe(`ECS deployment ${rollback.id} completed.`)
    expect(
      s.events?.some((e) =>
        e.message?.startsWith(`(service cb) (deployment ${rollback.id}) rolling back to cb:`)
      )
    ).toBe(true)
    expect(
      s.events?.some(
        (e) =>
          e.message ===
          `(service cb) (deployment ${badId}) deployment failed: tasks failed to start.`
      )
    ).toBe(true)
    expect(s.events?.[0]?.message).toBe('(service cb) has reached a steady state.')

    const list = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'main', service: 'cb' })
    )
    expect(list.serviceDeployments?.map((d) => d.status)).toEqual([
      'ROLLBACK_SUCCESSFUL',
      'SUCCESSFUL'
    ])
    const sd = (
      await ecs.send(
        new DescribeServiceDeploymentsCommand({
          serviceDeploymentArns: [list.serviceDeployments![0]!.serviceDeploymentArn!]
        })
      )
    ).serviceDeployments![0]!
    expect(sd.deploymentCircuitBreaker).toMatchObject({ status: 'TRIGGERED', threshold: 3 })
    expect(sd.deploymentCircuitBreaker?.failureCount).toBeGreaterThanOrEqual(3)
    expect(sd.rollback?.reason).toMatch(/circuit breaker/)

    const stopped = await ecs.send(
      new ListTasksCommand({ cluster: 'main', serviceName: 'cb', desiredStatus: 'STOPPED' })
    )
    const tasks = (
      await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: stopped.taskArns! }))
    ).tasks!
    const crashed = tasks.filter((t) => t.taskDefinitionArn === bad)
    expect(crashed.length).toBeGreaterThanOrEqual(3)
    expect(crashed[0]).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited'
    })
    expect(crashed[0]?.containers?.[0]?.exitCode).toBe(3)
  })

  it('rolls within maximumPercent and minimumHealthyPercent, replacing old tasks as new ones become healthy', async () => {
    const v1 = await register('limits', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'limits',
        taskDefinition: v1,
        desiredCount: 10,
        launchType: 'FARGATE',
        networkConfiguration: network,
        deploymentConfiguration: { maximumPercent: 130, minimumHealthyPercent: 100 }
      })
    )
    await advanceUntil(
      async () => (await describe1('limits')).deployments?.[0]?.rolloutState === 'COMPLETED'
    )
    const v2 = await register('limits', GOOD_V2)
    await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'limits', taskDefinition: v2 })
    )
    let maxTotal = 0
    let minRunning = Infinity
    let firstBatch: number | undefined
    await advanceUntil(async () => {
      const s = await describe1('limits')
      const ds = s.deployments ?? []
      const total = ds.reduce((n, d) => n + (d.runningCount ?? 0) + (d.pendingCount ?? 0), 0)
      const running = ds.reduce((n, d) => n + (d.runningCount ?? 0), 0)
      maxTotal = Math.max(maxTotal, total)
      minRunning = Math.min(minRunning, running)
      const primary = ds.find((d) => d.status === 'PRIMARY')
      firstBatch ??= (primary?.pendingCount ?? 0) + (primary?.runningCount ?? 0) || undefined
      return primary?.rolloutState === 'COMPLETED'
    }, 500)
    // 130 % of 10: three new tasks at a time; 100 % minimum healthy: never fewer than 10 running.
    expect(firstBatch).toBe(3)
    expect(maxTotal).toBeLessThanOrEqual(13)
    expect(minRunning).toBeGreaterThanOrEqual(10)
    const done = await describe1('limits')
    expect(done.deployments).toHaveLength(1)
    expect(done.runningCount).toBe(10)
  })

  it('keeps volumeConfigurations when UpdateService omits them, replaces them when given, and checks the names', async () => {
    const withVolume = (image: string): RegisterTaskDefinitionCommandInput =>
      taskDef('vols', image, { volumes: [{ name: 'data', configuredAtLaunch: true }] })
    const v1 = (await ecs.send(new RegisterTaskDefinitionCommand(withVolume(GOOD_V1))))
      .taskDefinition!.taskDefinitionArn!
    const v2 = (await ecs.send(new RegisterTaskDefinitionCommand(withVolume(GOOD_V2))))
      .taskDefinition!.taskDefinitionArn!
    const ebs = [
      {
        name: 'data',
        managedEBSVolume: { roleArn: 'arn:aws:iam::123456789012:role/ebs', sizeInGiB: 30 }
      }
    ]
    const bad = await errorOf(
      ecs.send(
        new CreateServiceCommand({
          cluster: 'main',
          serviceName: 'vols',
          taskDefinition: v1,
          desiredCount: 1,
          launchType: 'FARGATE',
          networkConfiguration: network,
          volumeConfigurations: [{ name: 'other', managedEBSVolume: ebs[0]!.managedEBSVolume }]
        })
      )
    )
    expect(bad).toBeInstanceOf(InvalidParameterException)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'vols',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        volumeConfigurations: ebs
      })
    )
    await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'vols', taskDefinition: v2 })
    )
    expect((await describe1('vols')).deployments?.[0]?.volumeConfigurations).toEqual(ebs)
    // An empty list is a different configuration: it removes the volume and starts a deployment.
    const before = (await describe1('vols')).deployments?.length ?? 0
    await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'vols', volumeConfigurations: [] })
    )
    const after = await describe1('vols')
    expect(after.deployments?.[0]?.volumeConfigurations).toBeUndefined()
    expect(after.deployments?.length).toBeGreaterThan(before)
  })

  it('keeps replacing failing tasks forever without the circuit breaker', async () => {
    const v1 = await register('nocb', UNHEALTHY)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'nocb',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    stack.clock.advance(10 * 60 * 1000)
    const s = await describe1('nocb')
    expect(s.deployments?.[0]?.rolloutState).toBe('IN_PROGRESS')
    expect(s.deployments?.[0]?.failedTasks).toBeGreaterThan(20)
    expect(
      s.events?.some((e) =>
        /\(task [0-9a-f]{32}\) failed container health checks\./.test(e.message ?? '')
      )
    ).toBe(true)
    const stopped = await ecs.send(
      new ListTasksCommand({
        cluster: 'main',
        serviceName: 'nocb',
        desiredStatus: 'STOPPED',
        maxResults: 1
      })
    )
    const t = (
      await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: stopped.taskArns! }))
    ).tasks![0]!
    expect(t.stoppedReason).toBe('Task failed container health checks')
  })

  it('rolls an in-progress deployment back on StopServiceDeployment', async () => {
    const v1 = await register('stopme', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'stopme',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    await advanceUntil(
      async () => (await describe1('stopme')).deployments?.[0]?.rolloutState === 'COMPLETED'
    )
    const slow = await register('stopme', SLOW)
    await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'stopme', taskDefinition: slow })
    )
    const arn = (await describe1('stopme')).currentServiceDeployment!
    const r = await ecs.send(
      new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' })
    )
    expect(r.serviceDeploymentArn).toBe(arn)
    await advanceUntil(async () => {
      const sd = (
        await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))
      ).serviceDeployments![0]!
      return sd.status === 'ROLLBACK_SUCCESSFUL'
    })
    expect((await describe1('stopme')).taskDefinition).toBe(v1)
    const again = await errorOf(
      ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn }))
    )
    expect(again.name).toBe('ConflictException')
    const missing = await errorOf(
      ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: `${arn}x` }))
    )
    expect(missing).toBeInstanceOf(ServiceDeploymentNotFoundException)
  })

  it('walks ECS-native blue/green through its lifecycle stages with bake time', async () => {
    const v1 = await register('bg', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'bg',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 }
      })
    )
    await advanceUntil(
      async () => (await describe1('bg')).deployments?.[0]?.rolloutState === 'COMPLETED'
    )
    const v2 = await register('bg', GOOD_V2)
    await ecs.send(new UpdateServiceCommand({ cluster: 'main', service: 'bg', taskDefinition: v2 }))
    const arn = (await describe1('bg')).currentServiceDeployment!
    const stages: string[] = []
    await advanceUntil(
      async () => {
        const sd = (
          await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))
        ).serviceDeployments![0]!
        if (sd.lifecycleStage && stages[stages.length - 1] !== sd.lifecycleStage)
          stages.push(sd.lifecycleStage)
        return sd.status === 'SUCCESSFUL'
      },
      1000,
      1000
    )
    expect(stages).toEqual(
      expect.arrayContaining(['SCALE_UP', 'PRODUCTION_TRAFFIC_SHIFT', 'BAKE_TIME', 'CLEAN_UP'])
    )
    expect(stages.indexOf('BAKE_TIME')).toBeGreaterThan(stages.indexOf('PRODUCTION_TRAFFIC_SHIFT'))
    const s = await describe1('bg')
    expect(s.taskDefinition).toBe(v2)
    expect(s.deployments).toHaveLength(1)
  })
})

describe('service errors', () => {
  it('refuses task-definition changes on CODE_DEPLOY services', async () => {
    const v1 = await register('cdsvc', GOOD_V1)
    const v2 = await register('cdsvc', GOOD_V2)
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'cdsvc',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        deploymentController: { type: 'CODE_DEPLOY' }
      })
    )
    expect(created.service?.taskSets?.[0]).toMatchObject({ status: 'PRIMARY', taskDefinition: v1 })
    const e = await errorOf(
      ecs.send(new UpdateServiceCommand({ cluster: 'main', service: 'cdsvc', taskDefinition: v2 }))
    )
    expect(e).toBeInstanceOf(InvalidParameterException)
    expect(e.message).toBe(
      'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
    )
    const scaled = await ecs.send(
      new UpdateServiceCommand({ cluster: 'main', service: 'cdsvc', desiredCount: 2 })
    )
    expect(scaled.service?.desiredCount).toBe(2)
  })

  it('answers ServiceNotFound, MISSING failures and ServiceNotActive', async () => {
    const nf = await errorOf(
      ecs.send(new UpdateServiceCommand({ cluster: 'main', service: 'ghost', desiredCount: 1 }))
    )
    expect(nf).toBeInstanceOf(ServiceNotFoundException)
    const d = await ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['ghost'] }))
    expect(d.services).toEqual([])
    expect(d.failures?.[0]).toMatchObject({ reason: 'MISSING' })
    const lsd = await errorOf(
      ecs.send(new ListServiceDeploymentsCommand({ cluster: 'main', service: 'ghost' }))
    )
    expect(lsd).toBeInstanceOf(ServiceNotFoundException)

    const v1 = await register('gone', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'gone',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    const scaled = await errorOf(
      ecs.send(new DeleteServiceCommand({ cluster: 'main', service: 'gone' }))
    )
    expect(scaled).toBeInstanceOf(InvalidParameterException)
    await ecs.send(new DeleteServiceCommand({ cluster: 'main', service: 'gone', force: true }))
    const na = await errorOf(
      ecs.send(new UpdateServiceCommand({ cluster: 'main', service: 'gone', desiredCount: 1 }))
    )
    expect(na).toBeInstanceOf(ServiceNotActiveException)
    const noNet = await errorOf(
      ecs.send(
        new CreateServiceCommand({
          cluster: 'main',
          serviceName: 'nonet',
          taskDefinition: v1,
          desiredCount: 1,
          launchType: 'FARGATE'
        })
      )
    )
    expect(noNet.message).toBe(
      "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    )
  })

  it('pages service deployments', async () => {
    const v1 = await register('many', GOOD_V1)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'main',
        serviceName: 'many',
        taskDefinition: v1,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    for (let i = 0; i < 4; i++) {
      stack.clock.advance(10_000)
      await ecs.send(
        new UpdateServiceCommand({ cluster: 'main', service: 'many', forceNewDeployment: true })
      )
    }
    const statuses: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await ecs.send(
        new ListServiceDeploymentsCommand({
          cluster: 'main',
          service: 'many',
          maxResults: 2,
          nextToken: token
        })
      )
      pages++
      expect(page.serviceDeployments!.length).toBeLessThanOrEqual(2)
      statuses.push(...page.serviceDeployments!.map((d) => d.status!))
      token = page.nextToken
    } while (token)
    expect(pages).toBe(3)
    expect(statuses).toHaveLength(5)
    expect(statuses[0]).toBe('IN_PROGRESS')
  })
})

describe('tasks', () => {
  it('stops a task whose image is not in the registry with CannotPullContainerError', async () => {
    const td = await register('pull', MISSING)
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: 'main',
        taskDefinition: td,
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    const arn = run.tasks![0]!.taskArn!
    expect(run.tasks?.[0]?.lastStatus).toBe('PROVISIONING')
    stack.clock.advance(1000)
    const pending = (await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [arn] })))
      .tasks![0]!
    expect(pending.lastStatus).toBe('PENDING')
    stack.clock.advance(5000)
    const t = (await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [arn] })))
      .tasks![0]!
    expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart' })
    expect(t.stoppedReason).toMatch(
      /^CannotPullContainerError: .*public\.example\/app:never-pushed/
    )
    expect(t.containers?.[0]?.reason).toMatch(/^CannotPullContainerError/)
  })

  it('runs, lists (paged), describes and stops tasks', async () => {
    const td = await register('jobs', GOOD_V1)
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: 'main',
        taskDefinition: td,
        count: 5,
        startedBy: 'ci',
        launchType: 'FARGATE',
        networkConfiguration: network
      })
    )
    expect(run.tasks).toHaveLength(5)
    stack.clock.advance(3000)
    const arns: string[] = []
    for await (const page of paginateListTasks(
      { client: ecs, pageSize: 2 },
      { cluster: 'main', startedBy: 'ci' }
    )) {
      arns.push(...page.taskArns!)
    }
    expect(arns.sort()).toEqual(run.tasks!.map((t) => t.taskArn!).sort())
    const running = await ecs.send(
      new DescribeTasksCommand({ cluster: 'main', tasks: [arns[0]!, 'nope'] })
    )
    expect(running.tasks?.[0]).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' })
    expect(running.failures?.[0]?.reason).toBe('MISSING')

    const stopped = await ecs.send(
      new StopTaskCommand({ cluster: 'main', task: arns[0]!, reason: 'done' })
    )
    expect(stopped.task?.desiredStatus).toBe('STOPPED')
    stack.clock.advance(2000)
    const after = (await ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [arns[0]!] })))
      .tasks![0]!
    expect(after).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'done'
    })

    const e = await errorOf(
      ecs.send(new StopTaskCommand({ cluster: 'main', task: 'f'.repeat(32) }))
    )
    expect(e).toBeInstanceOf(InvalidParameterException)
    const e2 = await errorOf(
      ecs.send(new RunTaskCommand({ cluster: 'main', taskDefinition: 'ghost:1' }))
    )
    expect(e2).toBeInstanceOf(ClientException)
    const e3 = await errorOf(ecs.send(new ListTasksCommand({ cluster: 'ghost' })))
    expect(e3).toBeInstanceOf(ClusterNotFoundException)
    const e4 = await errorOf(ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [] })))
    expect(e4).toBeInstanceOf(InvalidParameterException)
  })
})
