/**
 * The bad-input table: every row runs a bundled action the way the runner does, against the local stack, and must
 * exit 1 with an error that names the input, carry no stack trace, and send no mutating request to AWS.
 * docs/reliability.md summarises it.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { runAction } from '../helpers/runner.js'
import { BAD_INPUTS, type BadInput, CD_TASK_DEF } from './bad-input-table.js'
import { mutatingRequests } from './request-log.js'

jest.setTimeout(180_000)

const BAD_INPUTS_MINIMUM = 80

let stack: SimStack

beforeAll(async () => {
  stack = await startStack({ registry: false })
  await seedCodeDeployServices()
})

/** The services the CodeDeploy rows of deploy-ecs deploy to (see CD_TASK_DEF). */
async function seedCodeDeployServices(): Promise<void> {
  const ecs = new ECSClient({ ...stack.clientConfig })
  await stack.admin.post('ecs/images', { images: ['public.example/web:1'] })
  await stack.admin.post('ecs/seed', { clusters: ['cd-bad'] })
  const td = await ecs.send(new RegisterTaskDefinitionCommand(CD_TASK_DEF as never))
  for (const [serviceName, type] of [
    ['web-ecs', 'ECS'],
    ['web-cd', 'CODE_DEPLOY']
  ] as const) {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'cd-bad',
        serviceName,
        taskDefinition: td.taskDefinition!.taskDefinitionArn!,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
        deploymentController: { type },
        loadBalancers: [
          {
            targetGroupArn:
              'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef',
            containerName: 'web',
            containerPort: 8080
          }
        ]
      })
    )
  }
  ecs.destroy()
}
afterAll(async () => {
  await stack?.stop()
})

function workspaceWith(
  files: Record<string, string | Buffer> = {},
  symlinks: Record<string, string> = {}
): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipline-bad-input-'))
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nUSER 1000\n')
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  for (const [name, target] of Object.entries(symlinks)) symlinkSync(target, join(dir, name))
  return dir
}

const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m

async function runRow(row: BadInput) {
  const since = stack.requestLog().at(-1)?.id ?? 0
  const result = await runAction(row.action, {
    inputs: { 'role-to-assume': stack.roleArn, ...row.inputs },
    env: stack.env,
    workspace: workspaceWith(row.files, row.symlinks)
  })
  const requests = stack.requestLog({ sinceId: since })
  return { result, requests }
}

describe('bad inputs through the bundled actions', () => {
  it('the table has at least 80 distinct rows across the actions', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(BAD_INPUTS_MINIMUM)
    expect(new Set(BAD_INPUTS.map((r) => `${r.action}: ${r.label}`)).size).toBe(BAD_INPUTS.length)
  })

  it.each(BAD_INPUTS.map((row) => [`${row.action}: ${row.label}`, row] as const))(
    '%s',
    async (_label, row) => {
      const { result, requests } = await runRow(row)
      const message = result.errors.join('\n')
      expect({ exitCode: result.exitCode, message }).toMatchObject({ exitCode: 1 })
      expect(message).toMatch(new RegExp(`^${row.action}: `))
      expect(message).toContain(`"${row.names}"`)
      expect(message).toMatch(row.mentions ?? /./)
      expect(message).not.toMatch(/\[object Object\]|^Error: |TypeError|undefined/)
      expect(result.log).not.toMatch(STACK_TRACE)
      expect(mutatingRequests(requests)).toEqual([])
    }
  )
})
