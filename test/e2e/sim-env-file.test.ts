/**
 * The README's local-stack path: `npm run sim -- --env-file f` in one process, and a bundled action run with the
 * environment that file describes (OIDC token endpoint, STS, ECS) in another — exactly what a user does by hand.
 */
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { REPO_ROOT, runAction } from '../helpers/runner.js'

jest.setTimeout(120_000)

let sim: ChildProcess | undefined

afterAll(() => {
  if (sim?.pid && sim.exitCode === null) process.kill(-sim.pid, 'SIGTERM')
})

function readEnvFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
}

describe('npm run sim -- --env-file', () => {
  it('points a bundled action at the local stack: OIDC → STS → ECS DescribeTaskDefinition', async () => {
    const envFile = join(mkdtempSync(join(tmpdir(), 'sim-env-')), 'sim.env')
    sim = spawn('npm', ['run', '--silent', 'sim', '--', '--env-file', envFile], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    const started = sim
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: started.stdout as NodeJS.ReadableStream }).once('line', resolve)
      started.once('exit', (code) => reject(new Error(`npm run sim exited ${String(code)}`)))
    })
    const endpoints = JSON.parse(firstLine) as { endpoint: string }
    const env = readEnvFile(envFile)
    expect(env['AWS_ENDPOINT_URL']).toBe(endpoints.endpoint)

    // Seed a task-definition family with the env file's bootstrap credentials, as a user's setup script would.
    const ecs = new ECSClient({ region: env['AWS_REGION'] })
    const previous = { ...process.env }
    Object.assign(process.env, env)
    try {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'envfile-web',
          containerDefinitions: [
            {
              name: 'web',
              image: 'public.ecr.aws/docker/library/busybox:1.36',
              essential: true,
              memory: 128
            }
          ]
        })
      )
    } finally {
      process.env = previous
      ecs.destroy()
    }

    const result = await runAction('render-task-def', {
      env,
      inputs: {
        'role-to-assume': env['SHIPLINE_SIM_ROLE_ARN'],
        'task-definition-family': 'envfile-web',
        'container-name': 'web',
        image: `public.ecr.aws/docker/library/busybox@sha256:${'b'.repeat(64)}`
      }
    })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    // The credentials came from STS through the OIDC token: they were masked before anything else printed them.
    expect(result.secrets.length).toBeGreaterThanOrEqual(3)
    const rendered = JSON.parse(
      readFileSync(result.outputs['task-definition'] as string, 'utf8')
    ) as {
      family: string
      containerDefinitions: { image: string }[]
    }
    expect(rendered.family).toBe('envfile-web')
    expect(rendered.containerDefinitions[0]?.image).toBe(
      `public.ecr.aws/docker/library/busybox@sha256:${'b'.repeat(64)}`
    )

    // npm (the group leader) dies of the signal itself; the stack under it shuts down cleanly (see test/sim/cli.test.ts).
    const exited = new Promise<string>((resolve) =>
      started.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`))
    )
    process.kill(-(started.pid as number), 'SIGTERM')
    expect(['SIGTERM', 'exit 0']).toContain(await exited)
  })
})
