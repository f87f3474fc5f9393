/**
 * A normalised comparison of two task definitions: what a RegisterTaskDefinition request would change. Defaults
 * ECS fills in (essential, protocol, hostPort under awsvpc), unit spellings ("1 vCPU" = 1024, "2 GB" = 2048),
 * key order, name order of environment and secrets, and empty lists are all made equal first, so that a rendered
 * file and the service's described revision compare equal when ECS would store the same thing.
 */
import { DESCRIBE_ONLY_FIELDS, type TaskDefinition } from '../task-definition/render.js'
import { cpuUnits, memoryMiB } from '../task-definition/overrides.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const NAMED_LISTS = new Set([
  'environment',
  'secrets',
  'containerDefinitions',
  'volumes',
  'ulimits'
])

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nameOf(item: Json): string {
  return isObject(item) && typeof item['name'] === 'string' ? item['name'] : ''
}

function canonical(value: unknown, key = ''): Json | undefined {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v)).filter((v): v is Json => v !== undefined)
    if (items.length === 0) return undefined
    if (NAMED_LISTS.has(key) && items.every((i) => isObject(i) && typeof i['name'] === 'string')) {
      items.sort((a, b) => nameOf(a).localeCompare(nameOf(b)))
    }
    return items
  }
  if (isObject(value)) {
    const out: Record<string, Json> = {}
    for (const k of Object.keys(value).sort()) {
      const v = canonical(value[k], k)
      if (v !== undefined) out[k] = v
    }
    return Object.keys(out).length ? out : undefined
  }
  return value as Json
}

/** Applies ECS's defaults and unit conversions to a copy, then canonicalises it. */
export function normaliseForDiff(td: Record<string, unknown>): Record<string, Json> {
  const copy = structuredClone(td)
  for (const field of [...DESCRIBE_ONLY_FIELDS, 'tags']) delete copy[field]
  const cpu = cpuUnits(copy['cpu'])
  if (cpu !== undefined) copy['cpu'] = String(cpu)
  const memory = memoryMiB(copy['memory'])
  if (memory !== undefined) copy['memory'] = String(memory)
  const awsvpc = copy['networkMode'] === 'awsvpc'
  const containers = Array.isArray(copy['containerDefinitions']) ? copy['containerDefinitions'] : []
  for (const c of containers as Record<string, unknown>[]) {
    if (c['essential'] === undefined) c['essential'] = true
    // ECS describes an unset container cpu as 0: the two register the same thing.
    if (c['cpu'] === 0 || c['cpu'] === '0') delete c['cpu']
    for (const pm of (Array.isArray(c['portMappings']) ? c['portMappings'] : []) as Record<
      string,
      unknown
    >[]) {
      if (pm['protocol'] === undefined) pm['protocol'] = 'tcp'
      if (awsvpc && pm['hostPort'] === undefined && pm['containerPort'] !== undefined)
        pm['hostPort'] = pm['containerPort']
    }
  }
  return (canonical(copy) ?? {}) as Record<string, Json>
}

export interface FieldChange {
  /** e.g. `containerDefinitions[web].image`, `cpu`, `containerDefinitions[web].environment[LOG_LEVEL]` */
  path: string
  from: string
  to: string
}

function show(value: Json | undefined): string {
  if (value === undefined) return '(none)'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function walk(path: string, a: Json | undefined, b: Json | undefined, out: FieldChange[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      walk(path ? `${path}.${key}` : key, a[key], b[key], out)
    }
    return
  }
  const named = (list: Json[] | undefined): boolean =>
    !!list && list.every((i) => isObject(i) && typeof i['name'] === 'string')
  if (Array.isArray(a) && Array.isArray(b) && named(a) && named(b)) {
    const key = path.replace(/^.*\./, '')
    const prefix = path.slice(0, path.length - key.length)
    const byName = (list: Json[]): Map<string, Json> => new Map(list.map((i) => [nameOf(i), i]))
    const left = byName(a)
    const right = byName(b)
    for (const name of [...new Set([...left.keys(), ...right.keys()])].sort()) {
      walk(`${prefix}${key}[${name}]`, left.get(name), right.get(name), out)
    }
    return
  }
  // Secrets and environment values are never printed: only that they changed.
  const secret = /\.secrets\[|\.environment\[/.test(path)
  out.push({
    path,
    from: secret && a !== undefined ? '(set)' : show(a),
    to: secret && b !== undefined ? '(changed)' : show(b)
  })
}

/** The fields a registration would change, most specific path first; empty when ECS would store the same thing. */
export function diffTaskDefinitions(
  current: Record<string, unknown> | undefined,
  desired: TaskDefinition
): FieldChange[] {
  const out: FieldChange[] = []
  walk('', current ? normaliseForDiff(current) : undefined, normaliseForDiff(desired), out)
  return out
}
