/**
 * The ECS RegisterTaskDefinition request model, read at run time from the schema that ships inside
 * `@aws-sdk/client-ecs` (the same static schema the SDK serialises with), so member names and types
 * follow the installed SDK and are never copied by hand.
 *
 * Static schema format (@smithy/core/schema): numbers are simple types (0 string, 1 number, 2 boolean,
 * 4–7 timestamps, 15 document, 21/42 blob, 64|x list of x, 128|x map of x); arrays are
 * `[kind, namespace, name, traits, …]` with kind 0 (alias), 1 (list), 2 (map), 3 (structure: member
 * names, member schemas, count of required leading members), 4 (union); `[schema, traits]` pairs wrap
 * members; functions are lazy references.
 */
import { RegisterTaskDefinitionRequest$, TaskDefinition$ } from '@aws-sdk/client-ecs'

export type Shape =
  | { kind: 'string' | 'number' | 'boolean' | 'timestamp' | 'document' | 'blob' }
  | { kind: 'list'; name: string; member: () => Shape }
  | { kind: 'map'; name: string; value: () => Shape }
  | {
      kind: 'structure'
      name: string
      members: ReadonlyMap<string, () => Shape>
      required: readonly string[]
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

let requestShape: Shape | undefined

/** The shape of a RegisterTaskDefinition request (the body of a task-definition file). */
export function taskDefinitionShape(): Extract<Shape, { kind: 'structure' }> {
  requestShape ??= shapeOf(RegisterTaskDefinitionRequest$)
  if (requestShape.kind !== 'structure' || !requestShape.members.has('containerDefinitions')) {
    throw new SchemaFormatError(
      'RegisterTaskDefinitionRequest is not a structure with containerDefinitions'
    )
  }
  return requestShape
}

/** Follows a key path like ["containerDefinitions", 0, "portMappings"] to its shape. */
export function shapeAt(path: readonly (string | number)[]): Shape | undefined {
  let shape: Shape = taskDefinitionShape()
  for (const step of path) {
    if (shape.kind === 'list' && typeof step === 'number') shape = shape.member()
    else if (shape.kind === 'map' && typeof step === 'string') shape = shape.value()
    else if (shape.kind === 'structure' && typeof step === 'string') {
      const next = shape.members.get(step)
      if (!next) return undefined
      shape = next()
    } else return undefined
  }
  return shape
}

/** Members of a described TaskDefinition that a RegisterTaskDefinition request does not have (read from the model). */
export function describeOnlyMembers(): string[] {
  const described = shapeOf(TaskDefinition$)
  if (described.kind !== 'structure')
    throw new SchemaFormatError('TaskDefinition is not a structure')
  const request = taskDefinitionShape()
  return [...described.members.keys()].filter((key) => !request.members.has(key))
}
