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
  isLifecycleStage,
  LIFECYCLE_STAGE_ORDER,
  type LifecycleStage,
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
  'strategy',
  'bake-time',
  'canary-percent',
  'canary-interval',
  'linear-step-percent',
  'linear-interval',
  'continue-deployment',
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
  strategy: 'auto',
  ...AWS_AUTH_DEFAULTS
} as const

export type WaitUntil = 'deployed' | 'stable' | 'none' | LifecycleStage
export type Strategy = 'auto' | 'rolling' | 'blue-green' | 'canary' | 'linear'

/** The ECS-native strategy settings to apply for this deployment (undefined: what the service has). */
export interface StrategyInputs {
  strategy: Strategy
  bakeTimeMinutes: number | undefined
  canary: { percent: number | undefined; intervalMinutes: number | undefined } | undefined
  linear: { stepPercent: number | undefined; intervalMinutes: number | undefined } | undefined
}
export type PropagateTags = 'TASK_DEFINITION' | 'SERVICE' | 'NONE'

export type TaskDefinitionSource =
  | { kind: 'file'; display: string; taskDefinition: TaskDefinition }
  | { kind: 'arn'; arn: string }
  | { kind: 'continue' }

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
  strategy: StrategyInputs
  /** Resume ('continue') or roll back a deployment paused by an earlier run, instead of deploying. */
  continueDeployment: 'continue' | 'rollback' | undefined
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

/** With continue-deployment the paused deployment's revision is what runs: a task definition is optional. */
function readOptionalSource(): TaskDefinitionSource {
  if (
    optionalInput('task-definition') === undefined &&
    optionalInput('task-definition-arn') === undefined
  )
    return { kind: 'continue' }
  return readSource()
}

function readWaitUntil(strategy: Strategy): WaitUntil {
  const explicit = optionalInput('wait-until')
  const stability = booleanInput('wait-for-service-stability', true)
  if (explicit === undefined) return stability ? 'deployed' : 'none'
  const stage = explicit.trim().toUpperCase().replace(/-/g, '_')
  if (isLifecycleStage(stage)) {
    if (strategy === 'rolling') {
      throw new InputError(
        'wait-until',
        `"${explicit}" is a lifecycle stage, but "strategy" is rolling`,
        'Lifecycle stages exist only in blue-green, canary and linear deployments: set "strategy", or use deployed, stable or none.'
      )
    }
    if (!stability) {
      throw new InputError(
        'wait-until',
        `"${explicit}" conflicts with "wait-for-service-stability: false"`,
        'Drop "wait-for-service-stability" (it is kept for migration).'
      )
    }
    return stage
  }
  if (!['deployed', 'stable', 'none'].includes(explicit)) {
    throw new InputError(
      'wait-until',
      `"${explicit}" is not deployed, stable, none or a lifecycle stage`,
      `Use deployed, stable, none, or one of ${LIFECYCLE_STAGE_ORDER.join(', ')} (blue-green, canary and linear only).`
    )
  }
  const value = explicit as 'deployed' | 'stable' | 'none'
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

/** A traffic percentage: a multiple of 0.1 within [min, 100] (the ECS API's CanaryConfiguration/LinearConfiguration). */
function percentInput(name: string, min: number): number | undefined {
  const value = optionalInput(name)
  if (value === undefined) return undefined
  const text = value.trim().replace(/%$/, '')
  const n = Number(text)
  if (!/^\d+(\.\d)?$/.test(text) || !Number.isFinite(n) || n < min || n > 100) {
    throw new InputError(
      name,
      `"${value}" is not a percentage between ${min} and 100 in steps of 0.1`,
      `ECS accepts multiples of 0.1 from ${min} to 100, e.g. ${min === 3 ? '10 or 25' : '5 or 12.5'}.`
    )
  }
  return n
}

/** A bake time or interval in whole minutes, 0–1440 (24 h), as the ECS API takes it. */
function minutesInput(name: string): number | undefined {
  const value = optionalInput(name)
  if (value === undefined) return undefined
  const seconds = durationSeconds(name, '0', { min: 0, max: 1440 * 60 })
  if (seconds % 60 !== 0) {
    throw new InputError(
      name,
      `"${value}" is not a whole number of minutes`,
      'ECS takes bake times in minutes: use e.g. 0, 5m, 1h or 90m (at most 24h).'
    )
  }
  return seconds / 60
}

function readStrategy(): StrategyInputs {
  const strategy = choiceInput(
    'strategy',
    ['auto', 'rolling', 'blue-green', 'canary', 'linear'] as const,
    DEFAULTS.strategy
  )
  const bakeTimeMinutes = minutesInput('bake-time')
  const canaryPercent = percentInput('canary-percent', 0.1)
  const canaryInterval = minutesInput('canary-interval')
  const linearStep = percentInput('linear-step-percent', 3)
  const linearInterval = minutesInput('linear-interval')
  const mismatch = (name: string, needs: string): never => {
    throw new InputError(
      name,
      `is set but "strategy" is ${strategy}`,
      `"${name}" applies to ${needs} only: set "strategy: ${needs}" or remove "${name}".`
    )
  }
  if (bakeTimeMinutes !== undefined && (strategy === 'auto' || strategy === 'rolling')) {
    throw new InputError(
      'bake-time',
      `is set but "strategy" is ${strategy}`,
      'A bake time applies to blue-green, canary and linear: set "strategy" to one of them, or remove "bake-time".'
    )
  }
  if (strategy !== 'canary') {
    if (canaryPercent !== undefined) mismatch('canary-percent', 'canary')
    if (canaryInterval !== undefined) mismatch('canary-interval', 'canary')
  }
  if (strategy !== 'linear') {
    if (linearStep !== undefined) mismatch('linear-step-percent', 'linear')
    if (linearInterval !== undefined) mismatch('linear-interval', 'linear')
  }
  return {
    strategy,
    bakeTimeMinutes,
    canary:
      strategy === 'canary'
        ? { percent: canaryPercent, intervalMinutes: canaryInterval }
        : undefined,
    linear:
      strategy === 'linear'
        ? { stepPercent: linearStep, intervalMinutes: linearInterval }
        : undefined
  }
}

function readContinue(): DeployEcsInputs['continueDeployment'] {
  const value = optionalInput('continue-deployment')
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === 'continue') return 'continue'
  if (v === 'rollback') return 'rollback'
  throw new InputError(
    'continue-deployment',
    `"${value}" is not true or rollback`,
    'Use "true" to resume the deployment paused by an earlier run, or "rollback" to roll it back; leave it empty to deploy.'
  )
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
  const strategy = readStrategy()
  const continueDeployment = readContinue()
  if (
    continueDeployment !== undefined &&
    (strategy.strategy !== 'auto' || optionalInput('create-service-if-missing') === 'true')
  ) {
    throw new InputError(
      'continue-deployment',
      strategy.strategy !== 'auto'
        ? `conflicts with "strategy: ${strategy.strategy}"`
        : 'conflicts with "create-service-if-missing"',
      'A continued deployment keeps the settings it started with: remove "strategy" (and the strategy options).'
    )
  }
  const inputs: DeployEcsInputs = {
    cluster: nameOrArn(
      'cluster',
      optionalInput('cluster') ?? DEFAULTS.cluster,
      CLUSTER_ARN,
      'cluster'
    ),
    service: nameOrArn('service', service, SERVICE_ARN, 'service'),
    source: continueDeployment ? readOptionalSource() : readSource(),
    waitUntil: readWaitUntil(strategy.strategy),
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
    strategy,
    continueDeployment,
    codeDeploy: readCodeDeploy(),
    auth: getAwsAuthInputs(ACTION_NAME)
  }
  return inputs
}
