/**
 * A whole ECS deployment: look at the service, verify what the new revision refers to, register it only when it
 * differs from what runs, optionally run a one-off task from it, update (or create) the service with only what
 * changes, and track our deployment to its end. Nothing mutating happens before every check has passed.
 */
import type {
  CreateServiceCommandInput,
  DeploymentConfiguration,
  ECSClient,
  RegisterTaskDefinitionCommandInput,
  Service,
  UpdateServiceCommandInput
} from '@aws-sdk/client-ecs'
import { ActionError, InputError } from '@shipline/action-kit'
import { describeAwsError } from '@shipline/aws'
import {
  type CodeDeployPlan,
  type CodeDeployReport,
  type CodeDeployRequest,
  deployWithCodeDeploy,
  givenCodeDeployInput,
  prepareCodeDeploy
} from '../codedeploy/deploy.js'
import type { TaskDefinition } from '../task-definition/render.js'
import { diffTaskDefinitions, type FieldChange } from './diff.js'
import { runTaskBefore } from './run-task.js'
import { isLifecycleStage } from './stages.js'
import { DeploymentTracker, type DeployStatus, type TrackResult } from './tracker.js'
import { type Check, verifyDeployment, type VerifyClients } from './verify.js'
import { type CodeDeploySender, loadEcs } from '../sdk.js'

export type TaskDefinitionInput =
  | { kind: 'file'; display: string; taskDefinition: TaskDefinition }
  | { kind: 'arn'; arn: string }
  | { kind: 'continue' }

/** The ECS-native strategy to set for this deployment ('auto': keep the service's). */
export interface StrategyRequest {
  strategy: 'auto' | 'rolling' | 'blue-green' | 'canary' | 'linear'
  bakeTimeMinutes: number | undefined
  canary: { percent: number | undefined; intervalMinutes: number | undefined } | undefined
  linear: { stepPercent: number | undefined; intervalMinutes: number | undefined } | undefined
}

const ECS_STRATEGY = {
  rolling: 'ROLLING',
  'blue-green': 'BLUE_GREEN',
  canary: 'CANARY',
  linear: 'LINEAR'
} as const

/**
 * The service's deploymentConfiguration with our strategy settings, or undefined when nothing changes. ECS
 * replaces the nested objects it is sent, so everything the service has (circuit breaker, alarms, lifecycle hooks,
 * percentages) is sent back unchanged.
 */
export function strategyConfiguration(
  current: DeploymentConfiguration | undefined,
  request: StrategyRequest
): DeploymentConfiguration | undefined {
  if (request.strategy === 'auto') return undefined
  const next: DeploymentConfiguration = { ...(current ?? {}) }
  next.strategy = ECS_STRATEGY[request.strategy]
  if (request.bakeTimeMinutes !== undefined) next.bakeTimeInMinutes = request.bakeTimeMinutes
  if (request.canary) {
    next.canaryConfiguration = { ...(current?.canaryConfiguration ?? {}) }
    if (request.canary.percent !== undefined)
      next.canaryConfiguration.canaryPercent = request.canary.percent
    if (request.canary.intervalMinutes !== undefined)
      next.canaryConfiguration.canaryBakeTimeInMinutes = request.canary.intervalMinutes
  }
  if (request.linear) {
    next.linearConfiguration = { ...(current?.linearConfiguration ?? {}) }
    if (request.linear.stepPercent !== undefined)
      next.linearConfiguration.stepPercent = request.linear.stepPercent
    if (request.linear.intervalMinutes !== undefined)
      next.linearConfiguration.stepBakeTimeInMinutes = request.linear.intervalMinutes
  }
  if (next.strategy !== 'ROLLING' && next.bakeTimeInMinutes === undefined) {
    throw new InputError(
      'bake-time',
      `is required: the service has no bake time and "strategy" is ${request.strategy}`,
      'Set "bake-time" (e.g. 5m or 0) the first time a service switches to an ECS-native strategy.'
    )
  }
  return JSON.stringify(next) === JSON.stringify(current ?? {}) ? undefined : next
}

export interface DeployRequest {
  cluster: string
  service: string
  source: TaskDefinitionInput
  /** deployed, stable, none, or a lifecycle stage (ECS-native strategies). */
  waitUntil: 'deployed' | 'stable' | 'none' | (string & {})
  timeoutMs: number
  desiredCount: number | undefined
  forceNewDeployment: boolean
  enableEcsManagedTags: boolean | undefined
  propagateTags: 'TASK_DEFINITION' | 'SERVICE' | 'NONE' | undefined
  rollbackOnFailure: boolean
  maxFailedTasks: number
  verify: boolean
  runTaskBefore:
    { command: string[]; container: string | undefined; timeoutSeconds: number } | undefined
  createServiceSpec: Record<string, unknown> | undefined
  strategy?: StrategyRequest
  /** Resume or roll back a deployment an earlier run left paused, instead of deploying. */
  continueDeployment?: 'continue' | 'rollback'
  /** For a service whose deployment controller is CODE_DEPLOY (the codedeploy-* inputs). */
  codeDeploy?: CodeDeployRequest
}

export interface DeployDeps {
  clients: VerifyClients & { ecs: ECSClient; codedeploy?: CodeDeploySender }
  accountId: string
  region: string
  localEcrHost?: string
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  info: (message: string) => void
  warning: (message: string) => void
  group: <T>(title: string, fn: () => Promise<T>) => Promise<T>
  refreshCredentials?: () => Promise<void>
  cancel?: AbortSignal
}

export interface DeployReport {
  cluster: string
  service: string
  taskDefinitionArn: string | undefined
  previousTaskDefinitionArn: string | undefined
  changed: boolean
  created: boolean
  deploymentId: string | undefined
  status: DeployStatus | undefined
  reason: string | undefined
  checks: Check[]
  diff: FieldChange[]
  track: TrackResult | undefined
  startedAt: number
  registeredAt: number | undefined
  codeDeploy?: CodeDeployReport
}

async function describeService(
  ecs: ECSClient,
  cluster: string,
  service: string
): Promise<Service | undefined> {
  try {
    const out = await ecs.send(
      new (await loadEcs()).DescribeServicesCommand({ cluster, services: [service] })
    )
    const found = out.services?.[0]
    return found && found.status !== 'INACTIVE' ? found : undefined
  } catch (error) {
    if ((error as { name?: string }).name === 'ClusterNotFoundException') {
      throw new ActionError(
        `ECS cluster "${cluster}" does not exist in this account and region`,
        'Check the "cluster" input and "aws-region".'
      )
    }
    throw describeAwsError(error, {
      action: 'ecs:DescribeServices',
      resource: `${cluster}/${service}`
    })
  }
}

async function describeTaskDefinition(ecs: ECSClient, id: string): Promise<TaskDefinition> {
  try {
    const out = await ecs.send(
      new (await loadEcs()).DescribeTaskDefinitionCommand({ taskDefinition: id, include: ['TAGS'] })
    )
    if (!out.taskDefinition)
      throw new ActionError(`ECS returned no task definition for ${id}`, 'Re-run the job.')
    const td = { ...out.taskDefinition } as unknown as TaskDefinition
    if (out.tags?.length) td['tags'] = out.tags
    return td
  } catch (error) {
    throw describeAwsError(error, { action: 'ecs:DescribeTaskDefinition', resource: id })
  }
}

/** The request fields of a (described or rendered) task definition, for RegisterTaskDefinition. */
function registerInput(td: TaskDefinition): RegisterTaskDefinitionCommandInput {
  return td as unknown as RegisterTaskDefinitionCommandInput
}

export function consoleUrl(region: string, cluster: string, service: string): string {
  const clusterName = cluster.replace(/^.*:cluster\//, '')
  const serviceName = service.replace(/^.*:service\/(?:[^/]+\/)?/, '')
  return `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(clusterName)}/services/${encodeURIComponent(serviceName)}/deployments?region=${region}`
}

export async function deployToEcs(deps: DeployDeps, request: DeployRequest): Promise<DeployReport> {
  const { ecs } = deps.clients
  const report: DeployReport = {
    cluster: request.cluster,
    service: request.service,
    taskDefinitionArn: undefined,
    previousTaskDefinitionArn: undefined,
    changed: false,
    created: false,
    deploymentId: undefined,
    status: undefined,
    reason: undefined,
    checks: [],
    diff: [],
    track: undefined,
    startedAt: deps.now(),
    registeredAt: undefined
  }

  // 1. What runs now.
  const existing = await describeService(ecs, request.cluster, request.service)
  if (!existing && !request.createServiceSpec) {
    throw new ActionError(
      `ECS service "${request.service}" does not exist in cluster "${request.cluster}" (or is INACTIVE)`,
      'Check "service" and "cluster", or set "create-service-if-missing: true" with a "service-spec" file to create it.'
    )
  }
  const strategy = request.strategy ?? {
    strategy: 'auto',
    bakeTimeMinutes: undefined,
    canary: undefined,
    linear: undefined
  }
  if (existing?.deploymentController?.type === 'CODE_DEPLOY' && strategy.strategy !== 'auto') {
    throw new InputError(
      'strategy',
      `"${strategy.strategy}" cannot apply: service "${request.service}" uses the CODE_DEPLOY deployment controller`,
      'CodeDeploy decides how its services deploy: remove "strategy" (and its options) for this service.'
    )
  }
  const viaCodeDeploy = existing?.deploymentController?.type === 'CODE_DEPLOY'
  const cdInput = givenCodeDeployInput(request.codeDeploy)
  if (!viaCodeDeploy && cdInput) {
    throw new InputError(
      cdInput,
      `is set, but service "${request.service}" ${existing ? `uses the ${existing.deploymentController?.type ?? 'ECS'} deployment controller` : 'does not exist yet'}, not CODE_DEPLOY`,
      'Remove the codedeploy-* inputs for this service (they apply to CODE_DEPLOY services only).'
    )
  }
  if (
    !viaCodeDeploy &&
    existing?.deploymentController?.type &&
    existing.deploymentController.type !== 'ECS'
  ) {
    throw new ActionError(
      `ECS service "${request.service}" uses the ${existing.deploymentController.type} deployment controller, which this rolling deployment cannot drive`,
      'Deploy CODE_DEPLOY services through CodeDeploy (an AppSpec deployment); EXTERNAL services through their own controller.'
    )
  }
  if (viaCodeDeploy && (request.continueDeployment || isLifecycleStage(request.waitUntil))) {
    const name = request.continueDeployment ? 'continue-deployment' : 'wait-until'
    throw new InputError(
      name,
      `applies to ECS-native deployments, but service "${request.service}" uses the CODE_DEPLOY deployment controller`,
      'CodeDeploy drives this service: remove it and follow the CodeDeploy deployment ("wait-until: deployed" or "stable").'
    )
  }
  const effective =
    strategy.strategy === 'auto'
      ? (existing?.deploymentConfiguration?.strategy ??
        (
          request.createServiceSpec?.['deploymentConfiguration'] as
            DeploymentConfiguration | undefined
        )?.strategy ??
        'ROLLING')
      : ECS_STRATEGY[strategy.strategy]
  if (isLifecycleStage(request.waitUntil) && effective === 'ROLLING') {
    throw new InputError(
      'wait-until',
      `"${request.waitUntil}" is a lifecycle stage, but service "${request.service}" deploys ROLLING`,
      'Set "strategy" to blue-green, canary or linear (or configure it on the service), or use "wait-until: deployed".'
    )
  }
  if (request.continueDeployment) {
    if (!existing)
      throw new ActionError(
        `ECS service "${request.service}" does not exist in cluster "${request.cluster}": there is no deployment to continue`,
        'Check "service" and "cluster".'
      )
    return continuePaused(deps, request, existing, report)
  }
  if (request.source.kind === 'continue') {
    throw new InputError(
      'task-definition',
      'is required',
      'Set "task-definition" or "task-definition-arn".'
    )
  }
  report.previousTaskDefinitionArn = existing?.taskDefinition
  const current = existing?.taskDefinition
    ? await describeTaskDefinition(ecs, existing.taskDefinition)
    : undefined

  // 2. What should run.
  let desired: TaskDefinition
  if (request.source.kind === 'file') {
    desired = request.source.taskDefinition
    report.diff = diffTaskDefinitions(current, desired)
    report.changed = report.diff.length > 0
  } else {
    desired = await describeTaskDefinition(ecs, request.source.arn)
    report.changed = request.source.arn !== existing?.taskDefinition
  }
  if (report.diff.length) {
    deps.info(`changes against ${existing?.taskDefinition ?? 'nothing (new service)'}:`)
    for (const d of report.diff) deps.info(`  ${d.path}: ${d.from} → ${d.to}`)
  } else if (request.source.kind === 'file') {
    deps.info(
      `the rendered task definition equals ${existing?.taskDefinition ?? '?'}: nothing to register`
    )
  }

  // 3. Verify before anything changes.
  if (request.verify) {
    report.checks = await deps.group('Verify', async () => {
      const checks = await verifyDeployment(deps.clients, desired, {
        cluster: request.cluster,
        service: existing,
        accountId: deps.accountId,
        region: deps.region,
        localEcrHost: deps.localEcrHost
      })
      for (const c of checks) deps.info(`${c.status.padEnd(4)} ${c.subject}: ${c.detail}`)
      return checks
    })
    const failed = report.checks.filter((c) => c.status === 'FAIL')
    if (failed.length) {
      report.status = 'FAILED'
      report.reason = `verification failed: ${failed.map((c) => `${c.subject}: ${c.detail}`).join('; ')}`
      throw Object.assign(
        new ActionError(
          `nothing was deployed: ${failed.length} verification check(s) failed — ${failed.map((c) => `${c.subject}: ${c.detail}`).join('; ')}`,
          'Fix what the checks name (or set "verify: false" to skip them) and re-run.'
        ),
        { report }
      )
    }
  }

  // 3b. A CodeDeploy service: the deployment group and the AppSpec, still before anything changes.
  let plan: CodeDeployPlan | undefined
  if (viaCodeDeploy && existing) {
    plan = await deps.group('CodeDeploy', () =>
      prepareCodeDeploy(deps.clients.codedeploy, request.codeDeploy, {
        cluster: request.cluster,
        service: request.service,
        existing,
        desired
      })
    )
  }

  // 4. Register only when something differs.
  if (request.source.kind === 'arn') report.taskDefinitionArn = request.source.arn
  else if (!report.changed && existing?.taskDefinition)
    report.taskDefinitionArn = existing.taskDefinition
  else {
    try {
      const out = await ecs.send(
        new (await loadEcs()).RegisterTaskDefinitionCommand(registerInput(desired))
      )
      report.taskDefinitionArn = out.taskDefinition?.taskDefinitionArn
      report.registeredAt = deps.now()
      deps.info(`registered ${report.taskDefinitionArn}`)
    } catch (error) {
      throw describeAwsError(error, {
        action: 'ecs:RegisterTaskDefinition',
        resource: String(desired['family'])
      })
    }
  }
  const taskDefinitionArn = report.taskDefinitionArn as string

  // 5. A one-off task first (migrations).
  if (request.runTaskBefore) {
    await deps.group('Run task before', () =>
      runTaskBefore(
        { ecs, now: deps.now, sleep: (ms) => deps.sleep(ms, deps.cancel), info: deps.info },
        {
          command: request.runTaskBefore!.command,
          container: request.runTaskBefore!.container,
          timeoutMs: request.runTaskBefore!.timeoutSeconds * 1000
        },
        request.cluster,
        taskDefinitionArn,
        desired,
        existing
      )
    )
  }

  // 6a. A CodeDeploy service is never updated: CodeDeploy replaces its task set.
  if (plan && existing) {
    return deployWithCodeDeploy(
      { ...deps, codedeploy: deps.clients.codedeploy!, ecs },
      plan,
      report,
      {
        cluster: request.cluster,
        existing,
        taskDefinitionArn,
        // A lifecycle stage was refused for CODE_DEPLOY services above.
        waitUntil:
          request.waitUntil === 'stable'
            ? 'stable'
            : request.waitUntil === 'none'
              ? 'none'
              : 'deployed',
        timeoutMs: request.timeoutMs,
        forceNewDeployment: request.forceNewDeployment
      }
    )
  }

  // 6. Update (or create) the service with only what changes.
  let service: Service | undefined
  if (!existing) {
    const specCfg = request.createServiceSpec?.['deploymentConfiguration'] as
      DeploymentConfiguration | undefined
    const cfg = strategyConfiguration(specCfg, strategy)
    const input = {
      ...(request.createServiceSpec as Partial<CreateServiceCommandInput>),
      ...(cfg ? { deploymentConfiguration: cfg } : {}),
      cluster: request.cluster,
      serviceName: request.service,
      taskDefinition: taskDefinitionArn,
      ...(request.desiredCount !== undefined ? { desiredCount: request.desiredCount } : {}),
      ...(request.propagateTags ? { propagateTags: request.propagateTags } : {}),
      ...(request.enableEcsManagedTags !== undefined
        ? { enableECSManagedTags: request.enableEcsManagedTags }
        : {})
    } as CreateServiceCommandInput
    try {
      service = (await ecs.send(new (await loadEcs()).CreateServiceCommand(input))).service
      report.created = true
      deps.info(`created service ${request.service}`)
    } catch (error) {
      throw describeAwsError(error, { action: 'ecs:CreateService', resource: request.service })
    }
  } else {
    const update: UpdateServiceCommandInput = { cluster: request.cluster, service: request.service }
    if (taskDefinitionArn !== existing.taskDefinition) update.taskDefinition = taskDefinitionArn
    if (request.desiredCount !== undefined && request.desiredCount !== existing.desiredCount)
      update.desiredCount = request.desiredCount
    if (request.forceNewDeployment) update.forceNewDeployment = true
    const cfg = strategyConfiguration(existing.deploymentConfiguration, strategy)
    if (cfg) {
      update.deploymentConfiguration = cfg
      deps.info(`deployment strategy for this deployment: ${cfg.strategy}`)
    }
    if (request.propagateTags && request.propagateTags !== existing.propagateTags)
      update.propagateTags = request.propagateTags
    if (
      request.enableEcsManagedTags !== undefined &&
      request.enableEcsManagedTags !== existing.enableECSManagedTags
    )
      update.enableECSManagedTags = request.enableEcsManagedTags
    if (Object.keys(update).length === 2) {
      report.status = 'SUCCESSFUL'
      report.reason = undefined
      report.deploymentId = existing.deployments?.find((d) => d.status === 'PRIMARY')?.id
      deps.info(`service ${request.service} already runs ${taskDefinitionArn}: nothing to deploy`)
      return report
    }
    try {
      service = (await ecs.send(new (await loadEcs()).UpdateServiceCommand(update))).service
    } catch (error) {
      throw describeAwsError(error, {
        action: 'ecs:UpdateService',
        resource: `${request.cluster}/${request.service}`
      })
    }
  }
  const ours = service?.deployments?.find((d) => d.status === 'PRIMARY')
  report.deploymentId = ours?.id
  if (!ours?.id) {
    throw new ActionError(
      `ECS accepted the update of "${request.service}" but reported no PRIMARY deployment`,
      'Look at the service in the console; re-run to retry.'
    )
  }
  deps.info(`deployment ${ours.id} started (${taskDefinitionArn})`)
  if (request.waitUntil === 'none') {
    report.status = 'NOT_WAITED'
    return report
  }

  // 7. Follow ours to the end.
  await follow(deps, request, report, {
    deploymentId: ours.id,
    taskDefinitionArn,
    serviceDeploymentArn: service?.currentServiceDeployment,
    previousTaskDefinitionArn: existing?.taskDefinition,
    existing
  })
  return report
}

async function follow(
  deps: DeployDeps,
  request: DeployRequest,
  report: DeployReport,
  ours: {
    deploymentId: string
    taskDefinitionArn: string
    serviceDeploymentArn: string | undefined
    previousTaskDefinitionArn: string | undefined
    existing: Service | undefined
  }
): Promise<void> {
  const { ecs } = deps.clients
  const tracker = new DeploymentTracker(
    {
      ecs,
      now: deps.now,
      sleep: deps.sleep,
      info: deps.info,
      warning: deps.warning,
      refreshCredentials: deps.refreshCredentials
    },
    {
      cluster: request.cluster,
      service: request.service,
      deploymentId: ours.deploymentId,
      taskDefinitionArn: ours.taskDefinitionArn,
      serviceDeploymentArn: ours.serviceDeploymentArn,
      previousTaskDefinitionArn: ours.previousTaskDefinitionArn
    },
    {
      waitUntil: request.waitUntil,
      timeoutMs: request.timeoutMs,
      maxFailedTasks: request.maxFailedTasks,
      rollbackOnFailure: request.rollbackOnFailure,
      cancel: deps.cancel
    },
    deps.now()
  )
  tracker.ignoreExistingEvents(ours.existing)
  report.track = await deps.group(`Wait for deployment ${ours.deploymentId}`, () => tracker.track())
  report.status = report.track.status
  report.reason = report.track.reason
}

/** continue-deployment: resume or roll back the service's in-progress ECS-native deployment, then follow it. */
async function continuePaused(
  deps: DeployDeps,
  request: DeployRequest,
  existing: Service,
  report: DeployReport
): Promise<DeployReport> {
  const { ecs } = deps.clients
  const arn = existing.currentServiceDeployment
  const where = `service "${request.service}" in cluster "${request.cluster}"`
  let sd
  try {
    sd = arn
      ? (
          await ecs.send(
            new (await loadEcs()).DescribeServiceDeploymentsCommand({
              serviceDeploymentArns: [arn]
            })
          )
        ).serviceDeployments?.[0]
      : undefined
  } catch (error) {
    throw describeAwsError(error, { action: 'ecs:DescribeServiceDeployments', resource: arn })
  }
  if (!arn || !sd || sd.status !== 'IN_PROGRESS') {
    throw new ActionError(
      `${where} has no service deployment in progress to continue${sd?.status ? ` (the last one ended ${sd.status})` : ''}`,
      'Remove "continue-deployment" to deploy; it only resumes a deployment an earlier run left at a stage or PAUSE hook.'
    )
  }
  const primary = existing.deployments?.find((d) => d.status === 'PRIMARY')
  const previous = existing.deployments?.find((d) => d.status !== 'PRIMARY')
  report.deploymentId = primary?.id
  report.taskDefinitionArn = primary?.taskDefinition
  report.previousTaskDefinitionArn = previous?.taskDefinition
  if (request.source.kind === 'arn' && request.source.arn !== primary?.taskDefinition) {
    throw new InputError(
      'task-definition-arn',
      `"${request.source.arn}" is not the revision of the paused deployment (${primary?.taskDefinition ?? '?'})`,
      'Pass the same revision as the run that started it, or leave "task-definition-arn" empty.'
    )
  }
  const paused = (sd.lifecycleHookDetails ?? []).find((h) => h.status === 'AWAITING_ACTION')
  const action = request.continueDeployment === 'rollback' ? 'ROLLBACK' : 'CONTINUE'
  try {
    if (paused?.hookId) {
      await ecs.send(
        new (await loadEcs()).ContinueServiceDeploymentCommand({
          serviceDeploymentArn: arn,
          hookId: paused.hookId,
          action
        })
      )
      deps.info(
        `${action === 'ROLLBACK' ? 'rolling back' : 'continuing'} the deployment paused at ${sd.lifecycleStage ?? '?'} (hook ${paused.hookId})`
      )
    } else if (action === 'ROLLBACK') {
      await ecs.send(
        new (await loadEcs()).StopServiceDeploymentCommand({
          serviceDeploymentArn: arn,
          stopType: 'ROLLBACK'
        })
      )
      deps.info(`rolling back the deployment at stage ${sd.lifecycleStage ?? '?'}`)
    } else {
      deps.info(
        `the deployment is at stage ${sd.lifecycleStage ?? '?'} and not paused: following it`
      )
    }
  } catch (error) {
    throw describeAwsError(error, {
      action: paused ? 'ecs:ContinueServiceDeployment' : 'ecs:StopServiceDeployment',
      resource: arn
    })
  }
  if (request.waitUntil === 'none') {
    report.status = 'NOT_WAITED'
    return report
  }
  await follow(deps, request, report, {
    deploymentId: primary?.id ?? '',
    taskDefinitionArn: primary?.taskDefinition ?? '',
    serviceDeploymentArn: arn,
    previousTaskDefinitionArn: previous?.taskDefinition,
    existing
  })
  return report
}
