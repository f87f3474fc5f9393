import { afterEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { container, DIGEST, ECR, EXAMPLES, render, resetEnv, workspace } from './harness.js'

afterEach(resetEnv)

const WEB = `${ECR}/shipline/web`
const described = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(EXAMPLES, 'described.json'), 'utf8')) as Record<string, unknown>

describe('render-task-def run()', () => {
  it('renders a single container image pinned by digest, keeping the tag in a label', async () => {
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'web',
      image: `${WEB}:abc1234`,
      'image-digest': DIGEST
    })
    expect(r.errors).toEqual([])
    expect(r.exitCode).toBe(0)
    const web = container(r.doc(), 'web')
    expect(web['image']).toBe(`${WEB}@${DIGEST}`)
    expect(web['dockerLabels']).toEqual({ 'shipline.image-tag': 'abc1234' })
    expect(container(r.doc(), 'worker')['image']).toBe(`${ECR}/shipline/worker:placeholder`)
    expect(r.outputs['task-definition']).toBe([...r.written.keys()][0])
    expect(r.outputs['task-definition']).toMatch(/task-definition-shipline-web-u1\.json$/)
    expect(JSON.parse(r.outputs['images'] ?? '{}')).toEqual({ web: `${WEB}@${DIGEST}` })
    expect(r.auth).toEqual([])
  })

  it('resolves a tag to its digest through ECR when only the tag is known', async () => {
    const r = await render(
      {
        'task-definition': 'web.json',
        'container-name': 'web',
        image: `${WEB}:abc1234`,
        'aws-region': 'us-east-1'
      },
      { aws: { digests: { 'shipline/web:abc1234': DIGEST } } }
    )
    expect(r.errors).toEqual([])
    expect(r.lookups).toEqual(['shipline/web:abc1234'])
    expect(r.auth[0]).toMatchObject({ actionName: 'render-task-def', region: 'us-east-1' })
    expect(container(r.doc(), 'web')['image']).toBe(`${WEB}@${DIGEST}`)
  })

  it('keeps the tag when pin-digest is false, and asks AWS nothing', async () => {
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'web',
      image: `${WEB}:abc1234`,
      'pin-digest': 'false'
    })
    expect(container(r.doc(), 'web')['image']).toBe(`${WEB}:abc1234`)
    expect(container(r.doc(), 'web')['dockerLabels']).toBeUndefined()
    expect(r.auth).toEqual([])
  })

  it('sets one image on several comma-separated containers (aws-actions v1.8)', async () => {
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'web, worker',
      image: `${WEB}:v2@${DIGEST}`
    })
    expect(r.doc().containerDefinitions.map((c) => c['image'])).toEqual([
      `${WEB}@${DIGEST}`,
      `${WEB}@${DIGEST}`
    ])
  })

  it('sets a different image per container in one step with "containers"', async () => {
    const other = `sha256:${'e'.repeat(64)}`
    const r = await render({
      'task-definition': 'web.yaml',
      containers: `web: ${WEB}:v2@${DIGEST}\nworker:\n  image: ${ECR}/shipline/worker:v2\n  image-digest: ${other}\n  environment: {QUEUE: jobs}\n  command: worker --once\n`
    })
    expect(r.errors).toEqual([])
    const doc = r.doc()
    expect(container(doc, 'web')['image']).toBe(`${WEB}@${DIGEST}`)
    expect(container(doc, 'worker')['image']).toBe(`${ECR}/shipline/worker@${other}`)
    expect(container(doc, 'worker')['environment']).toEqual([{ name: 'QUEUE', value: 'jobs' }])
    expect(container(doc, 'worker')['command']).toEqual(['worker', '--once'])
  })

  it('chains two steps: the second renders from the first one’s output', async () => {
    const first = await render(
      { 'task-definition': 'web.json', 'container-name': 'web', image: `${WEB}:v2@${DIGEST}` },
      { uniqueId: 'a' }
    )
    const ws = workspace()
    const second = await render(
      {
        'task-definition': first.outputs['task-definition'] ?? '',
        'container-name': 'worker',
        image: `${ECR}/shipline/worker:v2@${DIGEST}`
      },
      { workspace: ws, uniqueId: 'b' }
    )
    expect(second.errors).toEqual([])
    const doc = second.doc()
    expect(container(doc, 'web')['image']).toBe(`${WEB}@${DIGEST}`)
    expect(container(doc, 'worker')['image']).toBe(`${ECR}/shipline/worker@${DIGEST}`)
    expect(second.outputs['task-definition']).not.toBe(first.outputs['task-definition'])
  })

  it('adds, overwrites and removes environment variables and secrets; the summary names them, never their values', async () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shipline/api-key-XyZ123'
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'web',
      'environment-variables':
        'LOG_LEVEL=debug\nDSN=postgres://h/db?sslmode=require&x=1\n-FEATURE_FLAGS\nEMPTY=',
      secrets: `API_KEY=${secretArn}`
    })
    expect(r.errors).toEqual([])
    const web = container(r.doc(), 'web')
    expect(web['environment']).toEqual([
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'DSN', value: 'postgres://h/db?sslmode=require&x=1' },
      { name: 'EMPTY', value: '' }
    ])
    expect(web['secrets']).toEqual([{ name: 'API_KEY', valueFrom: secretArn }])
    expect(r.summary).toContain(
      '<code>~LOG_LEVEL</code> <code>+DSN</code> <code>-FEATURE_FLAGS</code> <code>+EMPTY</code>'
    )
    expect(r.summary).toContain('<code>+API_KEY</code>')
    expect(r.summary).not.toContain('postgres://')
    expect(r.summary).not.toContain(secretArn)
  })

  it('applies log configuration, docker labels, command, env files and task-level settings', async () => {
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'web',
      'log-configuration-log-driver': 'awsfirelens',
      'log-configuration-options': 'Name=cloudwatch_logs\nlog_key=log=json',
      'docker-labels': 'team=web\ncom.example.owner=platform',
      command: `sh -c "exec node server.js --port 8080"`,
      'env-files': 'arn:aws:s3:::shipline-config/web.env',
      'task-role-arn': 'arn:aws:iam::123456789012:role/web-task',
      'execution-role-arn': 'arn:aws:iam::123456789012:role/web-exec',
      cpu: '512',
      memory: '1024',
      'runtime-platform': 'linux/arm64'
    })
    expect(r.errors).toEqual([])
    const doc = r.doc()
    const web = container(doc, 'web')
    expect(web['logConfiguration']).toEqual({
      logDriver: 'awsfirelens',
      options: {
        'awslogs-group': '/ecs/shipline-web',
        'awslogs-region': 'us-east-1',
        'awslogs-stream-prefix': 'web',
        Name: 'cloudwatch_logs',
        log_key: 'log=json'
      }
    })
    expect(web['dockerLabels']).toEqual({ team: 'web', 'com.example.owner': 'platform' })
    expect(web['command']).toEqual(['sh', '-c', 'exec node server.js --port 8080'])
    expect(web['environmentFiles']).toEqual([
      { value: 'arn:aws:s3:::shipline-config/web.env', type: 's3' }
    ])
    expect(doc).toMatchObject({
      taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/web-exec',
      cpu: '512',
      memory: '1024',
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' }
    })
  })

  it('renders YAML and JSON sources to the same bytes, deterministically', async () => {
    const args = { 'container-name': 'web', image: `${WEB}:v3@${DIGEST}` }
    const a = await render({ 'task-definition': 'web.json', ...args })
    const b = await render({ 'task-definition': 'web.yaml', ...args })
    const c = await render({ 'task-definition': 'web.json', ...args })
    expect([...b.written.values()][0]).toBe([...a.written.values()][0])
    expect([...c.written.values()][0]).toBe([...a.written.values()][0])
  })

  it('strips Describe-only fields with a notice and keeps tags', async () => {
    const r = await render({
      'task-definition': 'described.json',
      'container-name': 'api',
      image: `${ECR}/shipline/api:v9@${DIGEST}`
    })
    expect(r.errors).toEqual([])
    const doc = r.doc()
    for (const field of [
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy'
    ])
      expect(doc).not.toHaveProperty(field)
    expect(doc['tags']).toEqual([{ key: 'team', value: 'payments' }])
    expect(r.notices.join('\n')).toContain(
      'removed the Describe-only fields taskDefinitionArn, revision, status'
    )
  })

  it.each([
    ['task-definition-family', 'shipline-api', 'shipline-api'],
    [
      'task-definition-arn',
      'arn:aws:ecs:us-east-1:123456789012:task-definition/shipline-api:7',
      'arn:aws:ecs:us-east-1:123456789012:task-definition/shipline-api:7'
    ]
  ])('renders from ECS with %s (DescribeTaskDefinition, tags kept)', async (input, value, id) => {
    const { taskDefinition, tags } = described() as {
      taskDefinition: Record<string, unknown>
      tags: unknown
    }
    const r = await render(
      {
        [input]: value,
        'container-name': 'api',
        image: `${ECR}/shipline/api:v9@${DIGEST}`,
        'aws-region': 'us-east-1'
      },
      { aws: { describe: () => ({ ...taskDefinition, tags }) } }
    )
    expect(r.errors).toEqual([])
    expect(r.describes).toEqual([id])
    expect(r.doc()['tags']).toEqual([{ key: 'team', value: 'payments' }])
    expect(r.doc()).not.toHaveProperty('revision')
  })

  it('combines family and revision', async () => {
    const { taskDefinition } = described() as { taskDefinition: Record<string, unknown> }
    const r = await render(
      {
        'task-definition-family': 'shipline-api',
        'task-definition-revision': '7',
        'aws-region': 'us-east-1'
      },
      { aws: { describe: () => taskDefinition } }
    )
    expect(r.describes).toEqual(['shipline-api:7'])
  })

  it('fails when the container is not in the task definition, listing those that are', async () => {
    const r = await render({
      'task-definition': 'web.json',
      'container-name': 'api',
      image: `${WEB}:v1@${DIGEST}`
    })
    expect(r.exitCode).toBe(1)
    expect(r.errors).toEqual([
      'render-task-def: input "container-name": no container named "api" in task definition "shipline-web". Use one of: "web", "worker".'
    ])
    expect(r.written.size).toBe(0)
  })

  it('fails on invalid JSON with the line and column', async () => {
    const ws = workspace({
      'broken.json':
        '{\n  "family": "x",\n  "containerDefinitions": [\n    { "name": "a" },\n  ]\n}\n'
    })
    const r = await render({ 'task-definition': 'broken.json' }, { workspace: ws })
    expect(r.errors).toEqual([
      'render-task-def: input "task-definition": broken.json: invalid JSON at line 5, column 3: ValueExpected. Fix the JSON syntax there.'
    ])
    expect(r.written.size).toBe(0)
  })

  it('fails when the digest cannot be resolved, writing nothing', async () => {
    const r = await render(
      {
        'task-definition': 'web.json',
        'container-name': 'web',
        image: `${WEB}:missing`,
        'aws-region': 'us-east-1'
      },
      { aws: { digests: {} } }
    )
    expect(r.exitCode).toBe(1)
    expect(r.errors[0]).toContain('no digest for shipline/web:missing')
    expect(r.written.size).toBe(0)
  })

  it('validates everything before resolving digests', async () => {
    const r = await render(
      {
        'task-definition': 'web.json',
        'container-name': 'web',
        image: `${WEB}:v1`,
        memory: '8192',
        'aws-region': 'us-east-1'
      },
      { aws: { digests: { 'shipline/web:v1': DIGEST } } }
    )
    expect(r.errors[0]).toContain(
      'input "memory": memory "8192" is not valid with cpu 256 on Fargate'
    )
    expect(r.lookups).toEqual([])
  })
})
