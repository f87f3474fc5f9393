/**
 * A whole ECS deployment: look at the service, verify what the new revision refers to, register it only when it
 * differs from what runs, optionally run a one-off task from it, update (or create) the service with only what
 * changes, and track our deployment to its end. Nothing mutating happens before every check has passed.
 */
import {
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  UpdateServiceCommand,
  type UpdateServiceCommandInput
} from '@aws-sdk/client-ecs'
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy'
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
import { DeploymentTracker, type DeployStatus, type TrackResult } from './tracker.js'
import { type Check, verifyDeployment, type VerifyClients } from './verify.js'

export type TaskDefinitionInput =
  { kind: 'file'; display: string; taskDefinition: TaskDefinition } | { kind: 'arn'; arn: string }

export interface DeployRequest {
  cluster: string
  service: string
  source: TaskDefinitionInput
  waitUntil: 'deployed' | 'stable' | 'none'
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
  /** For a service whose deployment controller is CODE_DEPLOY (the codedeploy-* inputs). */
  codeDeploy?: CodeDeployRequest
}

export interface DeployDeps {
  clients: VerifyClients & { ecs: ECSClient; codedeploy?: CodeDeployClient }
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
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))
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
      new DescribeTaskDefinitionCommand({ taskDefinition: id, include: ['TAGS'] })
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
      const out = await ecs.send(new RegisterTaskDefinitionCommand(registerInput(desired)))
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
        waitUntil: request.waitUntil,
        timeoutMs: request.timeoutMs,
        forceNewDeployment: request.forceNewDeployment
      }
    )
  }

  // 6. Update (or create) the service with only what changes.
  let service: Service | undefined
  if (!existing) {
    const input = {
      ...(request.createServiceSpec as Partial<CreateServiceCommandInput>),
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
      service = (await ecs.send(new CreateServiceCommand(input))).service
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
      service = (await ecs.send(new UpdateServiceCommand(update))).service
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
      deploymentId: ours.id,
      taskDefinitionArn,
      serviceDeploymentArn: service?.currentServiceDeployment,
      previousTaskDefinitionArn: existing?.taskDefinition
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
  tracker.ignoreExistingEvents(existing)
  report.track = await deps.group(`Wait for deployment ${ours.id}`, () => tracker.track())
  report.status = report.track.status
  report.reason = report.track.reason
  return report
}
