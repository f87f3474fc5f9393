/**
 * The ECS RegisterTaskDefinition request model, read from a table generated at build time from the
 * static schema that ships inside `@aws-sdk/client-ecs` (the same schema the SDK serialises with), so
 * member names and types follow the SDK and are never copied by hand, yet validating a task definition
 * does not load the SDK client (it costs more than the whole start-up budget of render-task-def).
 *
 * The table is `ecs-model.generated.ts`, written by `scripts/gen-ecs-model.ts` (`npm run gen:ecs-model`);
 * test/unit/ecs/task-definition-model.test.ts fails when it no longer matches the installed SDK.
 */
import { ECS_MODEL } from './ecs-model.generated.js'

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

/**
 * A reference to a shape in the table: a simple type (`string`, `number`, `boolean`, `timestamp`,
 * `document`, `blob`), an unnamed list or map of a simple type (`list<string>`, `map<string>`), or the
 * name of a structure, list or map of the table.
 */
export type ShapeRef = string

/** The generated model table (see ecs-model.generated.ts). */
export interface EcsModelTable {
  /** Version of @aws-sdk/client-ecs the table was generated from. */
  sdkVersion: string
  /** The RegisterTaskDefinition request structure (the body of a task-definition file). */
  root: string
  /** Structures (and unions) by name: member → shape reference, in model order; required members. */
  structures: Readonly<
    Record<string, { members: Readonly<Record<string, ShapeRef>>; required?: readonly string[] }>
  >
  /** Named lists by name → member shape reference. */
  lists: Readonly<Record<string, ShapeRef>>
  /** Named maps by name → value shape reference. */
  maps: Readonly<Record<string, ShapeRef>>
  /** Allowed values of enum members, keyed `<Structure>.<member>`, in the SDK's order. */
  enums: Readonly<Record<string, readonly string[]>>
  /** Members of a described TaskDefinition that a RegisterTaskDefinition request does not have. */
  describeOnly: readonly string[]
}

export class SchemaFormatError extends Error {
  constructor(detail: string) {
    super(`the ECS model bundled with @aws-sdk/client-ecs has an unexpected format: ${detail}`)
    this.name = 'SchemaFormatError'
  }
}

const SIMPLE = new Set(['string', 'number', 'boolean', 'timestamp', 'document', 'blob'])
const UNNAMED = /^(list|map)<(.+)>$/

/** The Shape graph of one model table, built lazily and once per named shape (recursion-safe). */
export function shapesOf(table: EcsModelTable): (ref: ShapeRef) => Shape {
  const cache = new Map<string, Shape>()
  const lazy = (ref: ShapeRef): (() => Shape) => {
    let resolved: Shape | undefined
    return () => (resolved ??= resolve(ref))
  }
  const resolve = (ref: ShapeRef): Shape => {
    if (SIMPLE.has(ref)) return { kind: ref as 'string' }
    const unnamed = UNNAMED.exec(ref)
    if (unnamed) {
      const inner = lazy(unnamed[2] as string)
      return unnamed[1] === 'list'
        ? { kind: 'list', name: 'list', member: inner }
        : { kind: 'map', name: 'map', value: inner }
    }
    const cached = cache.get(ref)
    if (cached) return cached
    let shape: Shape
    const structure = Object.hasOwn(table.structures, ref) ? table.structures[ref] : undefined
    if (structure) {
      shape = {
        kind: 'structure',
        name: ref,
        members: new Map(Object.entries(structure.members).map(([key, to]) => [key, lazy(to)])),
        required: structure.required ?? []
      }
    } else if (Object.hasOwn(table.lists, ref)) {
      shape = { kind: 'list', name: ref, member: lazy(table.lists[ref] as string) }
    } else if (Object.hasOwn(table.maps, ref)) {
      shape = { kind: 'map', name: ref, value: lazy(table.maps[ref] as string) }
    } else {
      throw new SchemaFormatError(
        `unknown shape ${JSON.stringify(ref)} in the generated table; run npm run gen:ecs-model`
      )
    }
    cache.set(ref, shape)
    return shape
  }
  return resolve
}

let shapeFor: ((ref: ShapeRef) => Shape) | undefined
let requestShape: Shape | undefined

/** The shape of a RegisterTaskDefinition request (the body of a task-definition file). */
export function taskDefinitionShape(): Extract<Shape, { kind: 'structure' }> {
  shapeFor ??= shapesOf(ECS_MODEL)
  requestShape ??= shapeFor(ECS_MODEL.root)
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
  return [...ECS_MODEL.describeOnly]
}

/** Enum values of the model, keyed `<Structure>.<member>` (e.g. `RuntimePlatform.cpuArchitecture`). */
export const MODEL_ENUMS: EcsModelTable['enums'] = ECS_MODEL.enums

/** The allowed values of one enum member of the model; throws when the table lacks it. */
export function modelEnum(key: string): readonly string[] {
  const values = Object.hasOwn(MODEL_ENUMS, key) ? MODEL_ENUMS[key] : undefined
  if (!values) throw new SchemaFormatError(`no enum ${key} in the generated table`)
  return values
}
