/**
 * The set-up the deploy-ecs end-to-end suites share: a local stack with an ECR repository "web" holding images the
 * real Docker engine built and pushed, an execution role, a log group and a cluster "e2e"; running services to
 * deploy to; and the bundled action run against them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { buildImage, dockerConfigDir, dockerOk, loginWithToken } from '../sim/docker-helpers.js'
import { runAction, type RunResult, uniqueName } from './runner.js'

export const E2E_NETWORK = {
  awsvpcConfiguration: { subnets: ['subnet-0e2e'], securityGroups: ['sg-0e2e'] }
}

/** The images a suite can ask for, each a tag of "web" with the labels that make the simulator's tasks behave so. */
const IMAGE_LABELS = {
  good: { tag: 'v1', labels: { version: '1' } },
  good2: { tag: 'v2', labels: { version: '2' } },
  crash: {
    tag: 'crash',
    labels: { 'shipline.sim.behaviour': 'crash', 'shipline.sim.exit-code': '3' }
  },
  slow: { tag: 'slow', labels: { 'shipline.sim.behaviour': 'slow-start' } }
} as const

export type PushedImage = keyof typeof IMAGE_LABELS
/** Image references by name; `missing` is a tag of "web" that was never pushed. */
export type E2eImages = Record<PushedImage | 'missing', string>

export interface DeployOptions {
  roleArn?: string
  signal?: { when: RegExp; signal: NodeJS.Signals }
  /** Added to the stack's environment. */
  env?: Record<string, string>
}

export class EcsE2e {
  stack!: SimStack
  ecs!: ECSClient
  images!: E2eImages
  execRole!: string
  private readonly localPrefix: string

  /** `label` names the suite's local images and workspaces; `push` lists the images it deploys. */
  constructor(
    private readonly label: string,
    private readonly push: readonly PushedImage[],
    private readonly speed = 20
  ) {
    this.localPrefix = `shipline-${label}-${process.pid}`
  }

  async start(): Promise<void> {
    this.stack = await startStack({ speed: this.speed })
    this.ecs = new ECSClient({ ...this.stack.clientConfig })
    const ecr = new ECRClient({ ...this.stack.clientConfig })
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }))
    const token = await ecr.send(new GetAuthorizationTokenCommand({}))
    ecr.destroy()
    const config = dockerConfigDir()
    await loginWithToken(
      this.stack.registryHost,
      token.authorizationData?.[0]?.authorizationToken as string,
      config
    )
    const images: Partial<E2eImages> = { missing: `${this.stack.registryHost}/web:never-pushed` }
    for (const name of Object.keys(IMAGE_LABELS) as PushedImage[]) {
      images[name] = this.push.includes(name) ? await this.pushed(name, config) : ''
    }
    this.images = images as E2eImages
    const roles = await this.stack.admin.post<{ roles: string[] }>('iam/seed', {
      roles: [{ name: 'web-exec' }]
    })
    this.execRole = roles.roles[0] as string
    await this.stack.admin.post('logs/seed', { logGroups: [{ name: '/ecs/web' }] })
    await this.stack.admin.post('ecs/seed', { clusters: ['e2e'] })
  }

  async stop(): Promise<void> {
    this.ecs?.destroy()
    await this.stack?.stop()
    for (const name of this.push)
      await dockerOk(['rmi', '-f', `${this.localPrefix}-${IMAGE_LABELS[name].tag}`]).catch(() => '')
  }

  private async pushed(name: PushedImage, config: string): Promise<string> {
    const { tag, labels } = IMAGE_LABELS[name]
    const ref = `${this.stack.registryHost}/web:${tag}`
    await buildImage(`${this.localPrefix}-${tag}`, labels)
    await dockerOk(['tag', `${this.localPrefix}-${tag}`, ref])
    await dockerOk(['push', '--quiet', ref], { config })
    return ref
  }

  /** A Fargate task definition with one container "web" logging to /ecs/web. */
  taskDefinition = (
    family: string,
    image: string,
    extra: Record<string, unknown> = {}
  ): Record<string, unknown> => ({
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    executionRoleArn: this.execRole,
    containerDefinitions: [
      {
        name: 'web',
        image,
        essential: true,
        portMappings: [{ containerPort: 8080 }],
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': '/ecs/web',
            'awslogs-region': 'us-east-1',
            'awslogs-stream-prefix': 'web'
          }
        }
      }
    ],
    ...extra
  })

  /** A running service on the first revision, as a team has before adopting deploy-ecs. */
  service = async (
    desiredCount = 2,
    extra: Record<string, unknown> = {}
  ): Promise<{ name: string; v1: string }> => {
    const name = uniqueName('svc')
    const registered = await this.ecs.send(
      new RegisterTaskDefinitionCommand(this.taskDefinition(name, this.images.good) as never)
    )
    const v1 = registered.taskDefinition?.taskDefinitionArn as string
    await this.ecs.send(
      new CreateServiceCommand({
        cluster: 'e2e',
        serviceName: name,
        taskDefinition: v1,
        desiredCount,
        launchType: 'FARGATE',
        networkConfiguration: E2E_NETWORK,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
        ...extra
      })
    )
    for (let i = 0; i < 100; i++) {
      const s = (
        await this.ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] }))
      ).services?.[0]
      if (s?.deployments?.[0]?.rolloutState === 'COMPLETED') break
      await new Promise((r) => setTimeout(r, 100))
    }
    return { name, v1 }
  }

  currentTaskDefinition = async (name: string): Promise<string | undefined> =>
    (await this.ecs.send(new DescribeServicesCommand({ cluster: 'e2e', services: [name] })))
      .services?.[0]?.taskDefinition

  /** Runs the bundled deploy-ecs on service `name` of cluster "e2e" with `td` as its task definition file. */
  deploy = (
    name: string,
    td: Record<string, unknown>,
    inputs: Record<string, string> = {},
    options: DeployOptions = {}
  ): Promise<RunResult> => {
    const workspace = mkdtempSync(join(tmpdir(), `${this.label}-`))
    writeFileSync(join(workspace, 'task-definition.json'), JSON.stringify(td, null, 2))
    return runAction('deploy-ecs', {
      inputs: {
        'role-to-assume': options.roleArn ?? this.stack.roleArn,
        'task-definition': 'task-definition.json',
        cluster: 'e2e',
        service: name,
        ...inputs
      },
      env: { ...this.stack.env, ...options.env },
      workspace,
      signal: options.signal,
      timeoutMs: 110_000
    })
  }
}
