import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegisterTaskDefinitionRequest$ } from '@aws-sdk/client-ecs'
import {
  describeOnlyMembers,
  shapeAt,
  shapeOf,
  taskDefinitionShape
} from '../../../packages/ecs/src/task-definition/model.js'
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
    expect(shapeOf(RegisterTaskDefinitionRequest$)).toBe(taskDefinitionShape())
    expect(() => shapeOf([99, 'ns', 'Weird', 0, []])).toThrow(/unexpected format/)
  })
})

describe('describe-only members', () => {
  it('are the TaskDefinition members RegisterTaskDefinition lacks: the documented eight and any newer ones', () => {
    const members = describeOnlyMembers()
    expect(members).toEqual(expect.arrayContaining([...DESCRIBE_ONLY_FIELDS]))
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
