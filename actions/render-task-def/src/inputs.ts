import { core } from '@shipline/action-kit'
import {
  booleanInput,
  exactlyOneOf,
  InputError,
  optionalInput,
  rawInput,
  resolvePathInput,
  splitList,
  yamlInput
} from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  type AwsAuthInputs,
  getAwsAuthInputs
} from '@shipline/aws'
import {
  changesFromMapping,
  closestTaskDefinitionKey,
  type ContainerChanges,
  FAMILY_PATTERN,
  type ImagePlan,
  type ImagePolicy,
  type NamedChange,
  parseChangeLines,
  parseCommand,
  parseRuntimePlatform,
  planImage,
  type TaskChanges,
  TASK_DEFINITION_ARN_PATTERN,
  validateEnvFileArn,
  validateLogDriver,
  validateSecretSource,
  validateTaskCpu,
  validateTaskMemory,
  validateTaskRoleArn
} from '@shipline/ecs'

export const ACTION_NAME = 'render-task-def'

export const INPUT_NAMES = [
  'task-definition',
  'task-definition-arn',
  'task-definition-family',
  'task-definition-revision',
  'container-name',
  'image',
  'image-digest',
  'containers',
  'pin-digest',
  'allow-latest',
  'environment-variables',
  'env-files',
  'secrets',
  'log-configuration-log-driver',
  'log-configuration-options',
  'docker-labels',
  'command',
  'task-role-arn',
  'execution-role-arn',
  'cpu',
  'memory',
  'runtime-platform',
  ...AWS_AUTH_INPUT_NAMES
] as const

export const DEFAULTS = {
  'pin-digest': true,
  'allow-latest': false,
  ...AWS_AUTH_DEFAULTS
} as const

export type Source =
  | { kind: 'file'; input: 'task-definition'; path: string; display: string }
  | { kind: 'ecs'; input: 'task-definition-family' | 'task-definition-arn'; id: string }

/** Changes for one container, in the order they are applied. */
export interface ContainerEdit {
  container: string
  /** The input that named the container (for "not found" errors). */
  input: string
  changes: ContainerChanges
}

export interface RenderInputs {
  source: Source
  /** Containers named by `container-name` (shared inputs apply to these). */
  containerNames: string[]
  edits: ContainerEdit[]
  images: ImagePlan[]
  task: TaskChanges
  /** Task-level inputs the user set, to name them in errors (field → input). */
  taskInputs: Partial<Record<'cpu' | 'memory' | 'executionRoleArn', string>>
  policy: ImagePolicy
  /** Only when AWS is needed (an ECS source or a digest lookup). */
  auth: AwsAuthInputs | undefined
}

const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/
const PER_CONTAINER_INPUTS = [
  'environment-variables',
  'env-files',
  'secrets',
  'log-configuration-log-driver',
  'log-configuration-options',
  'docker-labels',
  'command'
] as const
const CONTAINER_KEYS = [
  'image',
  'image-digest',
  'environment',
  'secrets',
  'env-files',
  'command',
  'docker-labels',
  'log-configuration-log-driver',
  'log-configuration-options'
] as const

function multiline(name: string): string {
  return core.getInput(name, { trimWhitespace: false })
}

export function getInputs(env: NodeJS.ProcessEnv = process.env): RenderInputs {
  const source = getSource(env)
  const policy: ImagePolicy = {
    pinDigest: booleanInput('pin-digest', DEFAULTS['pin-digest']),
    allowLatest: booleanInput('allow-latest', DEFAULTS['allow-latest'])
  }

  const containerNames = splitList(rawInput('container-name'))
  for (const name of containerNames) validateContainerName('container-name', name)
  if (new Set(containerNames).size !== containerNames.length) {
    throw new InputError('container-name', 'names a container twice', 'List each container once.')
  }
  const containers = getContainersInput()

  const shared = sharedChanges()
  const sharedInputs = PER_CONTAINER_INPUTS.filter((name) => rawInput(name) !== '')
  const sharedTargets =
    containerNames.length > 0 ? containerNames : containers.map((c) => c.container)
  if (sharedInputs.length > 0 && sharedTargets.length === 0) {
    throw new InputError(
      sharedInputs[0] as string,
      'needs "container-name" (or "containers") to say which container it changes',
      'Set "container-name" to the container to change.'
    )
  }

  const images: ImagePlan[] = []
  const image = optionalInput('image')
  const imageDigest = optionalInput('image-digest')
  if (image !== undefined && containerNames.length === 0) {
    throw new InputError(
      'image',
      'needs "container-name" to say which container runs it',
      'Set "container-name" (or use "containers" to map several containers to images).'
    )
  }
  if (imageDigest !== undefined && image === undefined) {
    throw new InputError(
      'image-digest',
      'is set but "image" is empty',
      'Set "image" to the repository (and tag) the digest belongs to.'
    )
  }
  if (image !== undefined) {
    for (const container of containerNames) {
      images.push(
        planImage(
          { container, image, input: 'image', ...(imageDigest ? { digest: imageDigest } : {}) },
          policy
        )
      )
    }
  }
  for (const entry of containers) {
    if (entry.image === undefined) continue
    if (images.some((plan) => plan.container === entry.container)) {
      throw new InputError(
        'containers',
        `gives an image for "${entry.container}", which "image" already sets`,
        'Set its image in one place only.'
      )
    }
    const { container, image: entryImage, digest } = entry
    images.push(
      wrap('', () =>
        planImage(
          {
            container,
            image: entryImage,
            input: `containers.${container}.image`,
            ...(digest ? { digest } : {})
          },
          policy
        )
      )
    )
  }

  const edits: ContainerEdit[] = []
  if (sharedInputs.length > 0) {
    for (const container of sharedTargets)
      edits.push({
        container,
        input: containerNames.length > 0 ? 'container-name' : 'containers',
        changes: shared
      })
  }
  for (const entry of containers)
    edits.push({ container: entry.container, input: 'containers', changes: entry.changes })

  const { task, taskInputs } = taskChanges()
  const needsAws = source.kind === 'ecs' || images.some((plan) => plan.lookup)
  const auth = needsAws ? getAwsAuthInputs(ACTION_NAME, env) : undefined
  return { source, containerNames, edits, images, task, taskInputs, policy, auth }
}

function getSource(env: NodeJS.ProcessEnv): Source {
  const file = optionalInput('task-definition')
  const arn = optionalInput('task-definition-arn')
  const family = optionalInput('task-definition-family')
  const revision = optionalInput('task-definition-revision')
  exactlyOneOf(['task-definition', 'task-definition-family', 'task-definition-arn'] as const)
  if (revision !== undefined && family === undefined) {
    throw new InputError(
      'task-definition-revision',
      'is set without "task-definition-family"',
      'Set "task-definition-family" too, or remove the revision.'
    )
  }
  if (revision !== undefined && !/^[1-9]\d{0,8}$/.test(revision)) {
    throw new InputError(
      'task-definition-revision',
      `"${revision}" is not a revision number`,
      'Use a whole number from 1, e.g. 12 (empty: the latest ACTIVE revision).'
    )
  }
  if (file !== undefined) {
    const path = resolvePathInput('task-definition', file, 'file', env)
    return { kind: 'file', input: 'task-definition', path, display: file }
  }
  if (arn !== undefined) {
    if (!TASK_DEFINITION_ARN_PATTERN.test(arn)) {
      throw new InputError(
        'task-definition-arn',
        `"${arn}" is not a task definition ARN`,
        'Use arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>.'
      )
    }
    return { kind: 'ecs', input: 'task-definition-arn', id: arn }
  }
  const [name, inlineRevision, extra] = (family as string).split(':')
  if (
    !FAMILY_PATTERN.test(name ?? '') ||
    extra !== undefined ||
    (inlineRevision !== undefined && !/^[1-9]\d{0,8}$/.test(inlineRevision))
  ) {
    throw new InputError(
      'task-definition-family',
      `"${family}" is not a task definition family`,
      'Use letters, digits, "-" and "_" (up to 255), optionally "family:revision".'
    )
  }
  if (inlineRevision !== undefined && revision !== undefined) {
    throw new InputError(
      'task-definition-revision',
      `conflicts with the revision in "${family}"`,
      'Give the revision once.'
    )
  }
  return {
    kind: 'ecs',
    input: 'task-definition-family',
    id: revision !== undefined ? `${name}:${revision}` : (family as string)
  }
}

function validateContainerName(input: string, name: string): void {
  if (!CONTAINER_NAME.test(name)) {
    throw new InputError(
      input,
      `"${name}" is not a container name`,
      'Container names use letters, digits, "-" and "_" (several: comma-separated).'
    )
  }
}

interface ContainerEntry {
  container: string
  image: string | undefined
  digest: string | undefined
  changes: ContainerChanges
}

function getContainersInput(): ContainerEntry[] {
  const value = yamlInput('containers')
  if (value === undefined) return []
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(
      'containers',
      'must be a mapping of container name to image (or to {image, environment, secrets, command, …})',
      'For example: {web: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc1234, worker: …}.'
    )
  }
  return Object.entries(value as Record<string, unknown>).map(([container, spec]) => {
    validateContainerName('containers', container)
    if (typeof spec === 'string') return { container, image: spec, digest: undefined, changes: {} }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new InputError(
        'containers',
        `the entry for "${container}" must be an image or a mapping`,
        'Use web: <image>, or web: {image: <image>, environment: {KEY: value}}.'
      )
    }
    const record = spec as Record<string, unknown>
    for (const key of Object.keys(record)) {
      if (!(CONTAINER_KEYS as readonly string[]).includes(key)) {
        const near = closestTaskDefinitionKey(key, CONTAINER_KEYS)
        throw new InputError(
          'containers',
          `containers.${container}.${key} is not a valid key${near ? ` (did you mean "${near}"?)` : ''}`,
          `Use ${CONTAINER_KEYS.join(', ')}.`
        )
      }
    }
    const where = (key: string): string => `containers.${container}.${key}`
    const text = (key: string): string | undefined => {
      const item = record[key]
      if (item === undefined || item === null) return undefined
      if (typeof item !== 'string')
        throw new InputError('containers', `${where(key)} must be a string`, 'Quote the value.')
      return item
    }
    const changes: ContainerChanges = {}
    if (record['environment'] !== undefined)
      changes.environment = wrap(where('environment'), () =>
        changesFromMapping(where('environment'), record['environment'])
      )
    if (record['secrets'] !== undefined) {
      changes.secrets = wrap(where('secrets'), () =>
        changesFromMapping(where('secrets'), record['secrets'])
      )
      for (const change of changes.secrets)
        if (!change.remove)
          wrap(where('secrets'), () =>
            validateSecretSource(where('secrets'), change.name, change.value)
          )
    }
    if (record['docker-labels'] !== undefined)
      changes.dockerLabels = wrap(where('docker-labels'), () =>
        changesFromMapping(where('docker-labels'), record['docker-labels'])
      )
    if (record['log-configuration-options'] !== undefined)
      changes.logOptions = wrap(where('log-configuration-options'), () =>
        changesFromMapping(where('log-configuration-options'), record['log-configuration-options'])
      )
    const driver = text('log-configuration-log-driver')
    if (driver !== undefined)
      changes.logDriver = wrap(where('log-configuration-log-driver'), () =>
        validateLogDriver(where('log-configuration-log-driver'), driver)
      )
    if (record['command'] !== undefined)
      changes.command = wrap(where('command'), () =>
        parseCommand(where('command'), record['command'])
      )
    if (record['env-files'] !== undefined) {
      const files =
        typeof record['env-files'] === 'string'
          ? splitList(record['env-files'], { commas: false })
          : record['env-files']
      if (!Array.isArray(files) || !files.every((f) => typeof f === 'string'))
        throw new InputError(
          'containers',
          `${where('env-files')} must be a list of S3 object ARNs`,
          'For example [arn:aws:s3:::bucket/app.env].'
        )
      for (const file of files)
        wrap(where('env-files'), () => validateEnvFileArn(where('env-files'), file))
      changes.envFiles = files
    }
    return { container, image: text('image'), digest: text('image-digest'), changes }
  })
}

/** Re-labels an InputError raised for a nested `containers.<name>.<key>` so that it names the real `containers` input. */
function wrap<T>(_where: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof InputError && error.input.startsWith('containers.')) {
      let problem = error.message.slice(`input "${error.input}"`.length).replace(/^:? /, '')
      if (error.hint && problem.endsWith(`. ${error.hint}`))
        problem = problem.slice(0, -error.hint.length - 2)
      const sep = /^(is|was|must) /.test(problem) ? ' ' : ': '
      throw new InputError('containers', `${error.input}${sep}${problem}`, error.hint)
    }
    throw error
  }
}

function sharedChanges(): ContainerChanges {
  const changes: ContainerChanges = {}
  const lines = (name: string): NamedChange[] | undefined => {
    const text = multiline(name)
    return text.trim() === '' ? undefined : parseChangeLines(name, text)
  }
  const environment = lines('environment-variables')
  if (environment) changes.environment = environment
  const secrets = lines('secrets')
  if (secrets) {
    for (const change of secrets)
      if (!change.remove) validateSecretSource('secrets', change.name, change.value)
    changes.secrets = secrets
  }
  const envFiles = splitList(multiline('env-files'), { commas: false })
  if (envFiles.length > 0) {
    for (const arn of envFiles) validateEnvFileArn('env-files', arn)
    changes.envFiles = envFiles
  }
  const driver = optionalInput('log-configuration-log-driver')
  if (driver !== undefined)
    changes.logDriver = validateLogDriver('log-configuration-log-driver', driver)
  const logOptions = lines('log-configuration-options')
  if (logOptions) changes.logOptions = logOptions
  const labels = lines('docker-labels')
  if (labels) changes.dockerLabels = labels
  const command = optionalInput('command')
  if (command !== undefined) changes.command = parseCommand('command', command)
  return changes
}

function taskChanges(): { task: TaskChanges; taskInputs: RenderInputs['taskInputs'] } {
  const task: TaskChanges = {}
  const taskInputs: RenderInputs['taskInputs'] = {}
  const taskRole = optionalInput('task-role-arn')
  if (taskRole !== undefined) task.taskRoleArn = validateTaskRoleArn('task-role-arn', taskRole)
  const executionRole = optionalInput('execution-role-arn')
  if (executionRole !== undefined) {
    task.executionRoleArn = validateTaskRoleArn('execution-role-arn', executionRole)
    taskInputs.executionRoleArn = 'execution-role-arn'
  }
  const cpu = optionalInput('cpu')
  if (cpu !== undefined) {
    task.cpu = validateTaskCpu('cpu', cpu)
    taskInputs.cpu = 'cpu'
  }
  const memory = optionalInput('memory')
  if (memory !== undefined) {
    task.memory = validateTaskMemory('memory', memory)
    taskInputs.memory = 'memory'
  }
  const platform = optionalInput('runtime-platform')
  if (platform !== undefined)
    task.runtimePlatform = parseRuntimePlatform('runtime-platform', platform)
  return { task, taskInputs }
}
