/**
 * AWS CodeDeploy for ECS blue/green (awsJson1_1, X-Amz-Target CodeDeploy_20141006.*): applications,
 * deployment groups, and deployments from AppSpec content that create a replacement task set on the ECS
 * model, wait for it, (optionally) wait for a reroute, shift production traffic all at once / canary /
 * linear, wait for the original task set's termination, and roll back automatically on failure or stop.
 */
import { parse as parseYaml } from 'yaml'
import { createHash } from 'node:crypto'
import { AwsError, type Handler, type ServiceModule } from '../core/types.js'
import type { EcsServiceModule } from './ecs.js'
import type { LambdaModule } from './lambda.js'
import type { Behaviour, EcsModelDeps, SimDeployment, SimService, TaskDef } from './ecs-model.js'
import {
  arr,
  compact,
  epoch,
  isObj,
  obj,
  paginate,
  str,
  uuid,
  type Json,
  text
} from './ecs-util.js'

export interface CodeDeployDeps extends EcsModelDeps {
  ecs: EcsServiceModule
  /** The hook functions of AppSpec Hooks (seeded outcomes); without it every hook target is missing. */
  lambda?: LambdaModule
  /** How long a hook may stay unanswered before its event fails (simulated ms; CodeDeploy: 60 min). */
  hookTimeoutMs?: number
  /** How long Install waits for the replacement task set to become healthy (simulated ms; CodeDeploy: 60 min). */
  installTimeoutMs?: number
}

interface Application {
  id: string
  name: string
  computePlatform: string
  createTime: number
  tags: Json[]
}

interface DeploymentGroup {
  id: string
  app: Application
  name: string
  serviceRoleArn: string
  deploymentConfigName: string
  deploymentStyle: Json
  blueGreen: Json
  autoRollback: Json
  ecsServices: { serviceName: string; clusterName: string }[]
  loadBalancerInfo: Json
  alarmConfiguration?: Json
  lastAttempted?: Deployment
  lastSuccessful?: Deployment
}

const EVENTS = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic'
] as const
type EventName = (typeof EVENTS)[number]

/** The events whose hooks an ECS AppSpec may name (the others are CodeDeploy's own). */
const HOOK_EVENTS: readonly EventName[] = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic'
]

interface HookRun {
  functionName: string
  executionId?: string
  invokedAt?: number
  /** The status the function reported (or will report at `decidedAt`); undefined while it runs. */
  status?: 'Succeeded' | 'Failed'
  decidedAt?: number
  message?: string
}

interface LifecycleEvent {
  name: EventName
  status: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped'
  startTime?: number
  endTime?: number
  hook?: HookRun
  diagnostics?: { errorCode: string; scriptName: string; message: string; logTail: string }
}

type Phase = 'created' | EventName | 'ready' | 'termination' | 'rollback' | 'done'

interface Deployment {
  id: string
  group: DeploymentGroup
  svc: SimService
  status: string
  createTime: number
  startTime?: number
  completeTime?: number
  description?: string
  creator: string
  revision: Json
  deploymentConfigName: string
  autoRollback: Json
  errorInformation?: { code: string; message: string }
  rollbackInfo?: Json
  events: LifecycleEvent[]
  phase: Phase
  wakeAt?: number
  phaseStartedAt: number
  appspec?: {
    taskDefinition: string
    containerName: string
    containerPort: number
    hooks: Map<EventName, string>
  }
  source?: { behaviour: Behaviour; digests: Map<string, string> }
  taskDefinition?: TaskDef
  replacement?: SimDeployment
  original?: SimDeployment
  trafficStep: number
  readyDeadline?: number
  terminationDeadline?: number
  instanceTerminationWaitTimeStarted: boolean
  rollbackOf?: Deployment
  targetStatus: string
}

const STEP_MS = 1000

function err(code: string, message: string): AwsError {
  return new AwsError(code, message)
}

export function createCodeDeployService(deps: CodeDeployDeps): ServiceModule {
  const ecs = deps.ecs.model
  const apps = new Map<string, Application>()
  const groups = new Map<string, DeploymentGroup>()
  const deployments = new Map<string, Deployment>()
  const installTimeoutMs = deps.installTimeoutMs ?? 60 * 60 * 1000
  const hookTimeoutMs = deps.hookTimeoutMs ?? 60 * 60 * 1000

  const app = (input: Json): Application => {
    const name = str(input, 'applicationName')
    if (name === undefined || name === '') {
      throw err(
        'ApplicationNameRequiredException',
        'The minimum number of required application names was not specified.'
      )
    }
    const a = apps.get(name)
    if (!a) throw err('ApplicationDoesNotExistException', `No application found for name: ${name}`)
    return a
  }

  const group = (a: Application, input: Json): DeploymentGroup => {
    const name = str(input, 'deploymentGroupName')
    if (name === undefined || name === '') {
      throw err(
        'DeploymentGroupNameRequiredException',
        'The deployment group name was not specified.'
      )
    }
    const g = groups.get(`${a.name}/${name}`)
    if (!g)
      throw err(
        'DeploymentGroupDoesNotExistException',
        `No Deployment Group found for name: ${name}`
      )
    return g
  }

  const deployment = (input: Json): Deployment => {
    const id = str(input, 'deploymentId')
    if (id === undefined || id === '')
      throw err('DeploymentIdRequiredException', 'At least one deployment ID must be specified.')
    if (!/^d-[A-Z0-9]{9}$/.test(id)) {
      throw err(
        'InvalidDeploymentIdException',
        `Specified DeploymentId is not in the valid format: ${id}`
      )
    }
    const d = deployments.get(id)
    if (!d) throw err('DeploymentDoesNotExistException', `The deployment ${id} could not be found.`)
    return d
  }

  const newId = (): string => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    let id = 'd-'
    for (let i = 0; i < 9; i++) id += chars[Math.floor(Math.random() * chars.length)]
    return id
  }

  // ---------------------------------------------------------------- AppSpec

  const parseAppSpec = (revision: Json): NonNullable<Deployment['appspec']> => {
    if (revision.revisionType !== 'AppSpecContent') {
      throw err(
        'InvalidRevisionException',
        'For ECS deployments the revision type must be AppSpecContent.'
      )
    }
    const content = isObj(revision.appSpecContent) ? revision.appSpecContent : undefined
    const text = content?.content
    if (typeof text !== 'string' || text.trim() === '') {
      throw err('InvalidRevisionException', 'The AppSpec content is empty.')
    }
    if (typeof content?.sha256 === 'string' && content.sha256 !== '') {
      const actual = createHash('sha256').update(text).digest('hex')
      if (actual !== content.sha256) {
        throw err(
          'InvalidRevisionException',
          'The SHA256 hash of the AppSpec content does not match the sha256 value.'
        )
      }
    }
    let doc: unknown
    try {
      doc = parseYaml(text)
    } catch {
      throw err(
        'InvalidRevisionException',
        'The AppSpec file cannot be parsed: it is neither valid YAML nor valid JSON.'
      )
    }
    if (!isObj(doc))
      throw err('InvalidRevisionException', 'The AppSpec file must be a YAML or JSON object.')
    const resources = doc.Resources ?? doc.resources
    if (!Array.isArray(resources) || resources.length === 0) {
      throw err(
        'InvalidRevisionException',
        'The AppSpec file must contain a Resources section with one TargetService.'
      )
    }
    const first = resources[0] as unknown
    const target = isObj(first) ? (first.TargetService ?? Object.values(first)[0]) : undefined
    if (!isObj(target))
      throw err(
        'InvalidRevisionException',
        'The AppSpec file is missing Resources[0].TargetService.'
      )
    if (target.Type !== 'AWS::ECS::Service') {
      throw err(
        'InvalidRevisionException',
        'The AppSpec TargetService Type must be AWS::ECS::Service.'
      )
    }
    const props = isObj(target.Properties) ? target.Properties : {}
    const taskDefinition = props.TaskDefinition
    if (typeof taskDefinition !== 'string' || taskDefinition === '') {
      throw err(
        'InvalidRevisionException',
        'The AppSpec file is missing TargetService.Properties.TaskDefinition.'
      )
    }
    const lb = isObj(props.LoadBalancerInfo) ? props.LoadBalancerInfo : undefined
    const containerName = lb?.ContainerName
    const containerPort = Number(lb?.ContainerPort)
    if (
      typeof containerName !== 'string' ||
      containerName === '' ||
      !Number.isInteger(containerPort)
    ) {
      throw err(
        'InvalidRevisionException',
        'The AppSpec file is missing TargetService.Properties.LoadBalancerInfo.ContainerName or ContainerPort.'
      )
    }
    const hooks = new Map<EventName, string>()
    const section = doc.Hooks ?? doc.hooks
    if (section !== undefined) {
      if (!Array.isArray(section)) {
        throw err('InvalidRevisionException', 'The AppSpec Hooks section must be a list.')
      }
      for (const entry of section as unknown[]) {
        if (!isObj(entry)) continue
        for (const [name, fn] of Object.entries(entry)) {
          if (!HOOK_EVENTS.includes(name as EventName)) {
            throw err(
              'InvalidRevisionException',
              `The AppSpec file names the lifecycle event ${name}, which is not a hook of an ECS deployment.`
            )
          }
          if (typeof fn !== 'string' || fn === '') {
            throw err(
              'InvalidRevisionException',
              `The hook of ${name} must name a Lambda function.`
            )
          }
          hooks.set(name as EventName, fn)
        }
      }
    }
    return { taskDefinition, containerName, containerPort, hooks }
  }

  /** What CreateTaskSet would refuse: reported as the deployment's ECS_UPDATE_ERROR. */
  const appSpecProblem = (spec: NonNullable<Deployment['appspec']>): string | TaskDef => {
    const td = ecs.findTaskDefinition(spec.taskDefinition)
    if (!td)
      return `The ECS service cannot be updated due to an error: Unable to describe task definition ${spec.taskDefinition}.`
    if (td.status !== 'ACTIVE')
      return `The ECS service cannot be updated due to an error: TaskDefinition ${td.arn} is inactive.`
    const container = ((td.body.containerDefinitions as Json[]) ?? []).find(
      (c) => c.name === spec.containerName
    )
    if (!container) {
      return `The ECS service cannot be updated due to an error: The container ${spec.containerName} does not exist in the task definition.`
    }
    const ports = ((container.portMappings as Json[] | undefined) ?? []).map((p) => p.containerPort)
    if (!ports.includes(spec.containerPort)) {
      return `The ECS service cannot be updated due to an error: The container ${spec.containerName} did not have a container port ${spec.containerPort} defined.`
    }
    return td
  }

  // ---------------------------------------------------------------- progression

  const ev = (d: Deployment, name: EventName): LifecycleEvent =>
    d.events.find((e) => e.name === name)!

  const hasTestRoute = (g: DeploymentGroup): boolean => {
    const pairs = (g.loadBalancerInfo.targetGroupPairInfoList as Json[] | undefined) ?? []
    return pairs.some((p) => isObj(p.testTrafficRoute))
  }

  const trafficPlan = (name: string): { weight: number; waitMs: number }[] => {
    let m = /Canary(\d+)Percent(\d+)Minutes?$/.exec(name)
    if (m)
      return [
        { weight: Number(m[1]), waitMs: Number(m[2]) * 60000 },
        { weight: 100, waitMs: 0 }
      ]
    m = /Linear(\d+)PercentEvery(\d+)Minutes?$/.exec(name)
    if (m) {
      const out: { weight: number; waitMs: number }[] = []
      for (let w = Number(m[1]); w < 100; w += Number(m[1]))
        out.push({ weight: w, waitMs: Number(m[2]) * 60000 })
      out.push({ weight: 100, waitMs: 0 })
      return out
    }
    return [{ weight: 100, waitMs: 0 }]
  }

  const enter = (d: Deployment, phase: Phase, t: number): void => {
    d.phase = phase
    d.phaseStartedAt = t
    d.wakeAt = t + STEP_MS
    if ((EVENTS as readonly string[]).includes(phase)) {
      const e = ev(d, phase as EventName)
      e.status = 'InProgress'
      e.startTime = t
    }
  }

  const finishEvent = (
    d: Deployment,
    name: EventName,
    t: number,
    status: LifecycleEvent['status'] = 'Succeeded'
  ): void => {
    const e = ev(d, name)
    e.status = status
    e.startTime ??= t
    e.endTime = t
  }

  const fail = (d: Deployment, t: number, code: string, message: string): void => {
    const current = d.events.find((e) => e.status === 'InProgress')
    if (current) finishEvent(d, current.name, t, 'Failed')
    for (const e of d.events) if (e.status === 'Pending') e.status = 'Skipped'
    d.status = 'Failed'
    d.targetStatus = 'Failed'
    d.errorInformation = { code, message }
    d.completeTime = t
    d.phase = 'done'
    d.wakeAt = undefined
    const events = (d.autoRollback.events as string[] | undefined) ?? []
    if (d.autoRollback.enabled === true && events.includes('DEPLOYMENT_FAILURE'))
      startRollback(d, t, 'failure')
    else if (d.replacement) ecs.removeTaskSet(d.svc, d.replacement, t)
  }

  const startRollback = (d: Deployment, t: number, why: 'failure' | 'stop'): void => {
    const rb: Deployment = {
      id: newId(),
      group: d.group,
      svc: d.svc,
      status: 'InProgress',
      createTime: t,
      startTime: t,
      creator: 'codeDeployRollback',
      revision: d.group.lastSuccessful?.revision ?? d.revision,
      deploymentConfigName: d.deploymentConfigName,
      autoRollback: d.autoRollback,
      events: EVENTS.map((name) => ({ name, status: 'Pending' })),
      phase: 'rollback',
      wakeAt: t + 2 * STEP_MS,
      phaseStartedAt: t,
      trafficStep: 0,
      instanceTerminationWaitTimeStarted: false,
      rollbackOf: d,
      targetStatus: 'InProgress',
      rollbackInfo: {
        rollbackTriggeringDeploymentId: d.id,
        rollbackMessage: `Deployment ${d.id} was rolled back.`
      },
      original: d.replacement,
      replacement: d.original
    }
    deployments.set(rb.id, rb)
    d.rollbackInfo = {
      rollbackDeploymentId: rb.id,
      rollbackMessage:
        why === 'failure'
          ? `Automatic rollback triggered by deployment failure: deployment ${rb.id} rolls back to the original task set.`
          : `Rollback triggered by a stop request: deployment ${rb.id} rolls back to the original task set.`
    }
    // Production traffic goes back to the original task set right away; the replacement drains.
    if (d.original && d.svc.deployments[0] !== d.original) ecs.promoteTaskSet(d.svc, d.original, t)
    if (d.replacement) ecs.removeTaskSet(d.svc, d.replacement, t)
  }

  const succeed = (d: Deployment, t: number): void => {
    d.status = 'Succeeded'
    d.targetStatus = 'Succeeded'
    d.completeTime = t
    d.phase = 'done'
    d.wakeAt = undefined
    d.group.lastSuccessful = d
    if (d.original && d.original !== d.replacement) ecs.removeTaskSet(d.svc, d.original, t)
  }

  /** Runs the hook of the current event: true when the event may complete now. */
  const hookDone = (d: Deployment, t: number): boolean => {
    if (!HOOK_EVENTS.includes(d.phase as EventName)) return true
    const e = ev(d, d.phase as EventName)
    const h = e.hook
    if (!h) return true
    if (h.invokedAt === undefined) {
      h.invokedAt = t
      h.executionId = uuid()
      const out = deps.lambda?.invoke(
        h.functionName,
        { DeploymentId: d.id, LifecycleEventHookExecutionId: h.executionId },
        t
      ) ?? {
        found: false as const,
        error: `ResourceNotFoundException: Function not found: ${h.functionName}`
      }
      if (!out.found) {
        h.status = 'Failed'
        h.decidedAt = t
        h.message = out.error
      } else if (out.outcome !== 'IN_PROGRESS') {
        h.status = out.outcome === 'SUCCEEDED' ? 'Succeeded' : 'Failed'
        h.decidedAt = t + Math.max(out.durationMs, STEP_MS)
        h.message = out.message
      } else {
        h.message = out.message
      }
      d.wakeAt = h.decidedAt ?? t + hookTimeoutMs
      return false
    }
    if (h.status !== undefined && h.decidedAt !== undefined && t >= h.decidedAt) {
      if (h.status === 'Succeeded') return true
      e.diagnostics = {
        errorCode: 'ScriptFailed',
        scriptName: h.functionName,
        message: h.message ?? `The hook function ${h.functionName} reported Failed.`,
        logTail: h.message ?? ''
      }
      fail(
        d,
        t,
        'HOOK_EXECUTION_FAILURE',
        `The deployment failed because the lifecycle event ${e.name} hook function ${h.functionName} failed: ${h.message ?? 'it reported Failed'}`
      )
      return false
    }
    if (h.status === undefined && t - h.invokedAt >= hookTimeoutMs) {
      e.diagnostics = {
        errorCode: 'ScriptTimedOut',
        scriptName: h.functionName,
        message: `The hook function ${h.functionName} did not report a status within ${Math.round(hookTimeoutMs / 60000)} minutes.`,
        logTail: ''
      }
      fail(
        d,
        t,
        'TIMEOUT',
        `The lifecycle event ${e.name} timed out waiting for its hook function ${h.functionName}.`
      )
      return false
    }
    d.wakeAt = h.decidedAt ?? h.invokedAt + hookTimeoutMs
    return false
  }

  const step = (d: Deployment, t: number): void => {
    if (d.wakeAt === undefined || t < d.wakeAt) return
    if (!hookDone(d, t)) return
    const g = d.group
    const bg = g.blueGreen
    switch (d.phase) {
      case 'created':
        d.status = 'InProgress'
        d.startTime = t
        enter(d, 'BeforeInstall', t)
        return
      case 'BeforeInstall': {
        finishEvent(d, 'BeforeInstall', t)
        enter(d, 'Install', t)
        const problem = d.appspec ? appSpecProblem(d.appspec) : 'The AppSpec file is missing.'
        if (typeof problem === 'string') return fail(d, t, 'ECS_UPDATE_ERROR', problem)
        d.taskDefinition = problem
        d.original = d.svc.deployments[0]
        d.replacement = ecs.createTaskSetWith(d.svc, problem, t, d.source!)
        return
      }
      case 'Install':
        if (d.replacement && ecs.healthy(d.replacement) && ecs.pending(d.replacement) === 0) {
          finishEvent(d, 'Install', t)
          enter(d, 'AfterInstall', t)
        } else if (t - d.phaseStartedAt >= installTimeoutMs) {
          fail(
            d,
            t,
            'ECS_UPDATE_ERROR',
            `The deployment timed out while waiting for the replacement task set to become healthy. This time out period is ${Math.round(installTimeoutMs / 60000)} minutes.`
          )
        } else d.wakeAt = t + STEP_MS
        return
      case 'AfterInstall':
        finishEvent(d, 'AfterInstall', t)
        if (hasTestRoute(g)) enter(d, 'AllowTestTraffic', t)
        else {
          finishEvent(d, 'AllowTestTraffic', t, 'Skipped')
          finishEvent(d, 'AfterAllowTestTraffic', t, 'Skipped')
          afterTestTraffic(d, t)
        }
        return
      case 'AllowTestTraffic':
        finishEvent(d, 'AllowTestTraffic', t)
        enter(d, 'AfterAllowTestTraffic', t)
        return
      case 'AfterAllowTestTraffic':
        finishEvent(d, 'AfterAllowTestTraffic', t)
        afterTestTraffic(d, t)
        return
      case 'ready':
        if (d.readyDeadline !== undefined && t >= d.readyDeadline) {
          d.status = 'InProgress'
          stopDeployment(d, t, false, {
            code: 'TIMEOUT',
            message:
              'The deployment was stopped because the traffic was not rerouted within the ready wait time.'
          })
        } else d.wakeAt = d.readyDeadline
        return
      case 'BeforeAllowTraffic':
        finishEvent(d, 'BeforeAllowTraffic', t)
        enter(d, 'AllowTraffic', t)
        d.trafficStep = -1
        d.wakeAt = t
        return
      case 'AllowTraffic': {
        const plan = trafficPlan(d.deploymentConfigName)
        d.trafficStep++
        const s = plan[Math.min(d.trafficStep, plan.length - 1)]!
        if (d.replacement) {
          d.replacement.trafficWeight = s.weight
          if (d.original) d.original.trafficWeight = 100 - s.weight
        }
        if (s.weight >= 100) {
          if (d.replacement) ecs.promoteTaskSet(d.svc, d.replacement, t)
          finishEvent(d, 'AllowTraffic', t)
          enter(d, 'AfterAllowTraffic', t)
        } else d.wakeAt = t + s.waitMs
        return
      }
      case 'AfterAllowTraffic': {
        finishEvent(d, 'AfterAllowTraffic', t)
        const term = isObj(bg.terminateBlueInstancesOnDeploymentSuccess)
          ? bg.terminateBlueInstancesOnDeploymentSuccess
          : {}
        const wait = Number(term.terminationWaitTimeInMinutes ?? 0) * 60000
        if (term.action === 'KEEP_ALIVE') return succeed(d, t)
        if (wait > 0) {
          d.phase = 'termination'
          d.instanceTerminationWaitTimeStarted = true
          d.terminationDeadline = t + wait
          d.wakeAt = d.terminationDeadline
          d.targetStatus = 'Succeeded'
          return
        }
        return succeed(d, t)
      }
      case 'termination':
        return succeed(d, t)
      case 'rollback':
        d.status = 'Succeeded'
        d.targetStatus = 'Succeeded'
        for (const e of d.events) {
          e.status = 'Succeeded'
          e.startTime = d.phaseStartedAt
          e.endTime = t
        }
        d.completeTime = t
        d.phase = 'done'
        d.wakeAt = undefined
        return
      default:
        d.wakeAt = undefined
    }
  }

  const afterTestTraffic = (d: Deployment, t: number): void => {
    const ready = isObj(d.group.blueGreen.deploymentReadyOption)
      ? d.group.blueGreen.deploymentReadyOption
      : {}
    const wait = Number(ready.waitTimeInMinutes ?? 0)
    if (ready.actionOnTimeout === 'STOP_DEPLOYMENT' && wait > 0) {
      d.phase = 'ready'
      d.status = 'Ready'
      d.targetStatus = 'Ready'
      d.readyDeadline = t + wait * 60000
      d.wakeAt = d.readyDeadline
      return
    }
    enter(d, 'BeforeAllowTraffic', t)
  }

  const stopDeployment = (
    d: Deployment,
    t: number,
    rollback: boolean,
    info: { code: string; message: string }
  ): void => {
    const current = d.events.find((e) => e.status === 'InProgress')
    if (current) finishEvent(d, current.name, t, 'Failed')
    for (const e of d.events) if (e.status === 'Pending') e.status = 'Skipped'
    d.status = 'Stopped'
    d.targetStatus = 'Failed'
    d.errorInformation = info
    d.completeTime = t
    d.phase = 'done'
    d.wakeAt = undefined
    if (rollback) startRollback(d, t, 'stop')
    else if (d.replacement && d.svc.deployments[0] !== d.replacement)
      ecs.removeTaskSet(d.svc, d.replacement, t)
  }

  ecs.controllers.push({
    nextWake: () => {
      let w: number | undefined
      for (const d of deployments.values())
        if (d.wakeAt !== undefined && (w === undefined || d.wakeAt < w)) w = d.wakeAt
      return w
    },
    step: (t) => {
      for (const d of deployments.values()) {
        for (let i = 0; i < 10 && d.wakeAt !== undefined && d.wakeAt <= t; i++) step(d, t)
      }
    }
  })

  // ---------------------------------------------------------------- output shapes

  const groupOut = (g: DeploymentGroup): Json =>
    compact({
      applicationName: g.app.name,
      deploymentGroupId: g.id,
      deploymentGroupName: g.name,
      deploymentConfigName: g.deploymentConfigName,
      serviceRoleArn: g.serviceRoleArn,
      autoRollbackConfiguration: g.autoRollback,
      deploymentStyle: g.deploymentStyle,
      blueGreenDeploymentConfiguration: g.blueGreen,
      loadBalancerInfo: g.loadBalancerInfo,
      ecsServices: g.ecsServices,
      computePlatform: g.app.computePlatform,
      alarmConfiguration: g.alarmConfiguration ?? {
        enabled: false,
        ignorePollAlarmFailure: false,
        alarms: []
      },
      triggerConfigurations: [],
      ec2TagFilters: [],
      onPremisesInstanceTagFilters: [],
      autoScalingGroups: [],
      outdatedInstancesStrategy: 'UPDATE',
      lastAttemptedDeployment: g.lastAttempted
        ? {
            deploymentId: g.lastAttempted.id,
            status: g.lastAttempted.status,
            endTime: epoch(g.lastAttempted.completeTime),
            createTime: epoch(g.lastAttempted.createTime)
          }
        : undefined,
      lastSuccessfulDeployment: g.lastSuccessful
        ? {
            deploymentId: g.lastSuccessful.id,
            status: g.lastSuccessful.status,
            endTime: epoch(g.lastSuccessful.completeTime),
            createTime: epoch(g.lastSuccessful.createTime)
          }
        : undefined,
      targetRevision: g.lastSuccessful?.revision
    })

  const overview = (d: Deployment): Json => {
    const o: Record<string, number> = {
      Pending: 0,
      InProgress: 0,
      Succeeded: 0,
      Failed: 0,
      Skipped: 0,
      Ready: 0
    }
    const key = d.status === 'Created' ? 'Pending' : d.targetStatus
    if (key in o) o[key]!++
    return o
  }

  const deploymentOut = (d: Deployment): Json =>
    compact({
      applicationName: d.group.app.name,
      deploymentGroupName: d.group.name,
      deploymentConfigName: d.deploymentConfigName,
      deploymentId: d.id,
      revision: d.revision,
      status: d.status,
      errorInformation: d.errorInformation,
      createTime: epoch(d.createTime),
      startTime: epoch(d.startTime),
      completeTime: epoch(d.completeTime),
      deploymentOverview: overview(d),
      description: d.description,
      creator: d.creator,
      ignoreApplicationStopFailures: false,
      autoRollbackConfiguration: d.autoRollback,
      updateOutdatedInstancesOnly: false,
      rollbackInfo: d.rollbackInfo,
      deploymentStyle: d.group.deploymentStyle,
      instanceTerminationWaitTimeStarted: d.instanceTerminationWaitTimeStarted,
      blueGreenDeploymentConfiguration: d.group.blueGreen,
      loadBalancerInfo: d.group.loadBalancerInfo,
      fileExistsBehavior: 'DISALLOW',
      deploymentStatusMessages: [],
      computePlatform: 'ECS'
    })

  const taskSetInfo = (
    ts: SimDeployment | undefined,
    label: 'BLUE' | 'GREEN',
    g: DeploymentGroup
  ): Json | undefined => {
    if (!ts) return undefined
    const pairs = (g.loadBalancerInfo.targetGroupPairInfoList as Json[] | undefined) ?? []
    const tgs = (pairs[0]?.targetGroups as Json[] | undefined) ?? []
    return compact({
      identifer: ts.taskSetArn ?? ts.id,
      desiredCount: ts.draining || ts.halted ? 0 : ts.desiredCount,
      pendingCount: ecs.pending(ts),
      runningCount: ecs.running(ts),
      status: ts.draining ? 'DRAINING' : ts.status,
      trafficWeight: ts.trafficWeight,
      targetGroup: tgs[label === 'BLUE' ? 0 : 1] ?? tgs[0],
      taskSetLabel: label === 'BLUE' ? 'Blue' : 'Green'
    })
  }

  const targetOut = (d: Deployment, targetId: string): Json => {
    const last = Math.max(d.createTime, ...d.events.map((e) => e.endTime ?? e.startTime ?? 0))
    return {
      deploymentTargetType: 'ECSTarget',
      ecsTarget: compact({
        deploymentId: d.id,
        targetId,
        targetArn: d.svc.arn,
        lastUpdatedAt: epoch(last),
        lifecycleEvents: d.events.map((e) =>
          compact({
            lifecycleEventName: e.name,
            status: e.status,
            startTime: epoch(e.startTime),
            endTime: epoch(e.endTime),
            diagnostics: e.diagnostics
          })
        ),
        status: d.targetStatus,
        taskSetsInfo: [
          taskSetInfo(d.original, 'BLUE', d.group),
          taskSetInfo(d.replacement, 'GREEN', d.group)
        ].filter((x) => x !== undefined)
      })
    }
  }

  // ---------------------------------------------------------------- handlers

  const handlers: Record<string, Handler> = {
    CreateApplication: (input, ctx) => {
      const name = str(input, 'applicationName')
      if (name === undefined || name === '') {
        throw err(
          'ApplicationNameRequiredException',
          'The minimum number of required application names was not specified.'
        )
      }
      if (name.length > 100)
        throw err('InvalidApplicationNameException', 'The application name is too long.')
      if (apps.has(name))
        throw err('ApplicationAlreadyExistsException', `${name} already exists in your account`)
      const platform = str(input, 'computePlatform') ?? 'Server'
      if (!['Server', 'Lambda', 'ECS'].includes(platform)) {
        throw err(
          'InvalidComputePlatformException',
          'The computePlatform is invalid. The computePlatform should be Lambda, Server, or ECS.'
        )
      }
      const a: Application = {
        id: uuid(),
        name,
        computePlatform: platform,
        createTime: ctx.clock.now(),
        tags: arr<Json>(input, 'tags') ?? []
      }
      apps.set(name, a)
      return { applicationId: a.id }
    },

    GetApplication: (input) => {
      const a = app(input)
      return {
        application: {
          applicationId: a.id,
          applicationName: a.name,
          createTime: epoch(a.createTime),
          linkedToGitHub: false,
          computePlatform: a.computePlatform
        }
      }
    },

    CreateDeploymentGroup: (input) => {
      const a = app(input)
      const name = str(input, 'deploymentGroupName')
      if (name === undefined || name === '') {
        throw err(
          'DeploymentGroupNameRequiredException',
          'The deployment group name was not specified.'
        )
      }
      if (groups.has(`${a.name}/${name}`)) {
        throw err(
          'DeploymentGroupAlreadyExistsException',
          `The deployment group ${name} already exists with the application ${a.name}.`
        )
      }
      const role = str(input, 'serviceRoleArn')
      if (role === undefined || role === '')
        throw err('RoleRequiredException', 'The role ID was not specified.')
      if (a.computePlatform !== 'ECS') {
        throw err('InvalidComputePlatformException', 'Only ECS deployment groups are simulated.')
      }
      const style = obj(input, 'deploymentStyle') ?? {}
      if (
        style.deploymentType !== 'BLUE_GREEN' ||
        style.deploymentOption !== 'WITH_TRAFFIC_CONTROL'
      ) {
        throw err(
          'InvalidDeploymentStyleException',
          'For ECS deployment groups, deploymentStyle must be BLUE_GREEN with WITH_TRAFFIC_CONTROL.'
        )
      }
      const services = arr<Json>(input, 'ecsServices') ?? []
      if (services.length !== 1) {
        throw err(
          services.length === 0
            ? 'InvalidECSServiceException'
            : 'ECSServiceMappingLimitExceededException',
          'An ECS deployment group needs exactly one ECS service.'
        )
      }
      const mapping = {
        serviceName: text(services[0]!.serviceName, ''),
        clusterName: text(services[0]!.clusterName, '')
      }
      ecs.sync()
      const cluster = ecs.clusters.get(mapping.clusterName)
      const svc = cluster ? ecs.service(cluster, mapping.serviceName) : undefined
      if (!svc || svc.status !== 'ACTIVE') {
        throw err(
          'InvalidECSServiceException',
          `The ECS service ${mapping.serviceName} in cluster ${mapping.clusterName} does not exist.`
        )
      }
      if (svc.controller !== 'CODE_DEPLOY') {
        throw err(
          'InvalidECSServiceException',
          `Deployment group's ECS service must be configured for a CODE_DEPLOY deployment controller.`
        )
      }
      const lb = obj(input, 'loadBalancerInfo')
      const pairs = lb?.targetGroupPairInfoList
      if (!Array.isArray(pairs) || pairs.length !== 1) {
        throw err(
          'InvalidTargetGroupPairException',
          'An ECS deployment group needs exactly one target group pair.'
        )
      }
      const pair = pairs[0] as Json
      if (
        !Array.isArray(pair.targetGroups) ||
        pair.targetGroups.length !== 2 ||
        !isObj(pair.prodTrafficRoute)
      ) {
        throw err(
          'InvalidTargetGroupPairException',
          'A target group pair needs two target groups and a production traffic route.'
        )
      }
      const bg = obj(input, 'blueGreenDeploymentConfiguration') ?? {}
      const ready = isObj(bg.deploymentReadyOption)
        ? bg.deploymentReadyOption
        : { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 }
      if (
        !['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT'].includes(
          text(ready.actionOnTimeout, 'CONTINUE_DEPLOYMENT')
        )
      ) {
        throw err(
          'InvalidBlueGreenDeploymentConfigurationException',
          'deploymentReadyOption.actionOnTimeout must be CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT.'
        )
      }
      const term = isObj(bg.terminateBlueInstancesOnDeploymentSuccess)
        ? bg.terminateBlueInstancesOnDeploymentSuccess
        : { action: 'TERMINATE', terminationWaitTimeInMinutes: 0 }
      const termWait = Number(term.terminationWaitTimeInMinutes ?? 0)
      if (!(termWait >= 0 && termWait <= 2880)) {
        throw err(
          'InvalidBlueGreenDeploymentConfigurationException',
          'terminationWaitTimeInMinutes must be between 0 and 2880.'
        )
      }
      const config = str(input, 'deploymentConfigName') ?? 'CodeDeployDefault.ECSAllAtOnce'
      if (
        !/^CodeDeployDefault\.ECS(AllAtOnce|Canary\d+Percent\d+Minutes?|Linear\d+PercentEvery\d+Minutes?)$/.test(
          config
        )
      ) {
        throw err(
          'DeploymentConfigDoesNotExistException',
          `No deployment configuration found for name: ${config}`
        )
      }
      const g: DeploymentGroup = {
        id: uuid(),
        app: a,
        name,
        serviceRoleArn: role,
        deploymentConfigName: config,
        deploymentStyle: style,
        blueGreen: {
          ...bg,
          deploymentReadyOption: ready,
          terminateBlueInstancesOnDeploymentSuccess: term
        },
        autoRollback: obj(input, 'autoRollbackConfiguration') ?? { enabled: false, events: [] },
        ecsServices: [mapping],
        loadBalancerInfo: lb!,
        alarmConfiguration: obj(input, 'alarmConfiguration')
      }
      groups.set(`${a.name}/${name}`, g)
      return { deploymentGroupId: g.id }
    },

    GetDeploymentGroup: (input) => {
      ecs.sync()
      return { deploymentGroupInfo: groupOut(group(app(input), input)) }
    },

    CreateDeployment: async (input, ctx) => {
      const a = app(input)
      const g = group(a, input)
      const revision = obj(input, 'revision')
      if (!revision) throw err('RevisionRequiredException', 'The revision ID was not specified.')
      const spec = parseAppSpec(revision)
      const now0 = ctx.clock.now()
      ecs.sync(now0)
      const active = [...deployments.values()].find(
        (d) => d.group === g && !['Succeeded', 'Failed', 'Stopped'].includes(d.status)
      )
      if (active) {
        throw err(
          'DeploymentLimitExceededException',
          `The deployment group ${g.name} already has an active deployment ${active.id}.`
        )
      }
      const cluster = ecs.clusters.get(g.ecsServices[0]!.clusterName)
      const svc = cluster ? ecs.service(cluster, g.ecsServices[0]!.serviceName) : undefined
      if (!svc || svc.status !== 'ACTIVE') {
        throw err(
          'InvalidECSServiceException',
          `The ECS service ${g.ecsServices[0]!.serviceName} does not exist.`
        )
      }
      const configName = str(input, 'deploymentConfigName') ?? g.deploymentConfigName
      const td = ecs.findTaskDefinition(spec.taskDefinition)
      const source = td ? await ecs.behaviourFor(td) : undefined
      const now = ctx.clock.now()
      ecs.sync(now)
      const d: Deployment = {
        id: newId(),
        group: g,
        svc,
        status: 'Created',
        createTime: now,
        description: str(input, 'description'),
        creator: 'user',
        revision,
        deploymentConfigName: configName,
        autoRollback: obj(input, 'autoRollbackConfiguration') ?? g.autoRollback,
        events: EVENTS.map((name) => ({ name, status: 'Pending' })),
        phase: 'created',
        wakeAt: now + STEP_MS,
        phaseStartedAt: now,
        appspec: spec,
        source,
        trafficStep: 0,
        instanceTerminationWaitTimeStarted: false,
        targetStatus: 'Pending'
      }
      for (const [name, fn] of spec.hooks) ev(d, name).hook = { functionName: fn }
      deployments.set(d.id, d)
      g.lastAttempted = d
      return { deploymentId: d.id }
    },

    GetDeployment: (input) => {
      const d = deployment(input)
      ecs.sync()
      return { deploymentInfo: deploymentOut(d) }
    },

    ListDeployments: (input) => {
      ecs.sync()
      let list = [...deployments.values()].reverse()
      if (input.applicationName !== undefined) {
        const a = app(input)
        list = list.filter((d) => d.group.app === a)
        if (input.deploymentGroupName !== undefined) {
          const g = group(a, input)
          list = list.filter((d) => d.group === g)
        }
      }
      const statuses = arr<string>(input, 'includeOnlyStatuses')
      if (statuses) list = list.filter((d) => statuses.includes(d.status))
      const { page, nextToken } = paginate(list, str(input, 'nextToken'), undefined, {
        max: 100,
        salt: `deployments:${String(input.applicationName)}:${String(input.deploymentGroupName)}`,
        errorCode: 'InvalidNextTokenException'
      })
      return compact({ deployments: page.map((d) => d.id), nextToken })
    },

    ListDeploymentTargets: (input) => {
      const d = deployment(input)
      ecs.sync()
      const { page, nextToken } = paginate(
        [`${d.svc.cluster.name}:${d.svc.name}`],
        str(input, 'nextToken'),
        undefined,
        {
          max: 100,
          salt: `targets:${d.id}`,
          errorCode: 'InvalidNextTokenException'
        }
      )
      return compact({ targetIds: page, nextToken })
    },

    GetDeploymentTarget: (input) => {
      const d = deployment(input)
      const targetId = str(input, 'targetId')
      if (targetId === undefined || targetId === '')
        throw err('DeploymentTargetIdRequiredException', 'A deployment target ID was not provided.')
      if (targetId !== `${d.svc.cluster.name}:${d.svc.name}`) {
        throw err(
          'DeploymentTargetDoesNotExistException',
          `The provided target ID ${targetId} does not belong to the deployment ${d.id}.`
        )
      }
      ecs.sync()
      return { deploymentTarget: targetOut(d, targetId) }
    },

    BatchGetDeploymentTargets: (input) => {
      const d = deployment(input)
      const ids = arr<string>(input, 'targetIds') ?? []
      if (ids.length > 25)
        throw err(
          'DeploymentTargetListSizeExceededException',
          'The maximum number of targets is 25.'
        )
      ecs.sync()
      return {
        deploymentTargets: ids.map((id) => {
          if (id !== `${d.svc.cluster.name}:${d.svc.name}`) {
            throw err(
              'DeploymentTargetDoesNotExistException',
              `The provided target ID ${id} does not belong to the deployment ${d.id}.`
            )
          }
          return targetOut(d, id)
        })
      }
    },

    PutLifecycleEventHookExecutionStatus: (input, ctx) => {
      const d = deployment(input)
      const execId = str(input, 'lifecycleEventHookExecutionId')
      const e = d.events.find(
        (x) => x.hook?.executionId !== undefined && x.hook.executionId === execId
      )
      if (!e || !e.hook) {
        throw err(
          'InvalidLifecycleEventHookExecutionIdException',
          `The lifecycle event hook execution ID ${String(execId)} is invalid for deployment ${d.id}.`
        )
      }
      const status = str(input, 'status')
      if (status !== 'Succeeded' && status !== 'Failed') {
        throw err(
          'InvalidLifecycleEventHookExecutionStatusException',
          `The status ${String(status)} is invalid: a hook reports Succeeded or Failed.`
        )
      }
      const now = ctx.clock.now()
      ecs.sync(now)
      if (e.status !== 'InProgress' || e.hook.status !== undefined) {
        throw err(
          'LifecycleEventAlreadyCompletedException',
          `The lifecycle event ${e.name} of deployment ${d.id} has already completed.`
        )
      }
      e.hook.status = status
      e.hook.decidedAt = now
      d.wakeAt = now
      ecs.sync(now)
      return { lifecycleEventHookExecutionId: execId }
    },

    ContinueDeployment: (input, ctx) => {
      const d = deployment(input)
      const now = ctx.clock.now()
      ecs.sync(now)
      const type = str(input, 'deploymentWaitType') ?? 'READY_WAIT'
      if (type === 'READY_WAIT') {
        if (d.phase !== 'ready')
          throw err(
            'DeploymentIsNotInReadyStateException',
            `The deployment ${d.id} is not in a ready state.`
          )
        d.status = 'InProgress'
        d.targetStatus = 'InProgress'
        enter(d, 'BeforeAllowTraffic', now)
      } else if (type === 'TERMINATION_WAIT') {
        if (d.phase !== 'termination') {
          throw err(
            'DeploymentIsNotInReadyStateException',
            `The deployment ${d.id} is not waiting for the termination of the original task set.`
          )
        }
        d.wakeAt = now
      } else {
        throw err('InvalidDeploymentWaitTypeException', `The wait type ${type} is invalid.`)
      }
      ecs.sync(now)
      return {}
    },

    StopDeployment: (input, ctx) => {
      const d = deployment(input)
      const now = ctx.clock.now()
      ecs.sync(now)
      if (['Succeeded', 'Failed', 'Stopped'].includes(d.status)) {
        throw err(
          'DeploymentAlreadyCompletedException',
          `The deployment ${d.id} has already completed.`
        )
      }
      const explicit = input.autoRollbackEnabled
      const events = (d.autoRollback.events as string[] | undefined) ?? []
      const rollback =
        typeof explicit === 'boolean'
          ? explicit
          : d.autoRollback.enabled === true && events.includes('DEPLOYMENT_STOP_ON_REQUEST')
      stopDeployment(d, now, rollback, {
        code: 'MANUAL_STOP',
        message: 'The deployment was stopped by a user request.'
      })
      return {
        status: 'Pending',
        statusMessage: 'Stopping Pending. Stopping to deploy to the ECS service.'
      }
    }
  }

  return {
    signingName: 'codedeploy',
    protocol: 'json1.1',
    targetPrefix: 'CodeDeploy_20141006',
    handlers
  }
}
