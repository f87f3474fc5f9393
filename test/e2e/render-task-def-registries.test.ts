/**
 * render-task-def through the BUNDLED action against the local stack and a second local registry acting as
 * "another registry" (anonymous bearer-token flow, like public.ecr.aws or ghcr.io): digests of ECR images come
 * from ECR, digests of any other registry from that registry, never from the caller's ECR; the task-definition
 * rules ECS enforces; task-definition ARNs read in their own region and account; the summary escapes HTML.
 * Images are pushed as tiny synthetic OCI images over HTTP (no Docker engine needed).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput
} from '@aws-sdk/client-ecs'
import { PublicRegistry } from '../../packages/sim/src/registry/public.js'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'
import { pushSyntheticImage } from '../helpers/oci-push.js'
import { REPO_ROOT, runAction, type RunResult } from '../helpers/runner.js'

jest.setTimeout(120_000)

let stack: SimStack
let other: PublicRegistry
let ecsClient: ECSClient
let ecrDigest: string
let otherSameNameDigest: string
let sidecarDigest: string

const TASK = {
  family: 'shop-api',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  containerDefinitions: [
    { name: 'web', image: 'placeholder/web:1', essential: true },
    { name: 'log_router', image: 'placeholder/fluent-bit:1', essential: false }
  ]
}

const workspaces: string[] = []
function workspace(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipline-render-registries-'))
  workspaces.push(dir)
  for (const [name, doc] of Object.entries(files))
    writeFileSync(join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc))
  return dir
}

function render(
  inputs: Record<string, string>,
  files: Record<string, unknown> = { 'td.json': TASK }
): Promise<RunResult> {
  return runAction('render-task-def', {
    inputs: { 'role-to-assume': stack.roleArn, ...inputs },
    env: stack.env,
    workspace: workspace(files),
    timeoutMs: 60_000
  })
}

const load = (result: RunResult): RegisterTaskDefinitionCommandInput =>
  JSON.parse(
    readFileSync(result.outputs['task-definition'] as string, 'utf8')
  ) as RegisterTaskDefinitionCommandInput

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist/render-task-def/index.js')))
    throw new Error(
      'dist/render-task-def is missing: run "npm run bundle -- render-task-def" first'
    )
  stack = await startStack()
  other = new PublicRegistry({ privateRepositories: ['acme/private'] })
  await other.start()
  ecsClient = new ECSClient({ ...stack.clientConfig })

  // Our ECR: acme/api:v1.2.3, pushed through the ECR registry proxy with an ECR token.
  const ecr = new ECRClient({ ...stack.clientConfig })
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'acme/api' }))
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}))
  const token = auth.authorizationData?.[0]?.authorizationToken as string
  ecr.destroy()
  ecrDigest = await pushSyntheticImage(`http://${stack.registryHost}`, 'acme/api', 'v1.2.3', {
    authorization: `Basic ${token}`
  })
  // Another registry: the same repository path and tag with other content, and a public sidecar (an index).
  otherSameNameDigest = await pushSyntheticImage(other.backend.url, 'acme/api', 'v1.2.3')
  sidecarDigest = await pushSyntheticImage(
    other.backend.url,
    'aws-observability/aws-for-fluent-bit',
    'stable',
    { index: true }
  )
  await pushSyntheticImage(other.backend.url, 'acme/private', 'v1')
})

afterAll(async () => {
  ecsClient?.destroy()
  await other?.stop()
  await stack?.stop()
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true })
})

describe('digests come from the image’s own registry (issue 9 item 3)', () => {
  it('renders our ECR image and a public sidecar in one step, each pinned from its own registry, and it registers', async () => {
    expect(otherSameNameDigest).not.toBe(ecrDigest)
    const since = stack.requestLog().at(-1)?.id ?? 0
    const tokensBefore = other.requests.filter((r) => r.path.startsWith('/token')).length
    const sidecar = `${other.host}/aws-observability/aws-for-fluent-bit:stable`
    const result = await render({
      'task-definition': 'td.json',
      containers: JSON.stringify({
        web: `${stack.registryHost}/acme/api:v1.2.3`,
        log_router: sidecar
      })
    })
    expect(result.errors).toEqual([])
    const doc = load(result)
    expect(doc.containerDefinitions?.[0]?.image).toBe(`${stack.registryHost}/acme/api@${ecrDigest}`)
    expect(doc.containerDefinitions?.[1]?.image).toBe(
      `${other.host}/aws-observability/aws-for-fluent-bit@${sidecarDigest}`
    )
    expect(doc.containerDefinitions?.[1]?.dockerLabels).toEqual({ 'shipline.image-tag': 'stable' })
    const lookups = stack.requestLog({ sinceId: since, operation: 'DescribeImages' })
    expect(lookups.map((e) => e.params)).toEqual([
      expect.objectContaining({ repositoryName: 'acme/api' })
    ])
    // The other registry was asked anonymously: a token, then an authorized manifest HEAD.
    expect(other.requests.filter((r) => r.path.startsWith('/token')).length).toBe(tokensBefore + 1)
    expect(other.requests.at(-1)).toEqual({
      method: 'HEAD',
      path: '/v2/aws-observability/aws-for-fluent-bit/manifests/stable',
      authorized: true
    })
    await expect(ecsClient.send(new RegisterTaskDefinitionCommand(doc))).resolves.toMatchObject({
      taskDefinition: { family: 'shop-api' }
    })
  })

  it('never pins another registry’s image with the digest of the same name in our ECR', async () => {
    const since = stack.requestLog().at(-1)?.id ?? 0
    const result = await render({
      'task-definition': 'td.json',
      'container-name': 'web',
      image: `${other.host}/acme/api:v1.2.3`
    })
    expect(result.errors).toEqual([])
    expect(load(result).containerDefinitions?.[0]?.image).toBe(
      `${other.host}/acme/api@${otherSameNameDigest}`
    )
    expect(stack.requestLog({ sinceId: since, operation: 'DescribeImages' })).toEqual([])
  })

  it.each([
    [`acme/private:v1`, /refused an anonymous pull token for acme\/private/],
    [`acme/api:not-there`, /was not found \(no manifest for tag "not-there"\)/]
  ])(
    'fails naming the image and the fixes when its registry cannot resolve %s',
    async (path, reason) => {
      const image = `${other.host}/${path}`
      const result = await render({
        'task-definition': 'td.json',
        'container-name': 'web',
        image
      })
      expect(result.exitCode).toBe(1)
      expect(result.errors).toHaveLength(1)
      const message = result.errors[0] as string
      expect(message).toContain(`Could not resolve the digest of "${image}" (image)`)
      expect(message).toMatch(reason)
      expect(message).toContain('"pin-digest: false"')
      expect(message).toContain('"image-digest"')
    }
  )

  it('with pin-digest: false renders the tag as given without asking any registry', async () => {
    const before = other.requests.length
    const image = `${other.host}/acme/private:v1`
    const result = await render({
      'task-definition': 'td.json',
      'container-name': 'web',
      image,
      'pin-digest': 'false'
    })
    expect(result.errors).toEqual([])
    expect(load(result).containerDefinitions?.[0]?.image).toBe(image)
    expect(other.requests.length).toBe(before)
  })
})

describe('definitions ECS rejects are refused before anything is written (issue 9 item 10)', () => {
  const ecrImage = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/api'
  const digest = `sha256:${'d'.repeat(64)}`
  it.each<[string, Record<string, unknown>, Record<string, string>, string, RegExp]>([
    [
      'FARGATE without networkMode awsvpc',
      { ...TASK, networkMode: undefined },
      {},
      'task-definition',
      /needs "networkMode": "awsvpc"/
    ],
    [
      'FARGATE with an ECR image and no executionRoleArn',
      { ...TASK, executionRoleArn: undefined },
      {},
      'execution-role-arn',
      /container "web" pulls from Amazon ECR .* no executionRoleArn/
    ],
    [
      'cpu 256 with memory 1536',
      TASK,
      { memory: '1536' },
      'memory',
      /memory "1536" is not valid with cpu 256 on Fargate\. With cpu 256 use memory 512, 1024 or 2048/
    ]
  ])('%s', async (_label, td, extra, input, message) => {
    const result = await render(
      {
        'task-definition': 'td.json',
        'container-name': 'web',
        image: `${ecrImage}@${digest}`,
        ...extra
      },
      { 'td.json': td }
    )
    expect(result.exitCode).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toContain(`input "${input}"`)
    expect(result.errors[0]).toMatch(message)
    expect(result.outputs['task-definition']).toBeUndefined()
  })
})

describe('task-definition-arn is read where the ARN says (issue 9 item 11)', () => {
  let arn: string
  beforeAll(async () => {
    const registered = await ecsClient.send(
      new RegisterTaskDefinitionCommand({
        ...(TASK as unknown as RegisterTaskDefinitionCommandInput),
        family: 'arn-scope'
      })
    )
    arn = registered.taskDefinition?.taskDefinitionArn as string
  })

  it('renders an ARN of the session’s region and account', async () => {
    const result = await render({ 'task-definition-arn': arn }, {})
    expect(result.errors).toEqual([])
    expect(load(result).family).toBe('arn-scope')
  })

  it('reads an ARN of another region in that region (where this family does not exist)', async () => {
    const elsewhere = arn.replace(`:ecs:${stack.region}:`, ':ecs:eu-west-3:')
    const since = stack.requestLog().at(-1)?.id ?? 0
    const result = await render({ 'task-definition-arn': elsewhere }, {})
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toContain(`Task definition "${elsewhere}" (task-definition-arn)`)
    expect(result.errors[0]).toContain('could not be described in eu-west-3')
    // Asked in eu-west-3 (a ClientException there), not in the session's region ("Invalid Region in ARN").
    expect(
      stack
        .requestLog({ sinceId: since, operation: 'DescribeTaskDefinition' })
        .map((e) => e.errorCode)
    ).toEqual(['ClientException'])
  })

  it('explains that an ARN of another account needs a role in that account, without calling ECS', async () => {
    const foreign = arn.replace(`:${stack.accountId}:`, ':999999999999:')
    const since = stack.requestLog().at(-1)?.id ?? 0
    const result = await render({ 'task-definition-arn': foreign }, {})
    expect(result.exitCode).toBe(1)
    expect(result.errors[0]).toContain('belongs to account 999999999999')
    expect(result.errors[0]).toContain('"role-to-assume" to a role in account 999999999999')
    expect(stack.requestLog({ sinceId: since, operation: 'DescribeTaskDefinition' })).toEqual([])
  })
})

describe('job summary', () => {
  it('escapes image strings and names as HTML', async () => {
    const td = {
      family: 'ec2-app',
      containerDefinitions: [
        { name: 'web', image: 'evil/<script>alert(1)</script>:1', essential: true, memory: 128 }
      ]
    }
    const result = await render(
      {
        'task-definition': 'td.json',
        'container-name': 'web',
        image: `${other.host}/acme/api:v1.2.3`,
        'pin-digest': 'false'
      },
      { 'td.json': td }
    )
    expect(result.errors).toEqual([])
    expect(result.summary).not.toContain('<script>')
    expect(result.summary).toContain('<code>evil/&lt;script&gt;alert(1)&lt;/script&gt;:1</code>')
    expect(result.summary).toContain(`<code>${other.host}/acme/api:v1.2.3</code>`)
  })
})
