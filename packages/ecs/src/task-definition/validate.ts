/**
 * Validates a task definition against the ECS model generated from the SDK (see model.ts): unknown or
 * misspelled keys (with the closest valid key), wrong types, missing required members and a few enum
 * members whose allowed values the SDK exports.
 */
import { MODEL_ENUMS, type Shape, taskDefinitionShape } from './model.js'

export type KeyPath = readonly (string | number)[]

export interface ModelIssue {
  path: string
  problem: string
}

/** Enum values the SDK exports (from the generated model table), keyed by `<Structure>.<member>` of the model. */
const ENUMS: Readonly<Record<string, readonly string[]>> = MODEL_ENUMS

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** `containerDefinitions[0].portMappings`, `dockerLabels["com.example"]`. */
export function formatPath(path: KeyPath): string {
  let text = ''
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`
    else if (IDENTIFIER.test(step)) text += text === '' ? step : `.${step}`
    else text += `[${JSON.stringify(step)}]`
  }
  return text === '' ? '(top level)' : text
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = d[i] as number[]
      const prev = d[i - 1] as number[]
      let best = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1)
      }
      row[j] = best
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

/** The candidate closest to `key` (case-insensitive), when it is close enough to be a plausible typo. */
export function closestKey(key: string, candidates: Iterable<string>): string | undefined {
  const lower = key.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3))
  return best !== undefined && bestDistance <= limit ? best : undefined
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `the ${typeof value} ${JSON.stringify(value) ?? typeof value}`
}

function typeProblem(shape: Shape, value: unknown): string | undefined {
  switch (shape.kind) {
    case 'string':
      if (typeof value === 'string') return undefined
      if (typeof value === 'number' || typeof value === 'boolean')
        return `expected a string, got ${describe(value)}; quote it: "${String(value)}"`
      return `expected a string, got ${describe(value)}`
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return undefined
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()))
        return `expected a number, got ${describe(value)}; write it without quotes: ${value.trim()}`
      return `expected a number, got ${describe(value)}`
    case 'boolean':
      if (typeof value === 'boolean') return undefined
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
        return `expected true or false, got ${describe(value)}; write it without quotes: ${value.trim().toLowerCase()}`
      return `expected true or false, got ${describe(value)}`
    case 'timestamp':
      return typeof value === 'string' || typeof value === 'number' || value instanceof Date
        ? undefined
        : `expected a timestamp, got ${describe(value)}`
    case 'blob':
      return typeof value === 'string'
        ? undefined
        : `expected a base64 string, got ${describe(value)}`
    case 'document':
      return undefined
    case 'list':
      return Array.isArray(value) ? undefined : `expected a list, got ${describe(value)}`
    case 'map':
    case 'structure':
      return isPlainObject(value) ? undefined : `expected a mapping, got ${describe(value)}`
  }
}

/**
 * Every problem of `value` against the RegisterTaskDefinition request model (empty when valid).
 * `null` values count as problems too; use `removeNulls` first to drop them deliberately.
 */
export function validateAgainstModel(
  value: unknown,
  shape: Shape = taskDefinitionShape()
): ModelIssue[] {
  const issues: ModelIssue[] = []
  walk(value, shape, [], issues, undefined)
  return issues
}

function walk(
  value: unknown,
  shape: Shape,
  path: (string | number)[],
  issues: ModelIssue[],
  enumKey: string | undefined
): void {
  const problem = typeProblem(shape, value)
  if (problem) {
    issues.push({ path: formatPath(path), problem })
    return
  }
  if (shape.kind === 'string' && enumKey) {
    const allowed = ENUMS[enumKey]
    if (allowed && !allowed.includes(value as string)) {
      const near =
        allowed.find((v) => v.toLowerCase() === (value as string).toLowerCase()) ??
        closestKey(value as string, allowed)
      issues.push({
        path: formatPath(path),
        problem: `${describe(value)} is not one of ${allowed.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`
      })
    }
    return
  }
  if (shape.kind === 'list') {
    const member = shape.member()
    ;(value as unknown[]).forEach((item, index) =>
      walk(item, member, [...path, index], issues, enumKey)
    )
    return
  }
  if (shape.kind === 'map') {
    const inner = shape.value()
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      walk(item, inner, [...path, key], issues, undefined)
    return
  }
  if (shape.kind === 'structure') {
    const record = value as Record<string, unknown>
    for (const [key, item] of Object.entries(record)) {
      const member = shape.members.get(key)
      if (!member) {
        const near = closestKey(key, shape.members.keys())
        issues.push({
          path: formatPath([...path, key]),
          problem: `is not a valid ${shape.name} key${near ? ` (did you mean "${near}"?)` : ''}`
        })
        continue
      }
      walk(item, member(), [...path, key], issues, `${shape.name}.${key}`)
    }
    for (const required of shape.required) {
      if (!(required in record))
        issues.push({
          path: formatPath([...path, required]),
          problem: `is required by ECS (${shape.name}) but missing`
        })
    }
  }
}

/** Deletes `null` members of mappings (a common export artefact) and returns their paths. Nulls in lists stay (and are reported). */
export function removeNulls(value: unknown, path: (string | number)[] = []): string[] {
  const removed: string[] = []
  if (Array.isArray(value))
    value.forEach((item, index) => removed.push(...removeNulls(item, [...path, index])))
  else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item === null || item === undefined) {
        delete value[key]
        removed.push(formatPath([...path, key]))
      } else removed.push(...removeNulls(item, [...path, key]))
    }
  }
  return removed
}
