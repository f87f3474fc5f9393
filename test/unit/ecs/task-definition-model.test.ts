import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegisterTaskDefinitionRequest$ } from '@aws-sdk/client-ecs'
import { ECS_MODEL } from '../../../packages/ecs/src/task-definition/ecs-model.generated.js'
import {
  describeOnlyMembers,
  type EcsModelTable,
  modelEnum,
  SchemaFormatError,
  type Shape,
  shapeAt,
  shapesOf,
  taskDefinitionShape
} from '../../../packages/ecs/src/task-definition/model.js'
import {
  buildEcsModel,
  ENUM_SOURCES,
  renderEcsModelModule,
  shapeOf
} from '../../../scripts/ecs-model.js'
import { DESCRIBE_ONLY_FIELDS } from '../../../packages/ecs/src/task-definition/render.js'
import {
  closestKey,
  editDistance,
  formatPath,
  removeNulls,
  validateAgainstModel
} from '../../../packages/ecs/src/task-definition/validate.js'
import { REPO_ROOT } from '../../helpers/runner.js'

const example = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'examples/task-definitions/web.json'), 'utf8')) as Record<
    string,
    unknown
  >

describe('the ECS model read from the SDK schema', () => {
  it('lists the RegisterTaskDefinition members with family and containerDefinitions required', () => {
    const shape = taskDefinitionShape()
    expect(shape.name).toBe('RegisterTaskDefinitionRequest')
    expect([...shape.members.keys()]).toEqual(
      expect.arrayContaining([
        'family',
        'containerDefinitions',
        'cpu',
        'memory',
        'tags',
        'runtimePlatform',
        'executionRoleArn'
      ])
    )
    expect(shape.members.has('taskDefinitionArn')).toBe(false)
    expect(shape.required).toEqual(['family', 'containerDefinitions'])
  })

  it('follows key paths into containers, lists and maps with their types', () => {
    expect(shapeAt(['containerDefinitions', 0, 'portMappings', 0, 'containerPort'])).toEqual({
      kind: 'number'
    })
    expect(shapeAt(['containerDefinitions', 0, 'essential'])).toEqual({ kind: 'boolean' })
    expect(shapeAt(['cpu'])).toEqual({ kind: 'string' })
    expect(shapeAt(['containerDefinitions', 0, 'dockerLabels', 'any.label'])).toEqual({
      kind: 'string'
    })
    expect(shapeAt(['containerDefinitions', 0, 'portMapings'])).toBeUndefined()
    const cd = shapeAt(['containerDefinitions', 0])
    expect(cd?.kind === 'structure' && cd.name).toBe('ContainerDefinition')
  })

  it('reads structures straight from the exported static schema', () => {
    const fromSdk = shapeOf(RegisterTaskDefinitionRequest$)
    expect(fromSdk).toBe(shapeOf(RegisterTaskDefinitionRequest$))
    expect(fromSdk.kind === 'structure' && [...fromSdk.members.keys()]).toEqual([
      ...taskDefinitionShape().members.keys()
    ])
    expect(() => shapeOf([99, 'ns', 'Weird', 0, []])).toThrow(/unexpected format/)
  })
})

/**
 * Two Shape graphs are the same: kinds, names, required and member names, through every reachable
 * shape. Returns how many named shapes it compared.
 */
function sameShape(a: Shape, b: Shape, seen = new Set<string>()): number {
  expect(a.kind).toBe(b.kind)
  if (!('name' in a) || !('name' in b)) return seen.size
  expect(a.name).toBe(b.name)
  const key = `${a.kind}:${a.name}`
  if (a.name !== 'list' && a.name !== 'map' && seen.has(key)) return seen.size
  if (a.name !== 'list' && a.name !== 'map') seen.add(key)
  if (a.kind === 'list' && b.kind === 'list') sameShape(a.member(), b.member(), seen)
  else if (a.kind === 'map' && b.kind === 'map') sameShape(a.value(), b.value(), seen)
  else if (a.kind === 'structure' && b.kind === 'structure') {
    expect({ [a.name]: [...a.members.keys()] }).toEqual({ [b.name]: [...b.members.keys()] })
    expect({ [a.name]: a.required }).toEqual({ [b.name]: b.required })
    for (const [name, member] of a.members) sameShape(member(), b.members.get(name)!(), seen)
  }
  return seen.size
}

describe('the generated model table', () => {
  it('is up to date with the installed @aws-sdk/client-ecs (else run npm run gen:ecs-model)', () => {
    const fresh = buildEcsModel()
    const stale = JSON.stringify(fresh) !== JSON.stringify(ECS_MODEL)
    // Deep equality of the data (member order included); the hint names the fix when it fails.
    expect({
      table: ECS_MODEL,
      fix: stale ? 'stale: run npm run gen:ecs-model and commit the result' : 'none'
    }).toEqual({ table: fresh, fix: 'none' })
  })

  it('records the SDK version it was generated from, and how to regenerate, in its header', () => {
    const sdk = JSON.parse(
      readFileSync(join(REPO_ROOT, 'node_modules/@aws-sdk/client-ecs/package.json'), 'utf8')
    ) as { version: string }
    expect(ECS_MODEL.sdkVersion).toBe(sdk.version)
    const text = readFileSync(
      join(REPO_ROOT, 'packages/ecs/src/task-definition/ecs-model.generated.ts'),
      'utf8'
    )
    expect(text).toMatch(/^\/\/ GENERATED FILE/)
    expect(text).toContain(`@aws-sdk/client-ecs ${sdk.version}`)
    expect(text).toContain('npm run gen:ecs-model')
    expect(renderEcsModelModule(ECS_MODEL)).toContain('export const ECS_MODEL')
  })

  it('gives the same shapes as reading the SDK schema at run time', () => {
    const compared = sameShape(taskDefinitionShape(), shapeOf(RegisterTaskDefinitionRequest$))
    const table = ECS_MODEL
    expect(compared).toBe(
      Object.keys(table.structures).length +
        Object.keys(table.lists).length +
        Object.keys(table.maps).length
    )
  })

  it('carries the enum values the SDK exports', () => {
    expect(Object.keys(ECS_MODEL.enums)).toEqual(Object.keys(ENUM_SOURCES))
    expect(modelEnum('RegisterTaskDefinitionRequest.networkMode')).toEqual([
      'awsvpc',
      'bridge',
      'host',
      'none'
    ])
    expect(modelEnum('RuntimePlatform.cpuArchitecture')).toEqual(
      expect.arrayContaining(['X86_64', 'ARM64'])
    )
    expect(() => modelEnum('Nope.nothing')).toThrow(SchemaFormatError)
  })

  it('reads recursive structures from the SDK schema and resolves them from the table by name', () => {
    // A stand-in for the SDK module: Node has a list of child Nodes, and a map of Nodes by name.
    const node: unknown[] = [3, 'ns', 'Node', 0]
    const nodes = [1, 'ns', 'Nodes', 0, () => node]
    const byName = [2, 'ns', 'NodesByName', 0, 0, () => node]
    node.push(['label', 'children', 'named', 'kind'], [0, () => nodes, () => byName, 0], 1)
    const request = [
      3,
      'ns',
      'RegisterTaskDefinitionRequest',
      0,
      ['containerDefinitions', 'root', 'tags'],
      [() => nodes, () => node, 64 | 0],
      1
    ]
    const table = buildEcsModel(
      {
        RegisterTaskDefinitionRequest$: request,
        TaskDefinition$: [3, 'ns', 'TaskDefinition', 0, ['root', 'arn'], [() => node, 0]],
        Kind: { A: 'a', B: 'b' }
      },
      { version: '0.0.0', enumSources: { 'Node.kind': 'Kind' } }
    )
    expect(table).toEqual({
      sdkVersion: '0.0.0',
      root: 'RegisterTaskDefinitionRequest',
      structures: {
        RegisterTaskDefinitionRequest: {
          members: { containerDefinitions: 'Nodes', root: 'Node', tags: 'list<string>' },
          required: ['containerDefinitions']
        },
        Node: {
          members: { label: 'string', children: 'Nodes', named: 'NodesByName', kind: 'string' },
          required: ['label']
        }
      },
      lists: { Nodes: 'Node' },
      maps: { NodesByName: 'Node' },
      enums: { 'Node.kind': ['a', 'b'] },
      describeOnly: ['arn']
    })
    const shapeFor = shapesOf(table)
    const root = shapeFor('RegisterTaskDefinitionRequest')
    expect(sameShape(root, shapeOf(request))).toBe(4)
    const deep = shapeFor('Node')
    expect(deep.kind === 'structure' && deep.members.get('children')!()).toMatchObject({
      kind: 'list',
      name: 'Nodes'
    })
    const child = deep.kind === 'structure' && deep.members.get('children')!()
    expect(child && child.kind === 'list' && child.member()).toBe(deep)
  })

  it.each(['model', 'validate', 'overrides', 'ecs-model.generated'])(
    'leaves %s.ts free of run-time imports of the AWS SDK (type-only imports are erased)',
    (module) => {
      const source = readFileSync(
        join(REPO_ROOT, `packages/ecs/src/task-definition/${module}.ts`),
        'utf8'
      )
      const sdkImports = [
        ...source.matchAll(
          /^\s*(?:import|export)\s+(?!type\b)[^'";]*?['"](@aws-sdk\/[^'"]+)['"]/gm
        ),
        ...source.matchAll(/\bimport\(\s*['"](@aws-sdk\/[^'"]+)['"]/g)
      ].map((m) => m[1])
      expect(sdkImports).toEqual([])
    }
  )

  it('rejects a table that refers to a shape it lacks', () => {
    const broken: EcsModelTable = { ...ECS_MODEL, root: 'Missing' }
    expect(() => shapesOf(broken)('Missing')).toThrow(/unknown shape "Missing".*gen:ecs-model/)
  })
})

describe('describe-only members', () => {
  it('are the TaskDefinition members RegisterTaskDefinition lacks: the documented nine and any newer ones', () => {
    const members = describeOnlyMembers()
    // The TaskDefinition members the ECS API reference lists as set by ECS, not by the caller.
    expect(members).toEqual(
      expect.arrayContaining([
        'taskDefinitionArn',
        'revision',
        'status',
        'requiresAttributes',
        'compatibilities',
        'registeredAt',
        'registeredBy',
        'deregisteredAt',
        'deleteRequestedAt'
      ])
    )
    expect(DESCRIBE_ONLY_FIELDS).toEqual(members)
    for (const member of members) expect(taskDefinitionShape().members.has(member)).toBe(false)
  })
})

describe('validateAgainstModel', () => {
  it('accepts the sample task definitions', () => {
    expect(validateAgainstModel(example())).toEqual([])
  })

  it('reports a misspelled container key with its path and the closest valid key', () => {
    const td = example()
    const web = (td['containerDefinitions'] as Record<string, unknown>[])[0] as Record<
      string,
      unknown
    >
    web['portMapings'] = web['portMappings']
    delete web['portMappings']
    expect(validateAgainstModel(td)).toEqual([
      {
        path: 'containerDefinitions[0].portMapings',
        problem: 'is not a valid ContainerDefinition key (did you mean "portMappings"?)'
      }
    ])
  })

  it.each([
    ['top-level typo', { famly: 'x' }, 'famly', 'did you mean "family"?'],
    ['wrong case', { Cpu: '256' }, 'Cpu', 'did you mean "cpu"?'],
    [
      'nested typo',
      { runtimePlatform: { cpuArchitekture: 'ARM64' } },
      'runtimePlatform.cpuArchitekture',
      'did you mean "cpuArchitecture"?'
    ]
  ])('%s', (_label, extra, path, suggestion) => {
    const issues = validateAgainstModel({ ...example(), ...extra })
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe(path)
    expect(issues[0]?.problem).toContain(suggestion)
  })

  it('offers no suggestion for keys that resemble nothing', () => {
    const issues = validateAgainstModel({ ...example(), zzzzqqqq: 1 })
    expect(issues[0]?.problem).toBe('is not a valid RegisterTaskDefinitionRequest key')
  })

  it.each([
    [
      'a number as a string',
      ['containerDefinitions', 0, 'portMappings', 0, 'containerPort'],
      '8080',
      'expected a number, got the string "8080"; write it without quotes: 8080'
    ],
    [
      'task cpu as a number',
      ['cpu'],
      256,
      'expected a string, got the number 256; quote it: "256"'
    ],
    [
      'a list as a string',
      ['containerDefinitions', 0, 'command'],
      'npm start',
      'expected a list, got the string "npm start"'
    ],
    [
      'a structure as a list',
      ['containerDefinitions', 0, 'logConfiguration'],
      ['awslogs'],
      'expected a mapping, got a list'
    ],
    [
      'a boolean as a string',
      ['containerDefinitions', 0, 'essential'],
      'true',
      'expected true or false, got the string "true"; write it without quotes: true'
    ],
    [
      'an unknown enum value',
      ['networkMode'],
      'awsvcp',
      'is not one of awsvpc, bridge, host, none (did you mean "awsvpc"?)'
    ]
  ])('reports %s', (_label, path, value, problem) => {
    const td = example()
    let target: Record<string, unknown> | unknown[] = td
    for (const step of path.slice(0, -1)) target = target[step as string] as Record<string, unknown>
    target[path[path.length - 1] as string] = value
    const issues = validateAgainstModel(td)
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe(formatPath(path))
    expect(issues[0]?.problem).toContain(problem)
  })

  it('reports missing required members, also nested ones', () => {
    const td = example()
    delete td['family']
    ;(td['containerDefinitions'] as Record<string, unknown>[])[1]!['dependsOn'] = [
      { containerName: 'web' }
    ]
    expect(validateAgainstModel(td).map((i) => i.path)).toEqual([
      'containerDefinitions[1].dependsOn[0].condition',
      'family'
    ])
  })

  it('collects every problem, not just the first', () => {
    expect(validateAgainstModel({ ...example(), cpu: 1, memry: '1' })).toHaveLength(2)
  })
})

describe('helpers', () => {
  it('formats key paths', () => {
    expect(formatPath(['containerDefinitions', 0, 'dockerLabels', 'com.example'])).toBe(
      'containerDefinitions[0].dockerLabels["com.example"]'
    )
    expect(formatPath([])).toBe('(top level)')
  })

  it('measures edit distance with transpositions', () => {
    expect(editDistance('portMapings', 'portMappings')).toBe(1)
    expect(editDistance('ab', 'ba')).toBe(1)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('suggests the closest key only when plausible', () => {
    expect(closestKey('enviroment', ['environment', 'entryPoint'])).toBe('environment')
    expect(closestKey('xyz', ['environment'])).toBeUndefined()
  })

  it('removes null members and reports their paths', () => {
    const doc = { a: null, b: { c: null, d: 1 }, e: [{ f: null }] }
    expect(removeNulls(doc)).toEqual(['a', 'b.c', 'e[0].f'])
    expect(doc).toEqual({ b: { d: 1 }, e: [{}] })
  })
})
