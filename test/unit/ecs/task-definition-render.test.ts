import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InputError } from '@shipline/action-kit'
import {
  applyContainerChanges,
  applyTaskChanges,
  checkTaskDefinition,
  type ContainerDefinition,
  findContainer,
  normaliseTaskDefinition,
  parseTaskDefinitionText,
  serialiseTaskDefinition,
  setContainerImage,
  type TaskDefinition
} from '../../../packages/ecs/src/task-definition/render.js'
import { REPO_ROOT } from '../../helpers/runner.js'

const read = (name: string): string =>
  readFileSync(join(REPO_ROOT, 'examples/task-definitions', name), 'utf8')
const web = (): TaskDefinition =>
  normaliseTaskDefinition(JSON.parse(read('web.json')), 'task-definition').taskDefinition
const sourceOf = (field: string): string =>
  field === 'executionRoleArn' ? 'execution-role-arn' : 'task-definition'

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError')
}

describe('parseTaskDefinitionText', () => {
  it('reads JSON and YAML to the same document', () => {
    expect(parseTaskDefinitionText('task-definition', 'web.yaml', read('web.yaml'))).toEqual(
      parseTaskDefinitionText('task-definition', 'web.json', read('web.json'))
    )
  })

  it('reports invalid JSON with the file, line and column', () => {
    const error = inputError(() =>
      parseTaskDefinitionText('task-definition', 'td.json', '{\n  "family": "x",\n  "cpu" "256"\n}')
    )
    expect(error.message).toBe(
      'input "task-definition": td.json: invalid JSON at line 3, column 9: ColonExpected. Fix the JSON syntax there.'
    )
  })

  it('reports invalid YAML with line and column', () => {
    const error = inputError(() =>
      parseTaskDefinitionText('task-definition', 'td.yaml', 'family: x\n  cpu: [1\n')
    )
    expect(error.message).toMatch(
      /^input "task-definition": td\.yaml: invalid YAML at line \d+, column \d+: .+Fix the YAML syntax there\.$/
    )
  })
})

describe('normaliseTaskDefinition', () => {
  it('unwraps describe-task-definition output, strips the Describe-only fields and keeps the tags', () => {
    const result = normaliseTaskDefinition(JSON.parse(read('described.json')), 'task-definition')
    expect(result.unwrapped).toBe(true)
    expect(result.stripped).toEqual([
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy'
    ])
    expect(Object.keys(result.taskDefinition)).not.toContain('revision')
    expect(result.taskDefinition['tags']).toEqual([{ key: 'team', value: 'payments' }])
    expect(Object.keys(result.taskDefinition)[0]).toBe('containerDefinitions')
  })

  it('also strips describe-only members newer than the documented list (deleteRequestedAt)', () => {
    const doc = JSON.parse(read('web.json')) as Record<string, unknown>
    doc['deleteRequestedAt'] = '2026-11-20T10:15:00.000Z'
    const result = normaliseTaskDefinition(doc, 'task-definition')
    expect(result.stripped).toEqual(['deleteRequestedAt'])
  })

  it('drops null members and reports them', () => {
    const doc = JSON.parse(read('web.json')) as Record<string, unknown>
    doc['pidMode'] = null
    const result = normaliseTaskDefinition(doc, 'task-definition')
    expect(result.nullsRemoved).toEqual(['pidMode'])
    expect('pidMode' in result.taskDefinition).toBe(false)
  })

  it.each([
    ['not a mapping', ['a'], 'is not a task definition'],
    [
      'a misspelled key',
      { family: 'x', containerDefinitions: [{ name: 'a', image: 'a:1', enviroment: [] }] },
      'containerDefinitions[0].enviroment is not a valid ContainerDefinition key (did you mean "environment"?)'
    ],
    ['no containers', { family: 'x', containerDefinitions: [] }, 'containerDefinitions is empty'],
    [
      'a container without a name',
      { family: 'x', containerDefinitions: [{ image: 'a:1' }] },
      'containerDefinitions[0].name is missing'
    ],
    [
      'duplicate names',
      { family: 'x', containerDefinitions: [{ name: 'a' }, { name: 'a' }] },
      'two containers are named "a"'
    ],
    [
      'several problems',
      { family: 1, containerDefinitions: [{ name: 'a', cpu: '1' }] },
      '2 problems: '
    ]
  ])('rejects %s', (_label, doc, message) => {
    expect(
      inputError(() => normaliseTaskDefinition(doc, 'task-definition-family')).message
    ).toContain(message)
  })
})

describe('findContainer', () => {
  it('lists the containers that exist when the name matches none', () => {
    const error = inputError(() => findContainer(web(), 'api', 'container-name'))
    expect(error.message).toBe(
      'input "container-name": no container named "api" in task definition "shipline-web". Use one of: "web", "worker".'
    )
  })
})

describe('applyContainerChanges', () => {
  const container = (): ContainerDefinition => web().containerDefinitions[0] as ContainerDefinition

  it('adds, overwrites and removes environment variables, keeping empty values and the order', () => {
    const c = container()
    const report = applyContainerChanges(c, {
      environment: [
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'NEW', value: 'a=b' },
        { name: 'FEATURE_FLAGS', remove: true },
        { name: 'EMPTY', value: '' },
        { name: 'MISSING', remove: true }
      ]
    })
    expect(c['environment']).toEqual([
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'NEW', value: 'a=b' },
      { name: 'EMPTY', value: '' }
    ])
    expect(report.environment).toEqual(['~LOG_LEVEL', '+NEW', '-FEATURE_FLAGS', '+EMPTY'])
  })

  it('upserts and removes secrets by name', () => {
    const c = container()
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/token'
    expect(applyContainerChanges(c, { secrets: [{ name: 'TOKEN', value: arn }] }).secrets).toEqual([
      '+TOKEN'
    ])
    expect(c['secrets']).toEqual([{ name: 'TOKEN', valueFrom: arn }])
    applyContainerChanges(c, { secrets: [{ name: 'TOKEN', remove: true }] })
    expect(c['secrets']).toEqual([])
  })

  it('merges log configuration and docker labels, replaces env files and command', () => {
    const c = container()
    applyContainerChanges(c, {
      logDriver: 'awsfirelens',
      logOptions: [
        { name: 'Name', value: 'cloudwatch' },
        { name: 'awslogs-group', remove: true }
      ],
      dockerLabels: [{ name: 'team', value: 'web=core' }],
      envFiles: ['arn:aws:s3:::bucket/app.env'],
      command: ['node', 'server.js']
    })
    expect(c['logConfiguration']).toEqual({
      logDriver: 'awsfirelens',
      options: { 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'web', Name: 'cloudwatch' }
    })
    expect(c['dockerLabels']).toEqual({ team: 'web=core' })
    expect(c['environmentFiles']).toEqual([{ value: 'arn:aws:s3:::bucket/app.env', type: 's3' }])
    expect(c['command']).toEqual(['node', 'server.js'])
  })

  it('does not invent keys it was not asked to change', () => {
    const c = web().containerDefinitions[1] as ContainerDefinition
    const before = JSON.stringify(c)
    applyContainerChanges(c, { environment: [{ name: 'X', remove: true }] })
    expect(JSON.stringify(c)).toBe(before)
  })
})

describe('setContainerImage', () => {
  it('keeps the tag of a pinned image in the shipline.image-tag label and drops a stale one', () => {
    const c = web().containerDefinitions[0] as ContainerDefinition
    setContainerImage(c, 'r/web@sha256:x', 'abc1234')
    expect(c['dockerLabels']).toEqual({ 'shipline.image-tag': 'abc1234' })
    setContainerImage(c, 'r/web:v2', undefined)
    expect(c.image).toBe('r/web:v2')
    expect(c['dockerLabels']).toEqual({})
  })
})

describe('checkTaskDefinition', () => {
  const check = (mutate: (td: TaskDefinition) => void): InputError => {
    const td = web()
    mutate(td)
    return inputError(() => checkTaskDefinition(td, sourceOf))
  }
  const c = (td: TaskDefinition, i: number): ContainerDefinition =>
    td.containerDefinitions[i] as ContainerDefinition

  it('accepts the sample', () => {
    expect(() => checkTaskDefinition(web(), sourceOf)).not.toThrow()
  })

  it.each<[string, (td: TaskDefinition) => void, string]>([
    [
      'no essential container',
      (td) => (c(td, 0)['essential'] = false),
      'no container is essential'
    ],
    [
      'Fargate without memory',
      (td) => delete td['memory'],
      'needs task-level "cpu" and "memory" ("memory" is missing)'
    ],
    [
      'an invalid Fargate pair',
      (td) => (td['memory'] = '4096'),
      'memory "4096" is not valid with cpu 256 on Fargate. With cpu 256 use memory 512, 1024 or 2048'
    ],
    [
      'cpu 256 with 1536 MiB (the 256 row is 512, 1024, 2048 only)',
      (td) => (td['memory'] = '1536'),
      'input "task-definition": memory "1536" is not valid with cpu 256 on Fargate. With cpu 256 use memory 512, 1024 or 2048 (MiB)'
    ],
    [
      'cpu 8192 with memory off its 4 GB steps',
      (td) => Object.assign(td, { cpu: '8192', memory: '18432' }),
      'With cpu 8192 use memory 16384 to 61440 in steps of 4096'
    ],
    [
      'Windows on Fargate below 1 vCPU',
      (td) =>
        Object.assign(td, {
          cpu: '512',
          memory: '1024',
          runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' }
        }),
      'cpu 512 is not available for Windows containers on Fargate'
    ],
    ['an unknown Fargate cpu', (td) => (td['cpu'] = '300'), 'cpu "300" is not a Fargate size'],
    [
      'Fargate without a networkMode (ECS defaults to bridge)',
      (td) => delete td['networkMode'],
      'input "task-definition": a FARGATE task definition needs "networkMode": "awsvpc"'
    ],
    [
      'Fargate with an ECR image and no execution role',
      (td) => delete td['executionRoleArn'],
      'input "execution-role-arn": container "web" pulls from Amazon ECR (123456789012.dkr.ecr.us-east-1.amazonaws.com/shipline/web:placeholder) on Fargate, but the task definition has no executionRoleArn'
    ],
    [
      'Fargate with awslogs and no execution role',
      (td) => {
        delete td['executionRoleArn']
        c(td, 0).image = 'ghcr.io/acme/web:1'
        c(td, 1).image = 'ghcr.io/acme/worker:1'
      },
      'container "web" logs with awslogs on Fargate, but the task definition has no executionRoleArn'
    ],
    [
      'Fargate in bridge mode',
      (td) => (td['networkMode'] = 'bridge'),
      'networkMode "bridge" is not supported on Fargate'
    ],
    [
      'secrets without an execution role',
      (td) => {
        delete td['executionRoleArn']
        td['requiresCompatibilities'] = ['EC2']
        c(td, 0)['secrets'] = [{ name: 'A', valueFrom: '/a' }]
      },
      'input "execution-role-arn": container "web" has secrets but the task definition has no executionRoleArn'
    ],
    [
      'dependsOn an unknown container',
      (td) => (c(td, 1)['dependsOn'] = [{ containerName: 'db', condition: 'START' }]),
      'containerDefinitions[1].dependsOn[0].containerName "db" is not another container'
    ],
    [
      'a mount of an undeclared volume',
      (td) => (c(td, 0)['mountPoints'] = [{ sourceVolume: 'data', containerPath: '/d' }]),
      'mountPoints[0].sourceVolume "data" is not a volume of this task'
    ],
    [
      'a port mapping without a port',
      (td) => (c(td, 0)['portMappings'] = [{ protocol: 'tcp' }]),
      'maps no port'
    ],
    [
      'an awsvpc hostPort that differs',
      (td) => (c(td, 0)['portMappings'] = [{ containerPort: 80, hostPort: 8080 }]),
      'hostPort 8080 differs from containerPort 80'
    ],
    [
      'duplicate port mappings',
      (td) =>
        (c(td, 0)['portMappings'] = [
          { containerPort: 80 },
          { containerPort: 80, protocol: 'tcp' }
        ]),
      'repeats 80/tcp'
    ]
  ])('rejects %s', (_label, mutate, message) => {
    expect(check(mutate).message).toContain(message)
  })

  it.each([
    [256, 512],
    [256, 2048],
    [512, 3072],
    [1024, 8192],
    [2048, 16384],
    [4096, 30720],
    [8192, 61440],
    [16384, 32768],
    [16384, 122880]
  ])('accepts the documented Fargate size cpu %i / memory %i', (cpu, memory) => {
    const td = web()
    applyTaskChanges(td, { cpu: String(cpu), memory: String(memory) })
    expect(() => checkTaskDefinition(td, sourceOf)).not.toThrow()
  })

  it('accepts a Fargate task without ECR images or awslogs and without an execution role', () => {
    const td = web()
    delete td['executionRoleArn']
    for (const container of td.containerDefinitions) {
      container.image = 'public.ecr.aws/acme/web:1'
      delete container['logConfiguration']
    }
    expect(() => checkTaskDefinition(td, sourceOf)).not.toThrow()
  })

  it('accepts vCPU and GB notation for valid Fargate sizes', () => {
    const td = web()
    applyTaskChanges(td, { cpu: '1 vCPU', memory: '3 GB' })
    expect(() => checkTaskDefinition(td, sourceOf)).not.toThrow()
  })
})

describe('serialiseTaskDefinition', () => {
  it('is deterministic and keeps the key order of the source', () => {
    const a = serialiseTaskDefinition(web())
    expect(serialiseTaskDefinition(web())).toBe(a)
    expect(a.endsWith('}\n')).toBe(true)
    expect(Object.keys(JSON.parse(a) as object)).toEqual(
      Object.keys(JSON.parse(read('web.json')) as object)
    )
  })
})
