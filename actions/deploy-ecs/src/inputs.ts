import {
  booleanInput,
  choiceInput,
  durationSeconds,
  InputError,
  intInput,
  optionalInput,
  parseYamlText,
  readInputFile,
  resolvePathInput
} from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  type AwsAuthInputs,
  getAwsAuthInputs
} from '@shipline/aws'
import {
  type CodeDeployRequest,
  checkTaskDefinition,
  parseAppSpec,
  parseHooks,
  normaliseTaskDefinition,
  parseCommand,
  parseTaskDefinitionText,
  type TaskDefinition,
  TASK_DEFINITION_ARN_PATTERN
} from '@shipline/ecs'

export const ACTION_NAME = 'deploy-ecs'

export const INPUT_NAMES = [
  'task-definition',
  'task-definition-arn',
  'cluster',
  'service',
  'wait-for-service-stability',
  'wait-until',
  'wait-timeout',
  'desired-count',
  'force-new-deployment',
  'enable-ecs-managed-tags',
  'propagate-tags',
  'rollback-on-failure',
  'max-failed-tasks',
  'verify',
  'run-task-before',
  'run-task-container',
  'run-task-timeout',
  'create-service-if-missing',
  'service-spec',
  'codedeploy-application',
  'codedeploy-deployment-group',
  'codedeploy-deployment-config',
  'codedeploy-description',
  'codedeploy-appspec',
  'codedeploy-hooks',
  ...AWS_AUTH_INPUT_NAMES
] as const

export const DEFAULTS = {
  cluster: 'default',
  'wait-for-service-stability': 'true',
  'wait-until': 'deployed',
  'wait-timeout': '30m',
  'force-new-deployment': 'false',
  'rollback-on-failure': 'true',
  'max-failed-tasks': '3',
  verify: 'true',
  'run-task-timeout': '10m',
  'create-service-if-missing': 'false',
  ...AWS_AUTH_DEFAULTS
} as const

export type WaitUntil = 'deployed' | 'stable' | 'none'
export type PropagateTags = 'TASK_DEFINITION' | 'SERVICE' | 'NONE'

export type TaskDefinitionSource =
  { kind: 'file'; display: string; taskDefinition: TaskDefinition } | { kind: 'arn'; arn: string }

export interface DeployEcsInputs {
  source: TaskDefinitionSource
  cluster: string
  service: string
  waitUntil: WaitUntil
  waitTimeoutSeconds: number
  desiredCount: number | undefined
  forceNewDeployment: boolean
  enableEcsManagedTags: boolean | undefined
  propagateTags: PropagateTags | undefined
  rollbackOnFailure: boolean
  maxFailedTasks: number
  verify: boolean
  runTaskBefore:
    { command: string[]; container: string | undefined; timeoutSeconds: number } | undefined
  createServiceSpec: Record<string, unknown> | undefined
  codeDeploy: CodeDeployRequest
  auth: AwsAuthInputs
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/
const CLUSTER_ARN = /^arn:aws[\w-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/
const SERVICE_ARN =
  /^arn:aws[\w-]*:ecs:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9_-]{1,255}\/)?[A-Za-z0-9_-]{1,255}$/

function nameOrArn(input: string, value: string, arn: RegExp, what: string): string {
  if (NAME.test(value) || arn.test(value)) return value
  throw new InputError(
    input,
    `"${value}" is not an ECS ${what} name or ARN`,
    `Use the ${what} name (letters, digits, hyphens and underscores, up to 255) or its full ARN.`
  )
}

function readSource(): TaskDefinitionSource {
  const file = optionalInput('task-definition')
  const arn = optionalInput('task-definition-arn')
  if (file !== undefined && arn !== undefined) {
    throw new InputError(
      'task-definition-arn',
      'conflicts with "task-definition"',
      'Set exactly one: a rendered file in "task-definition", or a registered revision in "task-definition-arn".'
    )
  }
  if (arn !== undefined) {
    if (!TASK_DEFINITION_ARN_PATTERN.test(arn)) {
      throw new InputError(
        'task-definition-arn',
        `"${arn}" is not a task definition ARN`,
        'Use arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>.'
      )
    }
    if (!/:[1-9]\d*$/.test(arn)) {
      throw new InputError(
        'task-definition-arn',
        `"${arn}" names no revision`,
        'Deploy an exact revision (…:task-definition/<family>:<revision>), so that what is deployed is what was tested.'
      )
    }
    return { kind: 'arn', arn }
  }
  if (file === undefined) {
    throw new InputError(
      'task-definition',
      'is required (or "task-definition-arn")',
      'Pass the "task-definition" output of render-task-def, or a registered revision ARN in "task-definition-arn".'
    )
  }
  const path = resolvePathInput('task-definition', file)
  const raw = parseTaskDefinitionText(
    'task-definition',
    file,
    readInputFile('task-definition', path, file)
  )
  const { taskDefinition } = normaliseTaskDefinition(raw, 'task-definition')
  checkTaskDefinition(taskDefinition, () => 'task-definition')
  return { kind: 'file', display: file, taskDefinition }
}

function readWaitUntil(): WaitUntil {
  const explicit = optionalInput('wait-until')
  const stability = booleanInput('wait-for-service-stability', true)
  if (explicit === undefined) return stability ? 'deployed' : 'none'
  const value = choiceInput('wait-until', ['deployed', 'stable', 'none'] as const, 'deployed')
  if (!stability && value !== 'none') {
    throw new InputError(
      'wait-until',
      `"${value}" conflicts with "wait-for-service-stability: false"`,
      'Drop "wait-for-service-stability" (it is kept for migration) and use "wait-until: none" to not wait.'
    )
  }
  return value
}

function readRunTask(): DeployEcsInputs['runTaskBefore'] {
  const command = optionalInput('run-task-before')
  const container = optionalInput('run-task-container')
  const timeoutSeconds = durationSeconds('run-task-timeout', DEFAULTS['run-task-timeout'], {
    min: 10,
    max: 6 * 3600
  })
  if (command === undefined) {
    if (container !== undefined) {
      throw new InputError(
        'run-task-container',
        'is set without "run-task-before"',
        'Set "run-task-before" to the command to run (e.g. "npm run migrate"), or remove "run-task-container".'
      )
    }
    return undefined
  }
  if (container !== undefined && !NAME.test(container)) {
    throw new InputError(
      'run-task-container',
      `"${container}" is not a container name`,
      'Use a container name from the task definition.'
    )
  }
  return { command: parseCommand('run-task-before', command), container, timeoutSeconds }
}

function readServiceSpec(): Record<string, unknown> | undefined {
  const create = booleanInput('create-service-if-missing', false)
  const specPath = optionalInput('service-spec')
  if (!create) {
    if (specPath !== undefined) {
      throw new InputError(
        'service-spec',
        'is set without "create-service-if-missing: true"',
        'Set "create-service-if-missing: true" to create the service from this spec when it does not exist.'
      )
    }
    return undefined
  }
  if (specPath === undefined) {
    throw new InputError(
      'service-spec',
      'is required with "create-service-if-missing: true"',
      'Point it at a JSON or YAML file with the CreateService request (launchType, networkConfiguration, loadBalancers…).'
    )
  }
  const path = resolvePathInput('service-spec', specPath)
  const spec = parseYamlText('service-spec', readInputFile('service-spec', path, specPath))
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new InputError(
      'service-spec',
      `"${specPath}" is not a mapping`,
      'Write the CreateService request fields as a JSON or YAML object.'
    )
  }
  for (const key of ['taskDefinition', 'serviceName', 'cluster']) {
    if (key in spec) {
      throw new InputError(
        'service-spec',
        `"${specPath}" sets "${key}", which this action sets itself`,
        `Remove "${key}": it comes from the "${key === 'taskDefinition' ? 'task-definition' : key === 'serviceName' ? 'service' : 'cluster'}" input.`
      )
    }
  }
  return spec as Record<string, unknown>
}

const CODEDEPLOY_NAME = /^[\w.+@=,/-]{1,100}$/
const CODEDEPLOY_CONFIG = /^[\w.+-]{1,100}$/

function codeDeployName(input: string, pattern: RegExp): string | undefined {
  const value = optionalInput(input)
  if (value !== undefined && !pattern.test(value)) {
    throw new InputError(
      input,
      `"${value}" is not a CodeDeploy name`,
      'Use the name as the CodeDeploy console shows it (letters, digits, . _ - + = , @ /, up to 100).'
    )
  }
  return value
}

function readCodeDeploy(): CodeDeployRequest {
  const application = codeDeployName('codedeploy-application', CODEDEPLOY_NAME)
  const deploymentGroup = codeDeployName('codedeploy-deployment-group', CODEDEPLOY_NAME)
  const deploymentConfig = codeDeployName('codedeploy-deployment-config', CODEDEPLOY_CONFIG)
  const description = optionalInput('codedeploy-description')
  if (description !== undefined && description.length > 400) {
    throw new InputError(
      'codedeploy-description',
      `is ${description.length} characters long`,
      'Keep it to 400 characters (CodeDeploy rejects longer descriptions).'
    )
  }
  if ((application === undefined) !== (deploymentGroup === undefined)) {
    const missing =
      application === undefined ? 'codedeploy-application' : 'codedeploy-deployment-group'
    throw new InputError(
      missing,
      `is required with "${application === undefined ? 'codedeploy-deployment-group' : 'codedeploy-application'}"`,
      'Set both the CodeDeploy application and its deployment group.'
    )
  }
  const appspecPath = optionalInput('codedeploy-appspec')
  const hooksText = optionalInput('codedeploy-hooks')
  const hooks = hooksText === undefined ? [] : parseHooks('codedeploy-hooks', hooksText)
  if (appspecPath !== undefined && hooks.length) {
    throw new InputError(
      'codedeploy-hooks',
      'is set together with "codedeploy-appspec"',
      'Hooks belong in the Hooks section of the AppSpec file you provide; "codedeploy-hooks" is for a generated AppSpec.'
    )
  }
  let appspec: CodeDeployRequest['appspec']
  if (appspecPath !== undefined) {
    const path = resolvePathInput('codedeploy-appspec', appspecPath)
    appspec = {
      display: appspecPath,
      doc: parseAppSpec(
        'codedeploy-appspec',
        appspecPath,
        readInputFile('codedeploy-appspec', path, appspecPath)
      )
    }
  }
  return { application, deploymentGroup, deploymentConfig, description, appspec, hooks }
}

export function getInputs(): DeployEcsInputs {
  const service = optionalInput('service')
  if (service === undefined) {
    throw new InputError(
      'service',
      'is required',
      'Set "service" to the name of the ECS service to deploy to.'
    )
  }
  const propagate = optionalInput('propagate-tags')
  const managedTags = optionalInput('enable-ecs-managed-tags')
  const desired = optionalInput('desired-count')
  const inputs: DeployEcsInputs = {
    cluster: nameOrArn(
      'cluster',
      optionalInput('cluster') ?? DEFAULTS.cluster,
      CLUSTER_ARN,
      'cluster'
    ),
    service: nameOrArn('service', service, SERVICE_ARN, 'service'),
    source: readSource(),
    waitUntil: readWaitUntil(),
    waitTimeoutSeconds: durationSeconds('wait-timeout', DEFAULTS['wait-timeout'], {
      min: 10,
      max: 6 * 3600
    }),
    desiredCount:
      desired === undefined ? undefined : intInput('desired-count', 0, { min: 0, max: 5000 }),
    forceNewDeployment: booleanInput('force-new-deployment', false),
    enableEcsManagedTags:
      managedTags === undefined ? undefined : booleanInput('enable-ecs-managed-tags', false),
    propagateTags:
      propagate === undefined
        ? undefined
        : choiceInput('propagate-tags', ['TASK_DEFINITION', 'SERVICE', 'NONE'] as const, 'NONE'),
    rollbackOnFailure: booleanInput('rollback-on-failure', true),
    maxFailedTasks: intInput('max-failed-tasks', 3, { min: 1, max: 200 }),
    verify: booleanInput('verify', true),
    runTaskBefore: readRunTask(),
    createServiceSpec: readServiceSpec(),
    codeDeploy: readCodeDeploy(),
    auth: getAwsAuthInputs(ACTION_NAME)
  }
  return inputs
}
