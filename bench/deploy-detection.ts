// Detection lag of deploy-ecs: the time from the simulated ECS deployment reaching its terminal state (COMPLETED,
// or the state our failure detection reacts to) to the bundled action's exit, with the simulated clock at real speed.
// Also reports, for a crashing revision, how many tasks had failed when the action stopped waiting, against the
// circuit breaker's own threshold (the official action waits for the breaker, then up to its next poll).
// Usage: npx tsx bench/deploy-detection.ts [runs]     (needs `npm run bundle -- deploy-ecs` first)
import {
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack } from '../packages/sim/src/stack.js'
import { runAction } from '../test/helpers/runner.js'

const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5)
const GOOD = ['bench.example/app:v1', 'bench.example/app:v2']
const CRASH = 'bench.example/app:crash'
const network = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } }

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

function taskDefinition(family: string, image: string): Record<string, unknown> {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image, essential: true }]
  }
}

const stack = await startStack({ registry: false, speed: 1 })
const ecs = new ECSClient({ ...stack.clientConfig })
await stack.admin.post('ecs/images', { images: [...GOOD, CRASH] })
await stack.admin.post('ecs/scenario', { image: CRASH, behaviour: 'crash', exitCode: 2 })
await stack.admin.post('ecs/seed', { clusters: ['bench'] })

async function newService(name: string, desired: number): Promise<void> {
  const v1 = await ecs.send(
    new RegisterTaskDefinitionCommand(taskDefinition(name, GOOD[0]!) as never)
  )
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'bench',
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
}

async function deploy(name: string, image: string) {
  const workspace = mkdtempSync(join(tmpdir(), 'bench-deploy-'))
  writeFileSync(join(workspace, 'td.json'), JSON.stringify(taskDefinition(name, image)))
  const result = await runAction('deploy-ecs', {
    inputs: {
      'role-to-assume': stack.roleArn,
      'task-definition': 'td.json',
      cluster: 'bench',
      service: name,
      verify: 'false'
    },
    env: stack.env,
    workspace,
    timeoutMs: Number(process.env.BENCH_TIMEOUT ?? 300_000)
  })
  return { result, exitedAt: Date.now() }
}

const successLag: number[] = []
const failedAtExit: number[] = []
let threshold = 0
for (let i = 0; i < runs; i++) {
  const ok = `ok-${i}`
  await newService(ok, 2)
  const { result, exitedAt } = await deploy(ok, GOOD[1]!)
  const service = (
    await ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: [ok] }))
  ).services?.[0]
  const sd = (
    await ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [service?.currentServiceDeployment as string]
      })
    )
  ).serviceDeployments?.[0]
  // Simulated time runs at real speed from the stack's start: map the terminal instant onto the wall clock.
  const offset = stack.clock.now() - Date.now()
  const finished = (sd?.finishedAt?.getTime() ?? NaN) - offset
  if (result.outputs['status'] === 'SUCCESSFUL') successLag.push(exitedAt - finished)
  else
    console.error(`run ${i}: deploy ended ${result.outputs['status']}: ${result.errors.join(' ')}`)
  console.error(`run ${i}: success lag ${exitedAt - finished} ms`)

  const bad = `crash-${i}`
  await newService(bad, 10)
  const crash = await deploy(bad, CRASH)
  const after = (await ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: [bad] })))
    .services?.[0]
  const failed = (
    await ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [after?.currentServiceDeployment as string]
      })
    )
  ).serviceDeployments?.[0]
  threshold = failed?.deploymentCircuitBreaker?.threshold ?? threshold
  failedAtExit.push(failed?.deploymentCircuitBreaker?.failureCount ?? NaN)
  if (crash.result.outputs['status'] !== 'ROLLED_BACK')
    console.error(`run ${i}: crash deploy ended ${crash.result.outputs['status']}`)
}
ecs.destroy()
await stack.stop()

console.log('deploy-ecs detection (simulated ECS at real speed)')
console.log(
  `  success: terminal state → action exit, median ${Math.round(median(successLag))} ms over ${successLag.length} runs (polls start at 2 s, cap 15 s; the official action's waiter polls every 15 s)`
)
console.log(
  `  crash: tasks failed when the action stopped waiting, median ${median(failedAtExit)} (circuit breaker threshold ${threshold}) → ratio ${(median(failedAtExit) / threshold).toFixed(2)}`
)
