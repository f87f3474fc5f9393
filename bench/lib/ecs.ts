/** Shared set-up for the deploy-ecs benchmarks: a local stack with a seeded ECS cluster, services, deploys. */
import {
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type ServiceDeployment
} from '@aws-sdk/client-ecs'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { runAction, type RunResult } from '../../test/helpers/runner.js'

export const GOOD = ['bench.example/app:v1', 'bench.example/app:v2']
export const CRASH = 'bench.example/app:crash'
export const CLUSTER = 'bench'
const network = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } }

export function taskDefinition(family: string, image: string): Record<string, unknown> {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image, essential: true }]
  }
}

export interface EcsBench {
  stack: SimStack
  ecs: ECSClient
  newService(name: string, desired: number): Promise<void>
  deploy(
    name: string,
    image: string,
    options?: { onOutput?: (stdout: string) => void }
  ): Promise<{ result: RunResult; startedAt: number; exitedAt: number }>
  currentDeployment(name: string): Promise<ServiceDeployment | undefined>
  /** Simulated instant → wall clock (valid at speed 1 only). */
  toWall(simMs: number): number
  stop(): Promise<void>
}

export async function ecsBench(speed = 1): Promise<EcsBench> {
  const stack = await startStack({ registry: false, speed })
  const ecs = new ECSClient({ ...stack.clientConfig })
  await stack.admin.post('ecs/images', { images: [...GOOD, CRASH] })
  await stack.admin.post('ecs/scenario', { image: CRASH, behaviour: 'crash', exitCode: 2 })
  await stack.admin.post('ecs/seed', { clusters: [CLUSTER] })
  const workspaces = mkdtempSync(join(tmpdir(), 'bench-deploy-ecs-'))
  return {
    stack,
    ecs,
    async newService(name, desired) {
      const v1 = await ecs.send(
        new RegisterTaskDefinitionCommand(taskDefinition(name, GOOD[0]!) as never)
      )
      await ecs.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName: name,
          taskDefinition: v1.taskDefinition?.taskDefinitionArn,
          desiredCount: desired,
          launchType: 'FARGATE',
          networkConfiguration: network,
          deploymentConfiguration: {
            deploymentCircuitBreaker: { enable: true, rollback: true },
            // Ten tasks start three at a time, as large services do.
            maximumPercent: desired >= 10 ? 130 : 200
          }
        })
      )
      stack.clock.advance(120_000)
    },
    async deploy(name, image, options = {}) {
      const workspace = mkdtempSync(join(workspaces, `${name}-`))
      writeFileSync(join(workspace, 'td.json'), JSON.stringify(taskDefinition(name, image)))
      const startedAt = Date.now()
      const result = await runAction('deploy-ecs', {
        inputs: {
          'role-to-assume': stack.roleArn,
          'task-definition': 'td.json',
          cluster: CLUSTER,
          service: name,
          verify: 'false'
        },
        env: stack.env,
        workspace,
        timeoutMs: Number(process.env.BENCH_TIMEOUT ?? 300_000),
        ...(options.onOutput ? { onOutput: options.onOutput } : {})
      })
      return { result, startedAt, exitedAt: Date.now() }
    },
    async currentDeployment(name) {
      const service = (
        await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))
      ).services?.[0]
      return (
        await ecs.send(
          new DescribeServiceDeploymentsCommand({
            serviceDeploymentArns: [service?.currentServiceDeployment as string]
          })
        )
      ).serviceDeployments?.[0]
    },
    toWall(simMs) {
      return simMs - (stack.clock.now() - Date.now())
    },
    async stop() {
      ecs.destroy()
      await stack.stop()
      rmSync(workspaces, { recursive: true, force: true })
    }
  }
}
