/**
 * render-task-def end to end: an image pushed by the BUNDLED build-tag-push to the local stack, rendered with
 * digest pinning by the BUNDLED render-task-def (OIDC → STS → ECR DescribeImages), then registered with the real
 * ECS client (RegisterTaskDefinition) against the stack; and renders from an ECS family and ARN.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput
} from '@aws-sdk/client-ecs'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { appWorkspace, type AppWorkspace } from '../helpers/app-workspace.js'
import { REPO_ROOT, runAction, type RunResult, uniqueName } from '../helpers/runner.js'

jest.setTimeout(240_000)

let stack: SimStack
let ecs: ECSClient

/** A git checkout of examples/app (FROM scratch + static busybox) plus the sample task definitions. */
function workspace(): AppWorkspace {
  const samples = readdirSync(join(REPO_ROOT, 'examples/task-definitions'))
  return appWorkspace({
    files: Object.fromEntries(samples.map((name) => [`examples/task-definitions/${name}`, name]))
  })
}

function render(inputs: Record<string, string>, dir: string): Promise<RunResult> {
  return runAction('render-task-def', {
    inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], ...inputs },
    env: stack.env,
    workspace: dir,
    timeoutMs: 60_000
  })
}

const load = (result: RunResult): RegisterTaskDefinitionCommandInput =>
  JSON.parse(
    readFileSync(result.outputs['task-definition'] as string, 'utf8')
  ) as RegisterTaskDefinitionCommandInput

beforeAll(async () => {
  for (const name of ['build-tag-push', 'render-task-def']) {
    if (!existsSync(join(REPO_ROOT, 'dist', name, 'index.js')))
      throw new Error(`dist/${name} is missing: run "npm run bundle" first`)
  }
  execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' })
  stack = await startStack()
  ecs = new ECSClient({
    ...stack.clientConfig
  })
})

afterAll(async () => {
  ecs?.destroy()
  await stack?.stop()
})

describe('render-task-def against the local stack', () => {
  const repository = uniqueName('e2e/web')
  let ws: { dir: string; sha: string }
  let pushed: RunResult

  it('pins the image build-tag-push pushed by its digest (resolved in ECR), and the result registers in ECS', async () => {
    ws = workspace()
    pushed = await runAction('build-tag-push', {
      inputs: { 'role-to-assume': stack.env['SHIPLINE_SIM_ROLE_ARN'], repository },
      env: { ...stack.env, GITHUB_SHA: ws.sha },
      workspace: ws.dir,
      timeoutMs: 200_000
    })
    expect(pushed.errors).toEqual([])
    const imageUri = pushed.outputs['image-uri'] as string
    const imageRef = pushed.outputs['image-ref'] as string
    expect(imageUri).toBe(`${stack.registryHost}/${repository}:${ws.sha.slice(0, 7)}`)

    const before = stack.requestLog().at(-1)?.id ?? 0
    const result = await render(
      { 'task-definition': 'web.json', 'container-name': 'web', image: imageUri },
      ws.dir
    )
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    const lookups = stack.requestLog({ sinceId: before, operation: 'DescribeImages' })
    expect(lookups).toHaveLength(1)
    const doc = load(result)
    const web = doc.containerDefinitions?.[0]
    expect(web?.image).toBe(imageRef)
    expect(web?.dockerLabels).toEqual({ 'shipline.image-tag': ws.sha.slice(0, 7) })
    expect(result.summary).toContain(imageRef)

    const registered = await ecs.send(new RegisterTaskDefinitionCommand(doc))
    expect(registered.taskDefinition?.containerDefinitions?.[0]?.image).toBe(imageRef)
    expect(registered.taskDefinition?.family).toBe('shipline-web')
    expect(registered.tags).toEqual([{ key: 'app', value: 'shipline-web' }])
  })

  it('fails naming the image and the fix when the tag is not in ECR, writing nothing', async () => {
    const result = await render(
      {
        'task-definition': 'web.json',
        'container-name': 'web',
        image: `${stack.registryHost}/${repository}:not-pushed`
      },
      ws.dir
    )
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toContain(
      `Image "${stack.registryHost}/${repository}:not-pushed" (image) was not found in ECR`
    )
    expect(result.errors[0]).toContain('Push it first')
    expect(readdirSync(join(result.dir, 'runner-temp'))).toEqual([])
  })

  it.each(['task-definition-family', 'task-definition-arn'])(
    'renders from ECS with %s: Describe-only fields stripped, tags kept, registers again',
    async (input) => {
      const family = uniqueName('e2e-api')
      const source = JSON.parse(
        readFileSync(join(REPO_ROOT, 'examples/task-definitions/web.json'), 'utf8')
      ) as RegisterTaskDefinitionCommandInput
      const first = await ecs.send(
        new RegisterTaskDefinitionCommand({
          ...source,
          family,
          tags: [{ key: 'team', value: 'payments' }]
        })
      )
      const arn = first.taskDefinition?.taskDefinitionArn as string
      expect(arn).toMatch(/:1$/)
      const imageRef = pushed.outputs['image-ref'] as string

      const result = await render(
        {
          [input]: input === 'task-definition-arn' ? arn : family,
          'container-name': 'web',
          image: imageRef,
          'environment-variables': 'LOG_LEVEL=debug'
        },
        ws.dir
      )
      expect(result.errors).toEqual([])
      expect(result.notices.join('\n')).toMatch(
        /removed the Describe-only fields taskDefinitionArn, revision, status.*compatibilities.*registeredAt/
      )
      const doc = load(result)
      for (const field of [
        'taskDefinitionArn',
        'revision',
        'status',
        'requiresAttributes',
        'compatibilities',
        'registeredAt',
        'registeredBy'
      ]) {
        expect(doc).not.toHaveProperty(field)
      }
      expect(doc.tags).toEqual([{ key: 'team', value: 'payments' }])
      expect(doc.containerDefinitions?.[0]?.image).toBe(imageRef)

      const second = await ecs.send(new RegisterTaskDefinitionCommand(doc))
      expect(second.taskDefinition?.revision).toBe(2)
      expect(second.taskDefinition?.containerDefinitions?.[0]?.environment).toEqual(
        expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'debug' }])
      )
      expect(stack.requestLog({ operation: 'DescribeTaskDefinition' }).length).toBeGreaterThan(0)
    }
  )
})
