/**
 * Reads the ECS RegisterTaskDefinition request model from the static schemas exported by
 * `@aws-sdk/client-ecs` and turns it into the compact table of
 * packages/ecs/src/task-definition/ecs-model.generated.ts. Only the generator (gen-ecs-model.ts) and the
 * staleness test import this module: the shipped code reads the generated table and never loads the SDK.
 *
 * Static schema format (@smithy/core/schema): numbers are simple types (0 string, 1 number, 2 boolean,
 * 4–7 timestamps, 15 document, 21/42 blob, 64|x list of x, 128|x map of x); arrays are
 * `[kind, namespace, name, traits, …]` with kind 0 (alias), 1 (list), 2 (map), 3 (structure: member
 * names, member schemas, count of required leading members), 4 (union); `[schema, traits]` pairs wrap
 * members; functions are lazy references.
 */
import { createRequire } from 'node:module'
import * as ecs from '@aws-sdk/client-ecs'
// Types only: the generator must run even when the generated module is missing or broken.
import type { EcsModelTable, Shape, ShapeRef } from '../packages/ecs/src/task-definition/model.js'

/** The module the generator writes, relative to the repository root. */
export const GENERATED_PATH = 'packages/ecs/src/task-definition/ecs-model.generated.ts'

/** Enum members the validation checks: `<Structure>.<member>` → the enum object @aws-sdk/client-ecs exports. */
export const ENUM_SOURCES: Readonly<Record<string, keyof typeof ecs>> = {
  'RegisterTaskDefinitionRequest.networkMode': 'NetworkMode',
  'RegisterTaskDefinitionRequest.pidMode': 'PidMode',
  'RegisterTaskDefinitionRequest.ipcMode': 'IpcMode',
  'RegisterTaskDefinitionRequest.requiresCompatibilities': 'Compatibility',
  'LogConfiguration.logDriver': 'LogDriver',
  'RuntimePlatform.cpuArchitecture': 'CPUArchitecture',
  'RuntimePlatform.operatingSystemFamily': 'OSFamily',
  'PortMapping.protocol': 'TransportProtocol',
  'PortMapping.appProtocol': 'ApplicationProtocol',
  'EnvironmentFile.type': 'EnvironmentFileType',
  'ContainerDependency.condition': 'ContainerCondition'
}

export class SchemaFormatError extends Error {
  constructor(detail: string) {
    super(`the ECS model bundled with @aws-sdk/client-ecs has an unexpected format: ${detail}`)
    this.name = 'SchemaFormatError'
  }
}

const cache = new WeakMap<object, Shape>()

function deref(ref: unknown): unknown {
  return typeof ref === 'function' ? (ref as () => unknown)() : ref
}

/** Unwraps `[schema, traits]` member pairs and lazy references. */
function unwrap(ref: unknown): unknown {
  let value = deref(ref)
  while (Array.isArray(value) && value.length === 2) value = deref(value[0])
  return value
}

function simple(code: number): Shape {
  if (code === 0) return { kind: 'string' }
  if (code === 1 || code === 17 || code === 19) return { kind: 'number' }
  if (code === 2) return { kind: 'boolean' }
  if (code >= 4 && code <= 7) return { kind: 'timestamp' }
  if (code === 15) return { kind: 'document' }
  if (code === 21 || code === 42) return { kind: 'blob' }
  if (code >= 64 && code < 128)
    return { kind: 'list', name: 'list', member: () => simple(code & 0b0011_1111) }
  if (code >= 128 && code <= 255)
    return { kind: 'map', name: 'map', value: () => simple(code & 0b0011_1111) }
  throw new SchemaFormatError(`unknown simple schema code ${code}`)
}

/** Converts one static schema (or reference to one) into a Shape. */
export function shapeOf(ref: unknown): Shape {
  const schema = unwrap(ref)
  if (typeof schema === 'number') return simple(schema)
  if (schema === 'unit') return { kind: 'document' }
  if (!Array.isArray(schema) || schema.length < 5 || typeof schema[0] !== 'number') {
    throw new SchemaFormatError(`cannot read schema ${JSON.stringify(schema)?.slice(0, 80)}`)
  }
  const cached = cache.get(schema)
  if (cached) return cached
  const [kind, , name] = schema as [number, string, string]
  let shape: Shape
  if (kind === 0) shape = shapeOf(schema[4])
  else if (kind === 1) shape = { kind: 'list', name, member: lazy(schema[4]) }
  else if (kind === 2) shape = { kind: 'map', name, value: lazy(schema[5]) }
  else if (kind === 3 || kind === 4) {
    const names = schema[4] as unknown
    const members = schema[5] as unknown
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new SchemaFormatError(`structure ${name} has no member-name list`)
    }
    const list = Array.isArray(members) ? members : names.map(() => members)
    const map = new Map<string, () => Shape>()
    names.forEach((member: string, index: number) => map.set(member, lazy(list[index])))
    const requiredCount = kind === 3 && typeof schema[6] === 'number' ? schema[6] : 0
    shape = {
      kind: 'structure',
      name,
      members: map,
      required: names.slice(0, requiredCount)
    }
  } else throw new SchemaFormatError(`unknown schema kind ${kind} (${name})`)
  cache.set(schema, shape)
  return shape
}

function lazy(ref: unknown): () => Shape {
  let resolved: Shape | undefined
  return () => (resolved ??= shapeOf(ref))
}

/** The installed @aws-sdk/client-ecs version (from its package.json). */
export function sdkVersion(): string {
  const require = createRequire(import.meta.url)
  return (require('@aws-sdk/client-ecs/package.json') as { version: string }).version
}

/** Names of table references that are not shape names (see ShapeRef in model.ts). */
const RESERVED = /^(string|number|boolean|timestamp|document|blob|(list|map)<.*)$/

/** What the table is read from: the @aws-sdk/client-ecs module (tests pass a stand-in). */
export type EcsSdkModule = Readonly<Record<string, unknown>>

/**
 * The model table of the installed SDK (what ecs-model.generated.ts must contain): every shape reachable
 * from RegisterTaskDefinitionRequest$, the enums of ENUM_SOURCES and the describe-only members.
 */
export function buildEcsModel(
  sdk: EcsSdkModule = ecs,
  {
    version = sdkVersion(),
    enumSources = ENUM_SOURCES
  }: { version?: string; enumSources?: Readonly<Record<string, string>> } = {}
): EcsModelTable {
  const request = shapeOf(sdk['RegisterTaskDefinitionRequest$'])
  if (request.kind !== 'structure' || !request.members.has('containerDefinitions')) {
    throw new SchemaFormatError(
      'RegisterTaskDefinitionRequest is not a structure with containerDefinitions'
    )
  }
  const described = shapeOf(sdk['TaskDefinition$'])
  if (described.kind !== 'structure')
    throw new SchemaFormatError('TaskDefinition is not a structure')

  const structures: Record<string, EcsModelTable['structures'][string]> = {}
  const lists: Record<string, ShapeRef> = {}
  const maps: Record<string, ShapeRef> = {}
  const seen = new Map<string, Shape>()

  const refOf = (shape: Shape): ShapeRef => {
    if (shape.kind === 'list' && shape.name === 'list') return `list<${refOf(shape.member())}>`
    if (shape.kind === 'map' && shape.name === 'map') return `map<${refOf(shape.value())}>`
    if (!('name' in shape)) return shape.kind
    if (RESERVED.test(shape.name))
      throw new SchemaFormatError(`a shape is named ${shape.name}, like a simple type`)
    const known = seen.get(shape.name)
    if (known === shape) return shape.name
    if (known) throw new SchemaFormatError(`two different shapes are named ${shape.name}`)
    seen.set(shape.name, shape)
    if (shape.kind === 'list') lists[shape.name] = refOf(shape.member())
    else if (shape.kind === 'map') maps[shape.name] = refOf(shape.value())
    else {
      // Register before walking the members so recursive structures refer to themselves by name.
      const entry: { members: Record<string, ShapeRef>; required?: readonly string[] } = {
        members: {}
      }
      structures[shape.name] = entry
      for (const [key, member] of shape.members) entry.members[key] = refOf(member())
      if (shape.required.length > 0) entry.required = [...shape.required]
    }
    return shape.name
  }
  const root = refOf(request)

  const enums: Record<string, readonly string[]> = {}
  for (const [key, source] of Object.entries(enumSources)) {
    const [structure, member] = key.split('.') as [string, string]
    const ref = structures[structure]?.members[member]
    if (ref !== 'string' && ref !== 'list<string>')
      throw new SchemaFormatError(`${key} is not a string member of the request model`)
    const values = Object.values((sdk[source] ?? {}) as Record<string, unknown>)
    if (values.length === 0 || !values.every((v) => typeof v === 'string'))
      throw new SchemaFormatError(`${source} is not an enum of strings`)
    enums[key] = values
  }

  return {
    sdkVersion: version,
    root,
    structures,
    lists,
    maps,
    enums,
    describeOnly: [...described.members.keys()].filter((key) => !request.members.has(key))
  }
}

/** The TypeScript source of ecs-model.generated.ts for a table (unformatted: the generator runs prettier). */
export function renderEcsModelModule(table: EcsModelTable): string {
  return [
    '// GENERATED FILE - do not edit by hand.',
    `// The ECS RegisterTaskDefinition request model of @aws-sdk/client-ecs ${table.sdkVersion}, read from`,
    '// the static schemas and enum objects the SDK exports, so validating a task definition needs no SDK',
    '// at run time. Regenerate after upgrading @aws-sdk/client-ecs: npm run gen:ecs-model',
    '// (scripts/gen-ecs-model.ts); test/unit/ecs/task-definition-model.test.ts fails when it is stale.',
    "import type { EcsModelTable } from './model.js'",
    '',
    `export const ECS_MODEL: EcsModelTable = ${JSON.stringify(table)}`,
    ''
  ].join('\n')
}
