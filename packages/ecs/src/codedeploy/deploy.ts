/**
 * The CodeDeploy half of deploy-ecs for a service whose deployment controller is CODE_DEPLOY: checked before
 * anything changes (inputs, the deployment group, the AppSpec's containers and ports against the revision), then,
 * after the common steps, a CreateDeployment with the AppSpec content (never UpdateService) and its tracking.
 */
import { createHash } from 'node:crypto'
import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy'
import type { ECSClient, Service } from '@aws-sdk/client-ecs'
import { ActionError, InputError } from '@shipline/action-kit'
import { describeAwsError } from '@shipline/aws'
import type { TaskDefinition } from '../task-definition/render.js'
import type { DeployReport } from '../deploy/deploy.js'
import {
  type AppSpecDocument,
  type AppSpecHook,
  type AppSpecTarget,
  appSpecTargets,
  checkAppSpecTargets,
  generateAppSpec,
  withTaskDefinition
} from './appspec.js'
import { waitBudget, type WaitBudget } from './budget.js'
import { checkDeploymentGroup } from './group.js'
import { type LifecycleEventRecord, trackCodeDeploy } from './tracker.js'
import { type CodeDeploySender, loadCodeDeploy } from '../sdk.js'

export interface CodeDeployRequest {
  application: string | undefined
  deploymentGroup: string | undefined
  deploymentConfig: string | undefined
  description: string | undefined
  appspec: { display: string; doc: AppSpecDocument } | undefined
  hooks: AppSpecHook[]
}

export interface CodeDeployPlan {
  application: string
  deploymentGroup: string
  group: DeploymentGroupInfo
  targets: AppSpecTarget[]
  request: CodeDeployRequest
}

export interface CodeDeployReport {
  application: string
  deploymentGroup: string
  deploymentId: string | undefined
  deploymentConfig: string | undefined
  appspec: string | undefined
  budget: WaitBudget | undefined
  lifecycle: LifecycleEventRecord[]
  traffic: string[]
  rollbackDeploymentId: string | undefined
  consoleUrl: string | undefined
}

/** The first codedeploy-* input that was given (for the error on a service CodeDeploy does not drive). */
export function givenCodeDeployInput(r: CodeDeployRequest | undefined): string | undefined {
  if (!r) return undefined
  if (r.application !== undefined) return 'codedeploy-application'
  if (r.deploymentGroup !== undefined) return 'codedeploy-deployment-group'
  if (r.deploymentConfig !== undefined) return 'codedeploy-deployment-config'
  if (r.description !== undefined) return 'codedeploy-description'
  if (r.appspec !== undefined) return 'codedeploy-appspec'
  if (r.hooks.length) return 'codedeploy-hooks'
  return undefined
}

export function codeDeployConsoleUrl(region: string, deploymentId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${region}`
}

/** Every check of a CodeDeploy deployment, before any mutating call. */
export async function prepareCodeDeploy(
  codedeploy: CodeDeploySender | undefined,
  request: CodeDeployRequest | undefined,
  ctx: { cluster: string; service: string; existing: Service; desired: TaskDefinition }
): Promise<CodeDeployPlan> {
  const r = request ?? {
    application: undefined,
    deploymentGroup: undefined,
    deploymentConfig: undefined,
    description: undefined,
    appspec: undefined,
    hooks: []
  }
  if (!r.application) {
    throw new InputError(
      'codedeploy-application',
      `is required: service "${ctx.service}" uses the CODE_DEPLOY deployment controller`,
      'Set "codedeploy-application" and "codedeploy-deployment-group" to the CodeDeploy application and deployment group of this service.'
    )
  }
  if (!r.deploymentGroup) {
    throw new InputError(
      'codedeploy-deployment-group',
      `is required: service "${ctx.service}" uses the CODE_DEPLOY deployment controller`,
      'Set it to the blue/green deployment group of this service.'
    )
  }
  if (!codedeploy) throw new ActionError('no CodeDeploy client was configured', 'This is a bug.')
  let targets: AppSpecTarget[]
  if (r.appspec) {
    targets = appSpecTargets(r.appspec.doc)
    checkAppSpecTargets('codedeploy-appspec', targets, ctx.desired)
  } else {
    const lb = (ctx.existing.loadBalancers ?? []).find(
      (l) => l.containerName && l.containerPort !== undefined
    )
    if (!lb) {
      throw new InputError(
        'codedeploy-appspec',
        `is required: service "${ctx.service}" has no load balancer to take the container name and port from`,
        'Pass an AppSpec file whose LoadBalancerInfo names the container and port.'
      )
    }
    targets = [{ containerName: lb.containerName!, containerPort: lb.containerPort! }]
    checkAppSpecTargets('task-definition', targets, ctx.desired)
  }
  const group = await checkDeploymentGroup(codedeploy, {
    application: r.application,
    group: r.deploymentGroup,
    cluster: ctx.cluster,
    service: ctx.service
  })
  return {
    application: r.application,
    deploymentGroup: r.deploymentGroup,
    group,
    targets,
    request: r
  }
}

export interface CodeDeployRunDeps {
  codedeploy: CodeDeploySender
  ecs: ECSClient
  region: string
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  info: (message: string) => void
  warning: (message: string) => void
  group: <T>(title: string, fn: () => Promise<T>) => Promise<T>
  cancel?: AbortSignal
}

/** CreateDeployment with the AppSpec of `taskDefinitionArn`, then follow it (fills `report`). */
export async function deployWithCodeDeploy(
  deps: CodeDeployRunDeps,
  plan: CodeDeployPlan,
  report: DeployReport,
  ctx: {
    cluster: string
    existing: Service
    taskDefinitionArn: string
    waitUntil: 'deployed' | 'stable' | 'none'
    timeoutMs: number
    forceNewDeployment: boolean
  }
): Promise<DeployReport> {
  const r = plan.request
  const config = r.deploymentConfig ?? plan.group.deploymentConfigName
  const cd: CodeDeployReport = {
    application: plan.application,
    deploymentGroup: plan.deploymentGroup,
    deploymentId: undefined,
    deploymentConfig: config,
    appspec: undefined,
    budget: undefined,
    lifecycle: [],
    traffic: [],
    rollbackDeploymentId: undefined,
    consoleUrl: undefined
  }
  report.codeDeploy = cd
  if (ctx.taskDefinitionArn === ctx.existing.taskDefinition && !ctx.forceNewDeployment) {
    report.status = 'SUCCESSFUL'
    deps.info(`service already runs ${ctx.taskDefinitionArn}: nothing to deploy`)
    return report
  }
  const content = r.appspec
    ? withTaskDefinition(r.appspec.doc, ctx.taskDefinitionArn)
    : generateAppSpec(ctx.taskDefinitionArn, plan.targets[0]!, r.hooks)
  cd.appspec = content
  deps.info(
    `AppSpec (${r.appspec ? `${r.appspec.display}, TaskDefinition replaced` : 'generated'}):\n${content}`
  )
  try {
    const out = await deps.codedeploy.send(
      new (await loadCodeDeploy()).CreateDeploymentCommand({
        applicationName: plan.application,
        deploymentGroupName: plan.deploymentGroup,
        ...(r.deploymentConfig ? { deploymentConfigName: r.deploymentConfig } : {}),
        ...(r.description ? { description: r.description } : {}),
        revision: {
          revisionType: 'AppSpecContent',
          appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') }
        }
      })
    )
    cd.deploymentId = out.deploymentId
  } catch (error) {
    if ((error as { name?: string }).name === 'DeploymentLimitExceededException') {
      throw new ActionError(
        `deployment group "${plan.deploymentGroup}" already has an active deployment: ${(error as Error).message}`,
        'Wait for it to end (it may be in its termination wait: "aws deploy continue-deployment --deployment-wait-type TERMINATION_WAIT" ends that), or stop it, then re-run.'
      )
    }
    throw describeAwsError(error, {
      action: 'codedeploy:CreateDeployment',
      resource: `${plan.application}/${plan.deploymentGroup}`
    })
  }
  const id = cd.deploymentId
  if (!id)
    throw new ActionError(
      'CodeDeploy accepted the deployment but returned no id',
      'Look at the deployment group in the console.'
    )
  report.deploymentId = id
  cd.consoleUrl = codeDeployConsoleUrl(deps.region, id)
  deps.info(
    `CodeDeploy deployment ${id} started (${ctx.taskDefinitionArn}, ${config ?? 'group default configuration'})`
  )
  if (ctx.waitUntil === 'none') {
    report.status = 'NOT_WAITED'
    return report
  }
  cd.budget = waitBudget(plan.group.blueGreenDeploymentConfiguration, config, ctx.timeoutMs, {
    includeTermination: ctx.waitUntil === 'stable'
  })
  deps.info(cd.budget.explanation)
  const waitUntil = ctx.waitUntil
  const track = await deps.group(`Wait for CodeDeploy deployment ${id}`, () =>
    trackCodeDeploy(
      { ...deps },
      {
        deploymentId: id,
        cluster: ctx.cluster,
        taskDefinitionArn: ctx.taskDefinitionArn,
        waitUntil,
        budgetMs: cd.budget!.ms
      }
    )
  )
  cd.lifecycle = track.lifecycle
  cd.traffic = track.traffic
  cd.rollbackDeploymentId = track.rollbackDeploymentId
  report.status = track.status
  report.reason = track.reason
  report.track = {
    status: track.status,
    reason: track.reason,
    events: [],
    stopped: track.stopped,
    timeline: track.timeline,
    throttled: 0,
    polls: 0,
    stages: []
  }
  return report
}
