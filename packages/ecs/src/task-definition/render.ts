/**
 * Pure task-definition rendering: normalise a loaded document (unwrap `describe-task-definition` output,
 * strip Describe-only fields, validate against the ECS model), apply per-container and task-level changes,
 * check what ECS would reject, and serialise deterministically.
 */
import { ActionError, InputError, parseJsonText, parseYamlText } from '@shipline/action-kit'
import { cpuUnits, memoryMiB, type NamedChange, type RuntimePlatform } from './overrides.js'
import { parseEcrRegistry } from '@shipline/ecr'
import { parseImageReference } from '@shipline/oci'
import { describeOnlyMembers } from './model.js'
import { formatPath, isPlainObject, removeNulls, validateAgainstModel } from './validate.js'

export type TaskDefinition = Record<string, unknown> & {
  containerDefinitions: ContainerDefinition[]
}
export type ContainerDefinition = Record<string, unknown> & { name?: string; image?: string }

/** Fields DescribeTaskDefinition returns that RegisterTaskDefinition rejects (read from the SDK's model). */
export const DESCRIBE_ONLY_FIELDS: readonly string[] = describeOnlyMembers()

/** The docker label that keeps the human-readable tag of an image pinned by digest. */
export const IMAGE_TAG_LABEL = 'shipline.image-tag'

export interface NormalisedTaskDefinition {
  taskDefinition: TaskDefinition
  /** Describe-only fields that were removed. */
  stripped: string[]
  /** Paths whose null values were removed. */
  nullsRemoved: string[]
  /** True when the document was raw `aws ecs describe-task-definition` output ({taskDefinition, tags}). */
  unwrapped: boolean
}

/** Parses task-definition file text: JSON (strict, with line/column errors) or YAML. */
export function parseTaskDefinitionText(input: string, path: string, text: string): unknown {
  const json =
    /\.json$/i.test(path) || (!/\.ya?ml$/i.test(path) && text.trimStart().startsWith('{'))
  try {
    return json ? parseJsonText(input, text) : parseYamlText(input, text)
  } catch (error) {
    if (error instanceof InputError) {
      const detail = error.message
        .replace(/^input "[^"]+":\s*/, '')
        .replace(/\. Fix the (JSON|YAML) syntax there\.$/, '')
      throw new InputError(
        input,
        `${path}: ${detail}`,
        `Fix the ${json ? 'JSON' : 'YAML'} syntax there.`
      )
    }
    throw error
  }
}

/** Validates and normalises a loaded document; `input` names where it came from in errors. */
export function normaliseTaskDefinition(raw: unknown, input: string): NormalisedTaskDefinition {
  let doc = raw
  let unwrapped = false
  if (
    isPlainObject(doc) &&
    isPlainObject(doc['taskDefinition']) &&
    !('containerDefinitions' in doc)
  ) {
    const inner: Record<string, unknown> = { ...doc['taskDefinition'] }
    const tags = doc['tags']
    if (Array.isArray(tags) && tags.length > 0 && !('tags' in inner)) inner['tags'] = tags
    doc = inner
    unwrapped = true
  }
  if (!isPlainObject(doc)) {
    throw new InputError(
      input,
      'is not a task definition: expected a mapping with "family" and "containerDefinitions"',
      'Use the JSON of "aws ecs describe-task-definition --query taskDefinition" or a RegisterTaskDefinition request.'
    )
  }
  const stripped: string[] = []
  for (const field of DESCRIBE_ONLY_FIELDS) {
    if (field in doc) {
      delete doc[field]
      stripped.push(field)
    }
  }
  const nullsRemoved = removeNulls(doc)
  const issues = validateAgainstModel(doc)
  if (issues.length > 0)
    throw modelError(
      input,
      issues.map((i) => `${i.path} ${i.problem}`)
    )
  const td = doc as TaskDefinition
  if (td.containerDefinitions.length === 0) {
    throw new InputError(input, 'containerDefinitions is empty', 'Define at least one container.')
  }
  td.containerDefinitions.forEach((container, index) => {
    if (typeof container.name !== 'string' || container.name === '') {
      throw new InputError(
        input,
        `${formatPath(['containerDefinitions', index, 'name'])} is missing`,
        'Give every container a unique name.'
      )
    }
  })
  const seen = new Set<string>()
  for (const container of td.containerDefinitions) {
    if (seen.has(container.name as string)) {
      throw new InputError(
        input,
        `two containers are named "${container.name}"`,
        'Container names must be unique within a task definition.'
      )
    }
    seen.add(container.name as string)
  }
  return { taskDefinition: td, stripped, nullsRemoved, unwrapped }
}

function modelError(input: string, problems: string[]): InputError {
  const shown = problems.slice(0, 10)
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : ''
  const text =
    shown.length === 1
      ? (shown[0] as string)
      : `${problems.length} problems: ${shown.join('; ')}${more}`
  return new InputError(
    input,
    text,
    'Fix these keys and values; they follow the ECS RegisterTaskDefinition API model of the AWS SDK.'
  )
}

export function containerNames(td: TaskDefinition): string[] {
  return td.containerDefinitions.map((c) => c.name as string)
}

/** The container called `name`, or an InputError naming `input` and listing the containers that exist. */
export function findContainer(
  td: TaskDefinition,
  name: string,
  input: string
): ContainerDefinition {
  const found = td.containerDefinitions.find((c) => c.name === name)
  if (found) return found
  const names = containerNames(td)
  throw new InputError(
    input,
    `no container named "${name}" in task definition "${show(td['family'])}"`,
    `Use one of: ${names.map((n) => `"${n}"`).join(', ')}.`
  )
}

export interface ContainerChanges {
  environment?: NamedChange[]
  secrets?: NamedChange[]
  envFiles?: string[]
  logDriver?: string
  logOptions?: NamedChange[]
  dockerLabels?: NamedChange[]
  command?: string[]
}

export interface ContainerChangeReport {
  environment: string[]
  secrets: string[]
}

/** Applies `changes` to a named list (environment / secrets) of {name, <valueKey>} entries. */
function applyNamedList(
  container: ContainerDefinition,
  key: 'environment' | 'secrets',
  valueKey: 'value' | 'valueFrom',
  changes: NamedChange[]
): string[] {
  const current = Array.isArray(container[key])
    ? (container[key] as Record<string, unknown>[])
    : undefined
  let list = current ?? []
  const touched: string[] = []
  for (const change of changes) {
    if (change.remove) {
      const before = list.length
      list = list.filter((entry) => entry['name'] !== change.name)
      if (list.length !== before) touched.push(`-${change.name}`)
      continue
    }
    const existing = list.filter((entry) => entry['name'] === change.name)
    if (existing.length > 0) {
      for (const entry of existing) {
        if (entry[valueKey] !== change.value) touched.push(`~${change.name}`)
        entry[valueKey] = change.value
      }
    } else {
      list.push({ name: change.name, [valueKey]: change.value })
      touched.push(`+${change.name}`)
    }
  }
  if (current !== undefined || list.length > 0) container[key] = list
  return [...new Set(touched)]
}

function applyNamedMap(target: Record<string, unknown>, changes: NamedChange[]): void {
  for (const change of changes) {
    if (change.remove) delete target[change.name]
    else target[change.name] = change.value
  }
}

/** Applies per-container changes in place; returns the env and secret names that changed (+added ~changed -removed). */
export function applyContainerChanges(
  container: ContainerDefinition,
  changes: ContainerChanges
): ContainerChangeReport {
  const report: ContainerChangeReport = { environment: [], secrets: [] }
  if (changes.environment?.length)
    report.environment = applyNamedList(container, 'environment', 'value', changes.environment)
  if (changes.secrets?.length)
    report.secrets = applyNamedList(container, 'secrets', 'valueFrom', changes.secrets)
  if (changes.envFiles?.length)
    container['environmentFiles'] = changes.envFiles.map((value) => ({ value, type: 's3' }))
  if (changes.logDriver !== undefined || changes.logOptions?.length) {
    const log = isPlainObject(container['logConfiguration']) ? container['logConfiguration'] : {}
    if (changes.logDriver !== undefined) log['logDriver'] = changes.logDriver
    if (changes.logOptions?.length) {
      const options = isPlainObject(log['options']) ? log['options'] : {}
      applyNamedMap(options, changes.logOptions)
      log['options'] = options
    }
    container['logConfiguration'] = log
  }
  if (changes.dockerLabels?.length) {
    const labels = isPlainObject(container['dockerLabels']) ? container['dockerLabels'] : {}
    applyNamedMap(labels, changes.dockerLabels)
    container['dockerLabels'] = labels
  }
  if (changes.command) container['command'] = [...changes.command]
  return report
}

/** Sets a container's image; `tag` (pinned images) goes into the shipline.image-tag label, and a stale one is removed. */
export function setContainerImage(
  container: ContainerDefinition,
  image: string,
  tag: string | undefined
): void {
  container.image = image
  const labels = isPlainObject(container['dockerLabels']) ? container['dockerLabels'] : undefined
  if (tag !== undefined) {
    const next = labels ?? {}
    next[IMAGE_TAG_LABEL] = tag
    container['dockerLabels'] = next
  } else if (labels && IMAGE_TAG_LABEL in labels) {
    delete labels[IMAGE_TAG_LABEL]
  }
}

export interface TaskChanges {
  taskRoleArn?: string
  executionRoleArn?: string
  cpu?: string
  memory?: string
  runtimePlatform?: RuntimePlatform
}

export function applyTaskChanges(td: TaskDefinition, changes: TaskChanges): void {
  if (changes.taskRoleArn !== undefined) td['taskRoleArn'] = changes.taskRoleArn
  if (changes.executionRoleArn !== undefined) td['executionRoleArn'] = changes.executionRoleArn
  if (changes.cpu !== undefined) td['cpu'] = changes.cpu
  if (changes.memory !== undefined) td['memory'] = changes.memory
  if (changes.runtimePlatform !== undefined) td['runtimePlatform'] = { ...changes.runtimePlatform }
}

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = []
  for (let v = from; v <= to; v += step) out.push(v)
  return out
}

/**
 * Valid Fargate task sizes, exactly as the ECS developer guide lists them ("Task CPU and memory"): CPU units →
 * every allowed memory value in MiB. 8192 and 16384 need Linux platform 1.4.0; Windows needs at least 1 vCPU
 * and at most 4.
 */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, steps(1024, 4096, 1024)],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)]
])

function fargateMemoryChoices(cpu: number): string {
  const list = FARGATE_SIZES.get(cpu)
  if (!list) return ''
  if (list.length <= 4) return `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`
  const [first, second] = list as [number, number]
  return `${first} to ${list.at(-1)} in steps of ${second - first}`
}

/** Private ECR registry hosts (`<account>.dkr.ecr.<region>.amazonaws.com`), by default. */
export type RegistryTest = (registry: string | undefined) => boolean

const isPrivateEcr: RegistryTest = (registry) => parseEcrRegistry(registry) !== undefined

function registryOf(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined
  try {
    return parseImageReference(image).registry
  } catch {
    return undefined
  }
}

/** Where a task-level field came from, to name the right input in errors. */
export type FieldSource = (field: string) => string

/**
 * Checks what ECS would reject or what can never run: no essential container, Fargate without a valid
 * cpu/memory pair, secrets without an execution role, references to containers or volumes that do not
 * exist, duplicate or unreachable port mappings. Throws the first problem as an InputError.
 */
export function checkTaskDefinition(
  td: TaskDefinition,
  sourceOf: FieldSource,
  isEcr: RegistryTest = isPrivateEcr
): void {
  const containers = td.containerDefinitions
  const names = new Set(containerNames(td))
  const source = sourceOf('task-definition')

  if (containers.every((c) => c['essential'] === false)) {
    throw new InputError(
      source,
      'no container is essential (every container has "essential": false)',
      'Mark the main container "essential": true (or omit the key: ECS defaults it to true).'
    )
  }

  const compat = Array.isArray(td['requiresCompatibilities'])
    ? (td['requiresCompatibilities'] as string[])
    : []
  if (compat.includes('FARGATE')) {
    if (td['cpu'] === undefined || td['memory'] === undefined) {
      const missing = td['cpu'] === undefined ? 'cpu' : 'memory'
      throw new InputError(
        sourceOf(missing),
        `a FARGATE task definition needs task-level "cpu" and "memory" ("${missing}" is missing)`,
        'Set both, e.g. cpu: "256" and memory: "512" (inputs "cpu" and "memory", or in the file).'
      )
    }
    const cpu = cpuUnits(td['cpu'])
    const memory = memoryMiB(td['memory'])
    if (cpu === undefined || !FARGATE_SIZES.has(cpu)) {
      throw new InputError(
        sourceOf('cpu'),
        `cpu "${show(td['cpu'])}" is not a Fargate size`,
        `Use one of ${[...FARGATE_SIZES.keys()].join(', ')}.`
      )
    }
    const allowed = FARGATE_SIZES.get(cpu) as readonly number[]
    if (memory === undefined || !allowed.includes(memory)) {
      throw new InputError(
        sourceOf('memory'),
        `memory "${show(td['memory'])}" is not valid with cpu ${cpu} on Fargate`,
        `With cpu ${cpu} use memory ${fargateMemoryChoices(cpu)} (MiB).`
      )
    }
    const os = isPlainObject(td['runtimePlatform'])
      ? td['runtimePlatform']['operatingSystemFamily']
      : undefined
    if (typeof os === 'string' && os.startsWith('WINDOWS') && (cpu < 1024 || cpu > 4096)) {
      throw new InputError(
        sourceOf('cpu'),
        `cpu ${cpu} is not available for Windows containers on Fargate`,
        'Windows tasks on Fargate use cpu 1024, 2048 or 4096.'
      )
    }
    if (td['networkMode'] !== 'awsvpc') {
      throw new InputError(
        source,
        td['networkMode'] === undefined
          ? 'a FARGATE task definition needs "networkMode": "awsvpc" (it is not set, and ECS would default to bridge)'
          : `networkMode "${show(td['networkMode'])}" is not supported on Fargate`,
        'Set "networkMode": "awsvpc" in the task definition (Fargate supports no other mode).'
      )
    }
    if (!td['executionRoleArn']) {
      const ecr = containers.find((c) => isEcr(registryOf(c.image)))
      const awslogs = containers.find(
        (c) =>
          isPlainObject(c['logConfiguration']) && c['logConfiguration']['logDriver'] === 'awslogs'
      )
      const needs = ecr
        ? `container "${ecr.name}" pulls from Amazon ECR (${show(ecr.image)})`
        : awslogs
          ? `container "${awslogs.name}" logs with awslogs`
          : undefined
      if (needs) {
        throw new InputError(
          sourceOf('executionRoleArn'),
          `${needs} on Fargate, but the task definition has no executionRoleArn`,
          'Set "execution-role-arn" (or executionRoleArn in the file) to a task execution role with the AmazonECSTaskExecutionRolePolicy: Fargate pulls ECR images and ships awslogs with it.'
        )
      }
    }
  }

  const withSecrets = containers.filter(
    (c) => Array.isArray(c['secrets']) && (c['secrets'] as unknown[]).length > 0
  )
  if (withSecrets.length > 0 && !td['executionRoleArn']) {
    throw new InputError(
      sourceOf('executionRoleArn'),
      `container "${withSecrets[0]?.name}" has secrets but the task definition has no executionRoleArn`,
      'Set "execution-role-arn" to a role that may read those secrets (ECS fetches them with the task execution role).'
    )
  }

  const volumes = new Set(
    Array.isArray(td['volumes'])
      ? (td['volumes'] as Record<string, unknown>[]).map((v) => v['name'])
      : []
  )
  const awsvpc = td['networkMode'] === 'awsvpc' || compat.includes('FARGATE')
  containers.forEach((c, index) => {
    const at = (key: string, i: number, field: string): string =>
      formatPath(['containerDefinitions', index, key, i, field])
    ;((c['dependsOn'] as Record<string, unknown>[] | undefined) ?? []).forEach((dep, i) => {
      if (!names.has(dep['containerName'] as string) || dep['containerName'] === c.name)
        throw new InputError(
          source,
          `${at('dependsOn', i, 'containerName')} "${show(dep['containerName'])}" is not another container of this task`,
          `Use one of: ${[...names].filter((n) => n !== c.name).join(', ') || '(no other containers)'}.`
        )
    })
    ;((c['volumesFrom'] as Record<string, unknown>[] | undefined) ?? []).forEach((from, i) => {
      if (!names.has(from['sourceContainer'] as string))
        throw new InputError(
          source,
          `${at('volumesFrom', i, 'sourceContainer')} "${show(from['sourceContainer'])}" is not a container of this task`,
          `Use one of: ${[...names].join(', ')}.`
        )
    })
    ;((c['mountPoints'] as Record<string, unknown>[] | undefined) ?? []).forEach((mount, i) => {
      if (mount['sourceVolume'] !== undefined && !volumes.has(mount['sourceVolume']))
        throw new InputError(
          source,
          `${at('mountPoints', i, 'sourceVolume')} "${show(mount['sourceVolume'])}" is not a volume of this task`,
          volumes.size
            ? `Use one of: ${[...volumes].map(String).join(', ')}.`
            : 'Declare it under "volumes".'
        )
    })
    const seenPorts = new Map<string, number>()
    ;((c['portMappings'] as Record<string, unknown>[] | undefined) ?? []).forEach((pm, i) => {
      if (pm['containerPort'] === undefined && pm['containerPortRange'] === undefined)
        throw new InputError(
          source,
          `${formatPath(['containerDefinitions', index, 'portMappings', i])} maps no port (no containerPort or containerPortRange)`,
          'Set "containerPort" or remove the mapping.'
        )
      if (
        awsvpc &&
        pm['hostPort'] !== undefined &&
        pm['containerPort'] !== undefined &&
        pm['hostPort'] !== pm['containerPort']
      )
        throw new InputError(
          source,
          `${at('portMappings', i, 'hostPort')} ${show(pm['hostPort'])} differs from containerPort ${show(pm['containerPort'])}, which awsvpc networking does not allow`,
          'Omit hostPort or set it equal to containerPort.'
        )
      const key = `${show(pm['containerPort'] ?? pm['containerPortRange'])}/${show(pm['protocol'] ?? 'tcp')}`
      if (seenPorts.has(key))
        throw new InputError(
          source,
          `${at('portMappings', i, 'containerPort')} repeats ${key} of portMappings[${seenPorts.get(key)}]`,
          'Remove the duplicate mapping.'
        )
      seenPorts.set(key, i)
    })
  })
}

/** Deterministic bytes: two-space JSON in the document's own key order, with a final newline. */
export function serialiseTaskDefinition(td: TaskDefinition): string {
  return `${JSON.stringify(td, null, 2)}\n`
}

/** A tiny guard for callers that build task definitions from ECS responses. */
export function assertTaskDefinition(
  value: unknown,
  what: string
): asserts value is TaskDefinition {
  if (!isPlainObject(value) || !Array.isArray(value['containerDefinitions'])) {
    throw new ActionError(
      `${what} returned no task definition with containerDefinitions`,
      'Check the family or ARN and re-run the job.'
    )
  }
}

/** Text of a document value for messages: primitives as written, anything else as JSON. */
function show(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined)
    return `${value}`
  return JSON.stringify(value)
}
