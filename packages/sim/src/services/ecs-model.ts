/**
 * The ECS state machine: clusters, task definitions, services, deployments (rolling and ECS-native
 * blue/green, canary, linear), service deployments, and tasks, all progressing lazily on the simulated
 * clock. Nothing runs on timers: every read calls `sync(now)`, which replays the events (task state
 * transitions, controller decisions, lifecycle-stage ends) that fell due since the last read.
 *
 * CodeDeploy drives CODE_DEPLOY services through the task-set methods at the bottom.
 */
import type { LambdaModule } from './lambda.js'
import { AwsError, type Clock, type RegistryView } from '../core/types.js'
import { digits, hex, uuid, type Json, text } from './ecs-util.js'

export type BehaviourKind = 'healthy' | 'crash' | 'unhealthy' | 'slow-start' | 'exit' | 'pull-error'

export interface Behaviour {
  kind: BehaviourKind
  exitCode?: number
  container?: string
  image?: string
}

export interface Scenario {
  image?: string
  label?: string
  taskDefinition?: string
  behaviour: Exclude<BehaviourKind, 'pull-error'>
  exitCode?: number
}

/** Simulated durations in ms of simulated time. */
export interface EcsTimings {
  provision: number
  pull: number
  crashAfter: number
  unhealthyAfter: number
  slowStart: number
  stabilize: number
  exitAfter: number
  stop: number
  stage: number
}

export const DEFAULT_TIMINGS: EcsTimings = {
  provision: 1000,
  pull: 1000,
  crashAfter: 2000,
  unhealthyAfter: 3000,
  slowStart: 30000,
  stabilize: 1000,
  exitAfter: 3000,
  stop: 1000,
  stage: 1000
}

export interface Tag {
  key: string
  value: string
}

export interface TaskDef {
  arn: string
  family: string
  revision: number
  status: 'ACTIVE' | 'INACTIVE'
  body: Json
  tags: Tag[]
  registeredAt: number
  deregisteredAt?: number
  registeredBy?: string
}

export interface Cluster {
  name: string
  arn: string
  status: 'ACTIVE' | 'INACTIVE'
  tags: Tag[]
  settings: Json[]
}

interface TimelineStep {
  at: number
  lastStatus: string
  health?: 'HEALTHY' | 'UNHEALTHY'
  /** From here on the task counts as healthy for deployments (running and stable). */
  stable?: true
  stop?: {
    code: string
    reason: string
    exitCode?: number
    containerReason?: string
    failure: boolean
  }
}

export interface SimContainer {
  name: string
  image: string
  essential: boolean
  containerArn: string
  imageDigest?: string
  lastStatus: string
  exitCode?: number
  reason?: string
  healthStatus?: string
  hasHealthCheck: boolean
}

export interface SimTask {
  arn: string
  id: string
  cluster: Cluster
  taskDefinition: TaskDef
  group: string
  startedBy?: string
  launchType: string
  createdAt: number
  lastStatus: string
  desiredStatus: 'RUNNING' | 'STOPPED'
  healthStatus: string
  containers: SimContainer[]
  pullStartedAt?: number
  pullStoppedAt?: number
  startedAt?: number
  stoppingAt?: number
  stoppedAt?: number
  stopCode?: string
  stoppedReason?: string
  timeline: TimelineStep[]
  next: number
  deployment?: SimDeployment
  tags: Tag[]
  version: number
  failed: boolean
  stable: boolean
}

export interface SimDeployment {
  id: string
  service: SimService
  taskDefinition: TaskDef
  desiredCount: number
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE'
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'
  rolloutStateReason: string
  failedTasks: number
  createdAt: number
  updatedAt: number
  behaviourSource: { behaviour: Behaviour; digests: Map<string, string> }
  tasks: SimTask[]
  revisionArn: string
  serviceDeployment?: SimServiceDeployment
  /** Set on a rollback deployment: the service deployment it rolls back. */
  rollbackOf?: SimServiceDeployment
  /** Scale to zero and disappear once empty. */
  draining: boolean
  /** No more launches (failed or stopped). */
  halted: boolean
  /** CODE_DEPLOY task set id/arn. */
  taskSetArn?: string
  launchType: string
  networkConfiguration?: Json
  volumeConfigurations?: Json[]
  platformVersion?: string
  trafficWeight: number
}

/** One lifecycle hook of a service deployment at one stage (DeploymentLifecycleHookDetail). */
export interface SimHook {
  hookId: string
  stage: string
  targetType: string
  targetArn?: string
  /** PENDING until its stage starts (not shown), then IN_PROGRESS / AWAITING_ACTION → SUCCEEDED / FAILED / TIMED_OUT. */
  status: string
  hookDetails?: unknown
  timeoutMs: number
  timeoutAction: 'CONTINUE' | 'ROLLBACK'
  expiresAt?: number
  /** Next Lambda invocation (first at stage start, then after each IN_PROGRESS answer's callback delay). */
  invokeAt?: number
  /** The answer of the running invocation, known at `answerAt`. */
  answer?: { at: number; outcome: string; message?: string }
  reason?: string
}

/** Default delay before ECS invokes a hook again after an IN_PROGRESS answer (callBackDelay). */
export const HOOK_CALLBACK_DELAY_MS = 30_000

export interface SimServiceDeployment {
  arn: string
  service: SimService
  createdAt: number
  startedAt: number
  updatedAt: number
  finishedAt?: number
  stoppedAt?: number
  sources: { revisionArn: string; deployment?: SimDeployment }[]
  target: SimDeployment
  status: string
  statusReason?: string
  strategy: string
  lifecycleStage?: string
  stageEndsAt?: number
  configuration: Json
  rollback?: { reason: string; startedAt: number; serviceRevisionArn: string }
  breaker: { enabled: boolean; rollback: boolean; threshold: number; status: string }
  hooks: SimHook[]
  stopRequested?: 'ROLLBACK' | 'ABORT'
}

export interface ServiceEvent {
  id: string
  createdAt: number
  message: string
}

export interface SimService {
  name: string
  arn: string
  cluster: Cluster
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'
  desiredCount: number
  controller: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL'
  deploymentConfiguration: Json
  launchType: string
  networkConfiguration?: Json
  /** ServiceVolumeConfiguration[] for volumes `configuredAtLaunch` (managed EBS). */
  volumeConfigurations?: Json[]
  loadBalancers: Json[]
  platformVersion?: string
  createdAt: number
  createdBy?: string
  events: ServiceEvent[]
  deployments: SimDeployment[]
  serviceDeployments: SimServiceDeployment[]
  /** The last deployment that completed: what a rollback returns to. */
  lastCompleted?: {
    taskDefinition: TaskDef
    revisionArn: string
    deploymentId: string
    source: { behaviour: Behaviour; digests: Map<string, string> }
  }
  tags: Tag[]
  extra: Json
}

export interface EcsModelDeps {
  clock: Clock
  registry: RegistryView
  accountId: string
  region: string
  timings?: Partial<EcsTimings>
  /** Lambda functions that lifecycle hooks invoke (seeded by tests); absent: hooks cannot resolve a function. */
  lambda?: LambdaModule
}

const STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP'
] as const

const STOPPED_TASK_RETENTION_MS = 60 * 60 * 1000
/** Events one sync may replay: far more than any replay in the test suites needs, and a spin ends quickly. */
const MAX_SYNC_EVENTS = 200_000

export class EcsModel {
  readonly clusters = new Map<string, Cluster>()
  readonly families = new Map<string, TaskDef[]>()
  readonly services = new Map<string, SimService>()
  readonly tasks = new Map<string, SimTask>()
  readonly scenarios: Scenario[] = []
  /**
   * Images that exist outside the local registry (public images a real task would pull from the internet),
   * declared through the admin API: image reference → digest and config labels.
   */
  readonly externalImages = new Map<string, { digest: string; labels: Record<string, string> }>()
  /** Other state machines that progress with ECS's (CodeDeploy): woken inside `sync` in time order. */
  readonly controllers: { nextWake(): number | undefined; step(t: number): void }[] = []
  readonly timings: EcsTimings
  private readonly lambda: LambdaModule | undefined
  readonly clock: Clock
  readonly registry: RegistryView
  readonly accountId: string
  readonly region: string

  constructor(deps: EcsModelDeps) {
    this.clock = deps.clock
    this.registry = deps.registry
    this.accountId = deps.accountId
    this.region = deps.region
    this.timings = { ...DEFAULT_TIMINGS, ...deps.timings }
    this.lambda = deps.lambda
  }

  arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`
  }

  // ---------------------------------------------------------------- lookups

  cluster(ref: string | undefined): Cluster {
    const name = clusterName(ref ?? 'default')
    const c = this.clusters.get(name)
    if (!c || c.status !== 'ACTIVE')
      throw new AwsError('ClusterNotFoundException', 'Cluster not found.')
    return c
  }

  createCluster(name: string, tags: Tag[] = [], settings: Json[] = []): Cluster {
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
      throw new AwsError(
        'InvalidParameterException',
        'Cluster name can only contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.'
      )
    }
    const existing = this.clusters.get(name)
    if (existing && existing.status === 'ACTIVE') return existing
    const c: Cluster = { name, arn: this.arn(`cluster/${name}`), status: 'ACTIVE', tags, settings }
    this.clusters.set(name, c)
    return c
  }

  /** family, family:revision, or a task-definition ARN. With `family` alone: the latest ACTIVE revision. */
  findTaskDefinition(ref: string): TaskDef | undefined {
    const m =
      /^(?:arn:aws[a-z-]*:ecs:[^:]*:\d*:task-definition\/)?([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(ref)
    if (!m) return undefined
    const revs = this.families.get(m[1]!)
    if (!revs) return undefined
    if (m[2] !== undefined) return revs.find((t) => t.revision === Number(m[2]))
    return [...revs].reverse().find((t) => t.status === 'ACTIVE')
  }

  service(cluster: Cluster, ref: string): SimService | undefined {
    const name = ref.startsWith('arn:') ? (ref.split('/').pop() ?? '') : ref
    return this.services.get(`${cluster.name}/${name}`)
  }

  // ---------------------------------------------------------------- events

  event(svc: SimService, at: number, message: string): void {
    svc.events.unshift({ id: uuid(), createdAt: at, message: `(service ${svc.name}) ${message}` })
    if (svc.events.length > 100) svc.events.length = 100
  }

  // ---------------------------------------------------------------- behaviour

  /** How tasks of `td` will behave: first a failed image pull, then scenarios, then image labels. */
  async behaviourFor(td: TaskDef): Promise<{ behaviour: Behaviour; digests: Map<string, string> }> {
    const digests = new Map<string, string>()
    let behaviour: Behaviour = { kind: 'healthy' }
    const containers = (td.body.containerDefinitions as Json[]) ?? []
    const tdScenario = this.scenarios.find(
      (s) =>
        s.taskDefinition !== undefined &&
        (s.taskDefinition === td.arn ||
          s.taskDefinition === td.family ||
          s.taskDefinition === `${td.family}:${td.revision}`)
    )
    for (const c of containers) {
      const image = String(c.image)
      const name = String(c.name)
      const essential = c.essential !== false
      const external = this.externalImages.get(image)
      const digest = external?.digest ?? (await this.registry.resolve(image))
      if (digest === undefined) {
        if (behaviour.kind !== 'pull-error')
          behaviour = { kind: 'pull-error', container: name, image }
        continue
      }
      digests.set(name, digest)
      if (!essential || behaviour.kind !== 'healthy') continue
      const byImage = this.scenarios.find(
        (s) =>
          s.image !== undefined &&
          (s.image === image || s.image === digest || image.endsWith(`@${s.image}`))
      )
      let scenario: Scenario | undefined = tdScenario ?? byImage
      if (!scenario) {
        const labels = external?.labels ?? (await this.registry.labels(image)) ?? {}
        const byLabel = this.scenarios.find(
          (s) => s.label !== undefined && labelMatches(labels, s.label)
        )
        scenario = byLabel
        const kind = labels['shipline.sim.behaviour']
        if (!scenario && kind !== undefined && isBehaviour(kind)) {
          const code = labels['shipline.sim.exit-code']
          scenario = { behaviour: kind, exitCode: code === undefined ? undefined : Number(code) }
        }
      }
      if (scenario && scenario.behaviour !== 'healthy') {
        behaviour = {
          kind: scenario.behaviour,
          exitCode: scenario.exitCode,
          container: name,
          image
        }
      }
    }
    return { behaviour, digests }
  }

  // ---------------------------------------------------------------- tasks

  launchTask(opts: {
    cluster: Cluster
    taskDefinition: TaskDef
    behaviour: Behaviour
    digests: Map<string, string>
    at: number
    group: string
    startedBy?: string
    launchType: string
    deployment?: SimDeployment
    tags?: Tag[]
  }): SimTask {
    const id = hex(16)
    const arn = this.arn(`task/${opts.cluster.name}/${id}`)
    const defs = (opts.taskDefinition.body.containerDefinitions as Json[]) ?? []
    const containers: SimContainer[] = defs.map((c) => ({
      name: String(c.name),
      image: String(c.image),
      essential: c.essential !== false,
      containerArn: this.arn(`container/${opts.cluster.name}/${id}/${uuid()}`),
      imageDigest: opts.digests.get(String(c.name)),
      lastStatus: 'PENDING',
      hasHealthCheck: c.healthCheck !== undefined && c.healthCheck !== null
    }))
    const task: SimTask = {
      arn,
      id,
      cluster: opts.cluster,
      taskDefinition: opts.taskDefinition,
      group: opts.group,
      startedBy: opts.startedBy,
      launchType: opts.launchType,
      createdAt: opts.at,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      containers,
      timeline: this.timeline(opts.behaviour, opts.at, opts.taskDefinition),
      next: 0,
      deployment: opts.deployment,
      tags: opts.tags ?? [],
      version: 1,
      failed: false,
      stable: false
    }
    this.tasks.set(arn, task)
    opts.deployment?.tasks.push(task)
    return task
  }

  private timeline(b: Behaviour, t0: number, td: TaskDef): TimelineStep[] {
    const T = this.timings
    const pending = t0 + T.provision
    const running = pending + T.pull
    const steps: TimelineStep[] = [{ at: pending, lastStatus: 'PENDING' }]
    const stopped = (at: number, stop: TimelineStep['stop']): TimelineStep => ({
      at,
      lastStatus: 'STOPPED',
      stop
    })
    switch (b.kind) {
      case 'pull-error': {
        const reason = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${b.image}: not found`
        steps.push(
          stopped(running, {
            code: 'TaskFailedToStart',
            reason,
            containerReason: reason,
            failure: true
          })
        )
        break
      }
      case 'crash':
        steps.push({ at: running, lastStatus: 'RUNNING' })
        steps.push(
          stopped(running + T.crashAfter, {
            code: 'EssentialContainerExited',
            reason: 'Essential container in task exited',
            exitCode: b.exitCode ?? 1,
            failure: true
          })
        )
        break
      case 'exit':
        steps.push({ at: running, lastStatus: 'RUNNING' })
        steps.push(
          stopped(running + T.exitAfter, {
            code: 'EssentialContainerExited',
            reason: 'Essential container in task exited',
            exitCode: b.exitCode ?? 0,
            failure: (b.exitCode ?? 0) !== 0
          })
        )
        break
      case 'unhealthy':
        steps.push({ at: running, lastStatus: 'RUNNING' })
        steps.push({ at: running + T.unhealthyAfter, lastStatus: 'RUNNING', health: 'UNHEALTHY' })
        steps.push(
          stopped(running + T.unhealthyAfter + T.stop, {
            code: 'ServiceSchedulerInitiated',
            reason: 'Task failed container health checks',
            exitCode: 137,
            failure: true
          })
        )
        break
      case 'slow-start':
        steps.push({ at: running + T.slowStart, lastStatus: 'RUNNING' })
        steps.push({
          at: running + T.slowStart + T.stabilize,
          lastStatus: 'RUNNING',
          health: 'HEALTHY',
          stable: true
        })
        break
      default:
        steps.push({ at: running, lastStatus: 'RUNNING' })
        steps.push({
          at: running + T.stabilize,
          lastStatus: 'RUNNING',
          health: 'HEALTHY',
          stable: true
        })
    }
    void td
    return steps
  }

  /** Asks a task to stop (scheduler or user); it reaches STOPPED after the stop delay. */
  stopTask(task: SimTask, at: number, code: string, reason: string): void {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED') return
    task.desiredStatus = 'STOPPED'
    task.stoppingAt = at
    task.version++
    const wasRunning = task.lastStatus === 'RUNNING'
    task.timeline = task.timeline.slice(0, task.next)
    task.timeline.push({
      at: at + this.timings.stop,
      lastStatus: 'STOPPED',
      stop: { code, reason, exitCode: wasRunning ? 0 : undefined, failure: false }
    })
  }

  private applyStep(task: SimTask, step: TimelineStep): void {
    task.lastStatus = step.lastStatus
    task.version++
    if (step.lastStatus === 'PENDING') {
      task.pullStartedAt = step.at
      for (const c of task.containers) c.lastStatus = 'PENDING'
    }
    if (step.lastStatus === 'RUNNING' && task.startedAt === undefined) {
      task.pullStoppedAt = step.at
      task.startedAt = step.at
      task.healthStatus = task.containers.some((c) => c.hasHealthCheck) ? 'UNKNOWN' : 'UNKNOWN'
      for (const c of task.containers) {
        c.lastStatus = 'RUNNING'
        if (c.hasHealthCheck) c.healthStatus = 'UNKNOWN'
      }
    }
    if (step.stable) task.stable = true
    if (step.health) {
      if (task.containers.some((c) => c.hasHealthCheck)) {
        task.healthStatus = step.health
        for (const c of task.containers) if (c.hasHealthCheck) c.healthStatus = step.health
      } else if (step.health === 'UNHEALTHY') {
        task.healthStatus = 'UNHEALTHY'
      }
    }
    if (step.stop) {
      const s = step.stop
      task.desiredStatus = 'STOPPED'
      task.stoppedAt = step.at
      task.stoppingAt ??= step.at
      task.stopCode = s.code
      task.stoppedReason = s.reason
      task.failed = s.failure
      for (const c of task.containers) {
        c.lastStatus = 'STOPPED'
        if (s.containerReason !== undefined && task.pullStoppedAt === undefined)
          c.reason = s.containerReason
        if (s.exitCode !== undefined) c.exitCode = s.exitCode
      }
      if (s.failure) this.onTaskFailed(task, step.at)
    }
  }

  private onTaskFailed(task: SimTask, at: number): void {
    const d = task.deployment
    if (!d) return
    d.failedTasks++
    d.updatedAt = at
    if (task.stoppedReason === 'Task failed container health checks') {
      this.event(d.service, at, `(task ${task.id}) failed container health checks.`)
    }
  }

  // ---------------------------------------------------------------- progression

  /** Replays everything that fell due up to `now`. */
  sync(now = this.clock.now()): void {
    let settled = false
    for (let events = 0; events < MAX_SYNC_EVENTS; events++) {
      let t = Infinity
      for (const task of this.tasks.values()) {
        const step = task.timeline[task.next]
        if (step && step.at < t) t = step.at
      }
      for (const svc of this.services.values()) {
        for (const sd of svc.serviceDeployments) {
          // A stage held by an unresolved hook ends no sooner than the hook's own wake times (or an API call):
          // its passed stageEndsAt would otherwise be picked again and again without anything changing.
          if (sd.stageEndsAt !== undefined && sd.stageEndsAt < t && !this.heldByHook(sd))
            t = sd.stageEndsAt
          if (sd.status === 'IN_PROGRESS') {
            for (const h of sd.hooks) {
              if (h.status !== 'IN_PROGRESS' && h.status !== 'AWAITING_ACTION') continue
              for (const w of [h.invokeAt, h.answer?.at, h.expiresAt])
                if (w !== undefined && w < t) t = w
            }
          }
        }
      }
      for (const c of this.controllers) {
        const w = c.nextWake()
        if (w !== undefined && w < t) t = w
      }
      if (t > now) {
        settled = true
        break
      }
      for (const task of this.tasks.values()) {
        let step = task.timeline[task.next]
        while (step && step.at <= t) {
          task.next++
          this.applyStep(task, step)
          step = task.timeline[task.next]
        }
      }
      for (const svc of this.services.values()) this.control(svc, t)
      for (const c of this.controllers) c.step(t)
    }
    // A wake time that stays due after it was handled would spin here: a bug in this model, not a slow replay.
    if (!settled)
      throw new Error(`ECS simulator bug: replay did not settle in ${MAX_SYNC_EVENTS} events`)
    for (const svc of this.services.values()) this.control(svc, now)
    for (const c of this.controllers) c.step(now)
    for (const [arn, task] of this.tasks) {
      if (task.stoppedAt !== undefined && now - task.stoppedAt > STOPPED_TASK_RETENTION_MS) {
        this.tasks.delete(arn)
        if (task.deployment) task.deployment.tasks = task.deployment.tasks.filter((x) => x !== task)
      }
    }
  }

  /** True while a hook of the service deployment's current stage is unresolved (the stage cannot end). */
  private heldByHook(sd: SimServiceDeployment): boolean {
    return sd.hooks.some(
      (h) =>
        h.stage === sd.lifecycleStage &&
        (h.status === 'IN_PROGRESS' || h.status === 'AWAITING_ACTION')
    )
  }

  alive(d: SimDeployment): SimTask[] {
    return d.tasks.filter((t) => t.desiredStatus === 'RUNNING')
  }

  running(d: SimDeployment): number {
    return d.tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING').length
  }

  pending(d: SimDeployment): number {
    return d.tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING').length
  }

  /** A deployment is healthy when all its desired tasks run (and pass health checks when defined). */
  healthy(d: SimDeployment): boolean {
    const ok = d.tasks.filter(
      (t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING' && t.stable
    ).length
    return ok >= d.desiredCount
  }

  private control(svc: SimService, t: number): void {
    for (let pass = 0; pass < 3; pass++) {
      if (svc.controller === 'ECS') this.controlEcs(svc, t)
      this.maintainCounts(svc, t)
      this.removeDrained(svc, t)
    }
  }

  private controlEcs(svc: SimService, t: number): void {
    const primary = svc.deployments[0]
    if (!primary) return
    const sd = primary.serviceDeployment
    const rollbackSd = primary.rollbackOf
    // circuit breaker
    if (sd && primary.rolloutState === 'IN_PROGRESS' && sd.breaker.enabled && !primary.halted) {
      if (primary.failedTasks >= sd.breaker.threshold) this.failDeployment(svc, primary, sd, t)
    }
    if (sd?.stopRequested && primary.rolloutState === 'IN_PROGRESS') {
      this.stopRequested(svc, primary, sd, t)
    }
    const current = svc.deployments[0]!
    const csd = current.serviceDeployment
    if (csd && csd.strategy !== 'ROLLING' && current.rolloutState === 'IN_PROGRESS') {
      this.advanceStages(svc, current, csd, t)
      return
    }
    if (current.rolloutState === 'IN_PROGRESS' && this.healthy(current)) {
      for (const d of svc.deployments.slice(1)) {
        if (!d.draining) {
          d.draining = true
          d.updatedAt = t
        }
      }
      if (this.othersDrained(svc)) this.complete(svc, current, t)
    }
    void rollbackSd
  }

  private complete(svc: SimService, d: SimDeployment, t: number): void {
    d.rolloutState = 'COMPLETED'
    d.rolloutStateReason = `ECS deployment ${d.id} completed.`
    d.updatedAt = t
    svc.lastCompleted = {
      taskDefinition: d.taskDefinition,
      revisionArn: d.revisionArn,
      deploymentId: d.id,
      source: d.behaviourSource
    }
    const sd = d.rollbackOf ?? d.serviceDeployment
    if (sd) {
      if (d.rollbackOf) {
        sd.status = 'ROLLBACK_SUCCESSFUL'
        // Keep why it rolled back (a failed hook, a stop request) in front of where it went.
        sd.statusReason = `${sd.rollback && sd.rollback.reason.includes(' at stage ') ? `${sd.rollback.reason} ` : ''}Service deployment rolled back to ${d.revisionArn}.`
      } else {
        sd.status = 'SUCCESSFUL'
        if (sd.breaker.enabled) sd.breaker.status = 'MONITORING_COMPLETE'
      }
      sd.lifecycleStage =
        sd.strategy !== 'ROLLING' && !d.rollbackOf ? 'CLEAN_UP' : sd.lifecycleStage
      sd.finishedAt = t
      sd.updatedAt = t
      sd.stageEndsAt = undefined
    }
    this.event(svc, t, `(deployment ${d.id}) deployment completed.`)
    this.event(svc, t, 'has reached a steady state.')
  }

  private failDeployment(
    svc: SimService,
    d: SimDeployment,
    sd: SimServiceDeployment,
    t: number
  ): void {
    d.rolloutState = 'FAILED'
    d.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.'
    d.halted = true
    d.updatedAt = t
    sd.breaker.status = 'TRIGGERED'
    sd.updatedAt = t
    sd.stageEndsAt = undefined
    this.event(svc, t, `(deployment ${d.id}) deployment failed: tasks failed to start.`)
    const target = svc.lastCompleted
    if (sd.breaker.rollback && target) {
      sd.status = 'ROLLBACK_IN_PROGRESS'
      sd.statusReason = 'ECS deployment circuit breaker: tasks failed to start.'
      sd.rollback = {
        reason: 'ECS deployment circuit breaker: tasks failed to start.',
        startedAt: t,
        serviceRevisionArn: target.revisionArn
      }
      this.startRollback(svc, d, sd, t)
    } else {
      sd.status = 'STOPPED'
      sd.statusReason = 'ECS deployment circuit breaker: tasks failed to start.'
      sd.stoppedAt = t
      sd.finishedAt = t
      for (const task of this.alive(d)) {
        this.stopTask(task, t, 'ServiceSchedulerInitiated', `Deployment ${d.id} failed.`)
      }
    }
  }

  private startRollback(
    svc: SimService,
    failed: SimDeployment,
    sd: SimServiceDeployment,
    t: number
  ): void {
    const target = svc.lastCompleted!
    // Blue/green keeps the source revision serving: ECS switches back to it instead of redeploying.
    const source = svc.deployments.find(
      (d) => d !== failed && d.taskDefinition === target.taskDefinition
    )
    failed.draining = true
    failed.halted = true
    failed.status = 'ACTIVE'
    if (source && sd.strategy !== 'ROLLING') {
      source.draining = false
      source.status = 'PRIMARY'
      source.rollbackOf = sd
      source.rolloutState = 'IN_PROGRESS'
      source.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${failed.id}.`
      source.trafficWeight = 100
      svc.deployments = [source, ...svc.deployments.filter((d) => d !== source)]
    } else {
      const rb = this.newDeployment(svc, target.taskDefinition, t, target.source)
      rb.revisionArn = target.revisionArn
      rb.rollbackOf = sd
      rb.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${failed.id}.`
      svc.deployments = [rb, ...svc.deployments]
      this.event(
        svc,
        t,
        `(deployment ${rb.id}) rolling back to ${target.taskDefinition.family}:${target.taskDefinition.revision} (deployment ${target.deploymentId}).`
      )
    }
    for (const d of svc.deployments.slice(1)) d.status = 'ACTIVE'
    for (const task of this.alive(failed)) {
      this.stopTask(task, t, 'ServiceSchedulerInitiated', `Deployment ${failed.id} rolled back.`)
    }
  }

  private stopRequested(
    svc: SimService,
    d: SimDeployment,
    sd: SimServiceDeployment,
    t: number
  ): void {
    const type = sd.stopRequested
    sd.stopRequested = undefined
    sd.stageEndsAt = undefined
    d.halted = true
    d.updatedAt = t
    if (type === 'ROLLBACK' && svc.lastCompleted) {
      d.rolloutState = 'FAILED'
      d.rolloutStateReason = 'Service deployment rolled back because of a stop request.'
      sd.status = 'ROLLBACK_IN_PROGRESS'
      sd.rollback = {
        reason: 'Service deployment rolled back because of a stop request.',
        startedAt: t,
        serviceRevisionArn: svc.lastCompleted.revisionArn
      }
      this.startRollback(svc, d, sd, t)
    } else {
      d.rolloutState = 'FAILED'
      d.rolloutStateReason = 'Service deployment stopped because of a stop request.'
      sd.status = 'STOPPED'
      sd.statusReason = 'Service deployment stopped because of a stop request.'
      sd.stoppedAt = t
      sd.finishedAt = t
    }
  }

  /** ECS-native BLUE_GREEN / CANARY / LINEAR: walk the lifecycle stages. */
  private advanceStages(
    svc: SimService,
    green: SimDeployment,
    sd: SimServiceDeployment,
    t: number
  ): void {
    const T = this.timings
    const cfg = sd.configuration
    const enter = (stage: string): void => {
      sd.lifecycleStage = stage
      sd.updatedAt = t
      sd.stageEndsAt = t + T.stage
      for (const h of sd.hooks) {
        if (h.stage !== stage || h.status !== 'PENDING') continue
        h.expiresAt = t + h.timeoutMs
        if (h.targetType === 'PAUSE') h.status = 'AWAITING_ACTION'
        else {
          h.status = 'IN_PROGRESS'
          h.invokeAt = t
        }
      }
      if (stage === 'PRODUCTION_TRAFFIC_SHIFT') {
        const first = this.trafficStep(sd, 0)
        this.shift(svc, green, first.weight)
        sd.stageEndsAt = t + first.bakeMs
      }
      if (stage === 'TEST_TRAFFIC_SHIFT') green.trafficWeight = green.trafficWeight || 0
      if (stage === 'BAKE_TIME') sd.stageEndsAt = t + Number(cfg.bakeTimeInMinutes ?? 0) * 60000
      if (stage === 'CLEAN_UP') {
        sd.stageEndsAt = undefined
        for (const d of svc.deployments.slice(1)) d.draining = true
      }
      if (stage === 'SCALE_UP') sd.stageEndsAt = undefined
    }
    if (sd.lifecycleStage === undefined) {
      enter('RECONCILE_SERVICE')
      return
    }
    // A stage does not end while one of its hooks is unresolved.
    const hooks = this.runHooks(svc, green, sd, t)
    if (hooks !== 'resolved') return
    const stage = sd.lifecycleStage
    if (stage === 'SCALE_UP') {
      if (this.healthy(green)) enter('POST_SCALE_UP')
      return
    }
    if (stage === 'CLEAN_UP') {
      if (this.othersDrained(svc)) this.complete(svc, green, t)
      return
    }
    if (sd.stageEndsAt === undefined || t < sd.stageEndsAt) return
    if (stage === 'PRODUCTION_TRAFFIC_SHIFT' && green.trafficWeight < 100) {
      const idx = sd.hooks.length >= 0 ? this.trafficIndex(sd, green.trafficWeight) + 1 : 0
      const step = this.trafficStep(sd, idx)
      this.shift(svc, green, step.weight)
      sd.stageEndsAt = t + step.bakeMs
      return
    }
    const next = STAGES[STAGES.indexOf(stage as (typeof STAGES)[number]) + 1]
    if (next) enter(next)
  }

  /**
   * The hooks of the current stage: invokes AWS_LAMBDA targets (the function's `hookStatus` answer: SUCCEEDED,
   * FAILED, or IN_PROGRESS → invoked again after the callback delay), holds PAUSE hooks at AWAITING_ACTION until
   * ContinueServiceDeployment, and applies each hook's timeout. A FAILED hook (or a missing function) and a timeout
   * with action ROLLBACK roll the deployment back.
   */
  private runHooks(
    svc: SimService,
    green: SimDeployment,
    sd: SimServiceDeployment,
    t: number
  ): 'resolved' | 'waiting' | 'rolled-back' {
    let waiting = false
    for (const h of sd.hooks) {
      if (h.stage !== sd.lifecycleStage) continue
      if (h.status !== 'IN_PROGRESS' && h.status !== 'AWAITING_ACTION') {
        if (h.status === 'FAILED' || h.status === 'TIMED_OUT') {
          if (h.status === 'FAILED' || h.timeoutAction === 'ROLLBACK') {
            this.hookRollback(svc, green, sd, h, t)
            return 'rolled-back'
          }
        }
        continue
      }
      if (h.answer && h.answer.at <= t) {
        const a = h.answer
        h.answer = undefined
        if (a.outcome === 'SUCCEEDED') h.status = 'SUCCEEDED'
        else if (a.outcome === 'IN_PROGRESS') h.invokeAt = a.at + HOOK_CALLBACK_DELAY_MS
        else {
          h.status = 'FAILED'
          h.reason = a.message ?? 'the function returned hookStatus FAILED'
        }
      }
      if (h.status === 'IN_PROGRESS' && h.invokeAt !== undefined && h.invokeAt <= t && !h.answer) {
        const at = h.invokeAt
        h.invokeAt = undefined
        const payload: Json = {
          executionDetails: {
            testTrafficWeights: {},
            productionTrafficWeights: Object.fromEntries(
              svc.deployments.map((d) => [d.revisionArn, d.trafficWeight])
            ),
            serviceArn: svc.arn,
            targetServiceRevisionArn: green.revisionArn
          },
          executionId: h.hookId,
          lifecycleStage: h.stage,
          resourceArn: sd.arn,
          ...(h.hookDetails !== undefined ? { hookDetails: h.hookDetails } : {})
        }
        const result = this.lambda
          ? this.lambda.invoke(h.targetArn ?? '', payload, at)
          : ({ found: false, error: 'ResourceNotFoundException: Function not found' } as const)
        if (!result.found) {
          h.status = 'FAILED'
          h.reason = result.error
        } else {
          h.answer = {
            at: at + result.durationMs,
            outcome: result.outcome,
            message: result.message
          }
          if (result.durationMs === 0) {
            t = Math.max(t, at)
            return this.runHooks(svc, green, sd, t)
          }
        }
      }
      if (
        (h.status === 'IN_PROGRESS' || h.status === 'AWAITING_ACTION') &&
        h.expiresAt !== undefined &&
        h.expiresAt <= t
      ) {
        h.status = 'TIMED_OUT'
        h.invokeAt = undefined
        h.answer = undefined
        h.reason = `the hook did not resolve within its timeout (action ${h.timeoutAction})`
        sd.updatedAt = t
      }
      if (h.status === 'FAILED' || (h.status === 'TIMED_OUT' && h.timeoutAction === 'ROLLBACK')) {
        sd.updatedAt = t
        this.hookRollback(svc, green, sd, h, t)
        return 'rolled-back'
      }
      if (h.status === 'IN_PROGRESS' || h.status === 'AWAITING_ACTION') waiting = true
    }
    return waiting ? 'waiting' : 'resolved'
  }

  /** A failed hook (or ContinueServiceDeployment ROLLBACK) rolls the deployment back to the last completed revision. */
  rollBackForHook(svc: SimService, sd: SimServiceDeployment, reason: string, t: number): void {
    const d = sd.target
    d.rolloutState = 'FAILED'
    d.rolloutStateReason = reason
    d.halted = true
    d.updatedAt = t
    sd.updatedAt = t
    sd.stageEndsAt = undefined
    this.event(svc, t, `(deployment ${d.id}) deployment failed: ${reason}`)
    if (svc.lastCompleted) {
      sd.status = 'ROLLBACK_IN_PROGRESS'
      sd.statusReason = reason
      sd.rollback = { reason, startedAt: t, serviceRevisionArn: svc.lastCompleted.revisionArn }
      this.startRollback(svc, d, sd, t)
    } else {
      sd.status = 'STOPPED'
      sd.statusReason = reason
      sd.stoppedAt = t
      sd.finishedAt = t
      for (const task of this.alive(d)) {
        this.stopTask(task, t, 'ServiceSchedulerInitiated', `Deployment ${d.id} failed.`)
      }
    }
  }

  private hookRollback(
    svc: SimService,
    green: SimDeployment,
    sd: SimServiceDeployment,
    h: SimHook,
    t: number
  ): void {
    void green
    const target = h.targetType === 'PAUSE' ? 'PAUSE hook' : `lifecycle hook ${h.targetArn ?? ''}`
    this.rollBackForHook(
      svc,
      sd,
      `${target} ${h.status} at stage ${h.stage}: ${h.reason ?? h.status}`,
      t
    )
  }

  private trafficSteps(sd: SimServiceDeployment): { weight: number; bakeMs: number }[] {
    const cfg = sd.configuration
    const stage = this.timings.stage
    if (sd.strategy === 'CANARY') {
      const c = (cfg.canaryConfiguration as Json | undefined) ?? {}
      const pct = Number(c.canaryPercent ?? 5)
      const bake = Number(c.canaryBakeTimeInMinutes ?? 10) * 60000
      return [
        { weight: pct, bakeMs: bake },
        { weight: 100, bakeMs: stage }
      ]
    }
    if (sd.strategy === 'LINEAR') {
      const l = (cfg.linearConfiguration as Json | undefined) ?? {}
      const pct = Math.max(1, Number(l.stepPercent ?? 10))
      const bake = Number(l.stepBakeTimeInMinutes ?? 6) * 60000
      const steps: { weight: number; bakeMs: number }[] = []
      for (let w = pct; w < 100; w += pct)
        steps.push({ weight: Math.round(w * 10) / 10, bakeMs: bake })
      steps.push({ weight: 100, bakeMs: stage })
      return steps
    }
    return [{ weight: 100, bakeMs: stage }]
  }

  private trafficStep(sd: SimServiceDeployment, i: number): { weight: number; bakeMs: number } {
    const steps = this.trafficSteps(sd)
    return steps[Math.min(i, steps.length - 1)]!
  }

  private trafficIndex(sd: SimServiceDeployment, weight: number): number {
    return this.trafficSteps(sd).findIndex((s) => s.weight === weight)
  }

  private shift(svc: SimService, green: SimDeployment, weight: number): void {
    green.trafficWeight = weight
    for (const d of svc.deployments) if (d !== green) d.trafficWeight = 100 - weight
  }

  /**
   * A rolling deployment's limits (ECS `deploymentConfiguration`): at most `maximumPercent` of the desired count
   * RUNNING or PENDING across all deployments, and the older deployments scaled down only as far as
   * `minimumHealthyPercent` allows, counting the new deployment's healthy tasks. Returns the task count each
   * deployment may have now, or undefined when no rolling deployment is in progress.
   */
  private rollingLimits(svc: SimService): Map<SimDeployment, number> | undefined {
    const primary = svc.deployments[0]
    const sd = primary?.serviceDeployment
    if (!primary || svc.deployments.length < 2 || primary.rolloutState !== 'IN_PROGRESS')
      return undefined
    if (sd && sd.strategy !== 'ROLLING') return undefined
    const cfg = svc.deploymentConfiguration
    const desired = primary.desiredCount
    const maxTotal = Math.floor((desired * Number(cfg.maximumPercent ?? 200)) / 100)
    const minHealthy = Math.ceil((desired * Number(cfg.minimumHealthyPercent ?? 100)) / 100)
    const healthyNew = primary.tasks.filter(
      (x) => x.desiredStatus === 'RUNNING' && x.lastStatus === 'RUNNING' && x.stable
    ).length
    const limits = new Map<SimDeployment, number>()
    let keepOld = Math.max(0, minHealthy - healthyNew)
    let others = 0
    for (const d of svc.deployments.slice(1)) {
      const want = d.draining || d.halted ? 0 : Math.min(d.desiredCount, keepOld)
      keepOld -= want
      others += want
      limits.set(d, want)
    }
    limits.set(primary, Math.max(0, Math.min(desired, maxTotal - others)))
    return limits
  }

  /** Keeps each deployment at its desired task count; drains old ones. */
  private maintainCounts(svc: SimService, t: number): void {
    const primary = svc.deployments[0]
    const limits = this.rollingLimits(svc)
    for (const d of svc.deployments) {
      const alive = this.alive(d)
      let want = d.draining || d.halted ? 0 : d.desiredCount
      if (limits?.has(d)) want = limits.get(d)!
      if (svc.status !== 'ACTIVE') want = 0
      // ECS-native blue/green launches the green tasks only from SCALE_UP on.
      const sd = d.serviceDeployment
      if (
        d === primary &&
        sd &&
        sd.strategy !== 'ROLLING' &&
        d.rolloutState === 'IN_PROGRESS' &&
        !d.rollbackOf &&
        (sd.lifecycleStage === undefined ||
          STAGES.indexOf(sd.lifecycleStage as (typeof STAGES)[number]) < STAGES.indexOf('SCALE_UP'))
      ) {
        want = 0
      }
      if (alive.length < want) {
        const started: SimTask[] = []
        for (let i = alive.length; i < want; i++) {
          started.push(
            this.launchTask({
              cluster: svc.cluster,
              taskDefinition: d.taskDefinition,
              behaviour: d.behaviourSource.behaviour,
              digests: d.behaviourSource.digests,
              at: t,
              group: `service:${svc.name}`,
              startedBy: d.id,
              launchType: d.launchType,
              deployment: d
            })
          )
        }
        this.event(
          svc,
          t,
          `has started ${started.length} tasks: ${started.map((x) => `(task ${x.id})`).join(' ')}.`
        )
      } else if (alive.length > want) {
        const extra = alive.slice(0, alive.length - want)
        for (const task of extra) {
          this.stopTask(
            task,
            t,
            'ServiceSchedulerInitiated',
            `Scaling activity initiated by (deployment ${d.id})`
          )
        }
        if (d.draining || svc.status !== 'ACTIVE' || want < alive.length) {
          this.event(
            svc,
            t,
            `has stopped ${extra.length} running tasks: ${extra.map((x) => `(task ${x.id})`).join(' ')}.`
          )
        }
      }
    }
  }

  private othersDrained(svc: SimService): boolean {
    return svc.deployments
      .slice(1)
      .every((d) => d.draining && d.tasks.every((x) => x.lastStatus === 'STOPPED'))
  }

  private removeDrained(svc: SimService, t: number): void {
    const keep: SimDeployment[] = []
    const primary = svc.deployments[0]
    for (const [i, d] of svc.deployments.entries()) {
      const empty = d.tasks.every((x) => x.lastStatus === 'STOPPED')
      // A FAILED deployment stays listed until the deployment replacing it (the rollback) completes.
      const lingering = d.rolloutState === 'FAILED' && primary?.rolloutState === 'IN_PROGRESS'
      if (i > 0 && d.draining && empty && !lingering) {
        d.status = 'INACTIVE'
        d.updatedAt = t
        continue
      }
      keep.push(d)
    }
    svc.deployments = keep
    if (
      svc.status === 'DRAINING' &&
      svc.deployments.every((d) => d.tasks.every((x) => x.lastStatus === 'STOPPED'))
    ) {
      svc.status = 'INACTIVE'
    }
  }

  // ---------------------------------------------------------------- deployments

  newDeployment(
    svc: SimService,
    td: TaskDef,
    t: number,
    source: { behaviour: Behaviour; digests: Map<string, string> }
  ): SimDeployment {
    const id = `ecs-svc/${digits(19)}`
    return {
      id,
      service: svc,
      taskDefinition: td,
      desiredCount: svc.desiredCount,
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment ' + id + ' in progress.',
      failedTasks: 0,
      createdAt: t,
      updatedAt: t,
      behaviourSource: source,
      tasks: [],
      revisionArn: this.arn(`service-revision/${svc.cluster.name}/${svc.name}/${digits(19)}`),
      draining: false,
      halted: false,
      launchType: svc.launchType,
      networkConfiguration: svc.networkConfiguration,
      volumeConfigurations: svc.volumeConfigurations,
      platformVersion: svc.platformVersion,
      trafficWeight: 100
    }
  }

  /** Starts an ECS-controller deployment of `td` (CreateService / UpdateService / forceNewDeployment). */
  async deploy(svc: SimService, td: TaskDef, t: number): Promise<SimDeployment> {
    const source = await this.behaviourFor(td)
    this.sync(t)
    const d = this.newDeployment(svc, td, t, source)
    const cfg = svc.deploymentConfiguration
    const strategy = text(cfg.strategy, 'ROLLING')
    const cb = (cfg.deploymentCircuitBreaker as Json | undefined) ?? {}
    const sourceDeployments = svc.deployments.filter((x) => x.status !== 'INACTIVE')
    const sd: SimServiceDeployment = {
      arn: this.arn(`service-deployment/${svc.cluster.name}/${svc.name}/${hex(11)}`),
      service: svc,
      createdAt: t,
      startedAt: t,
      updatedAt: t,
      sources: sourceDeployments.map((x) => ({ revisionArn: x.revisionArn, deployment: x })),
      target: d,
      status: 'IN_PROGRESS',
      strategy,
      configuration: structuredClone(cfg),
      breaker: {
        enabled: cb.enable === true,
        rollback: cb.rollback === true,
        threshold: breakerThreshold(cb, svc.desiredCount),
        status: cb.enable === true ? 'MONITORING' : 'DISABLED'
      },
      hooks: []
    }
    for (const hook of (cfg.lifecycleHooks as Json[] | undefined) ?? []) {
      for (const stage of (hook.lifecycleStages as string[] | undefined) ?? []) {
        const timeout = (hook.timeoutConfiguration as Json | undefined) ?? {}
        sd.hooks.push({
          hookId: hex(8),
          stage,
          targetType: text(hook.targetType, 'AWS_LAMBDA'),
          targetArn: typeof hook.hookTargetArn === 'string' ? hook.hookTargetArn : undefined,
          status: 'PENDING',
          hookDetails: hook.hookDetails,
          timeoutMs: Number(timeout.timeoutInMinutes ?? 1440) * 60_000,
          timeoutAction: timeout.action === 'CONTINUE' ? 'CONTINUE' : 'ROLLBACK'
        })
      }
    }
    d.serviceDeployment = sd
    // The green revision gets production traffic only from PRODUCTION_TRAFFIC_SHIFT on.
    if (strategy !== 'ROLLING' && sourceDeployments.length > 0) d.trafficWeight = 0
    // A superseded in-progress deployment stops where it is.
    for (const old of svc.serviceDeployments) {
      if (old.status === 'IN_PROGRESS' || old.status === 'PENDING') {
        old.status = 'STOPPED'
        old.statusReason = `Service deployment superseded by ${sd.arn}.`
        old.stoppedAt = t
        old.finishedAt = t
        old.stageEndsAt = undefined
        old.target.rolloutState =
          old.target.rolloutState === 'IN_PROGRESS' ? 'FAILED' : old.target.rolloutState
        old.target.rolloutStateReason = 'ECS deployment superseded by a newer deployment.'
      }
    }
    for (const old of sourceDeployments) old.status = 'ACTIVE'
    svc.deployments = [d, ...sourceDeployments]
    svc.serviceDeployments.unshift(sd)
    this.control(svc, t)
    return d
  }

  // ---------------------------------------------------------------- CODE_DEPLOY task sets

  /** Creates a replacement task set (CodeDeploy's Install step) and launches its tasks. */
  async createTaskSet(svc: SimService, td: TaskDef, t: number): Promise<SimDeployment> {
    const source = await this.behaviourFor(td)
    this.sync(t)
    return this.createTaskSetWith(svc, td, t, source)
  }

  /** createTaskSet with the behaviour already resolved (for callers inside `sync`). */
  createTaskSetWith(
    svc: SimService,
    td: TaskDef,
    t: number,
    source: { behaviour: Behaviour; digests: Map<string, string> }
  ): SimDeployment {
    const d = this.newDeployment(svc, td, t, source)
    d.status = 'ACTIVE'
    d.trafficWeight = 0
    d.taskSetArn = this.arn(`task-set/${svc.cluster.name}/${svc.name}/${d.id}`)
    svc.deployments.push(d)
    this.control(svc, t)
    return d
  }

  /** Reroutes production traffic to `ts`: it becomes PRIMARY and the service's task definition. */
  promoteTaskSet(svc: SimService, ts: SimDeployment, t: number): void {
    for (const d of svc.deployments) {
      d.status = 'ACTIVE'
      d.trafficWeight = 0
    }
    ts.status = 'PRIMARY'
    ts.trafficWeight = 100
    ts.rolloutState = 'COMPLETED'
    svc.deployments = [ts, ...svc.deployments.filter((d) => d !== ts)]
    svc.lastCompleted = {
      taskDefinition: ts.taskDefinition,
      revisionArn: ts.revisionArn,
      deploymentId: ts.id,
      source: ts.behaviourSource
    }
    this.event(svc, t, `updated the primary task set to ${ts.taskSetArn ?? ts.id}.`)
  }

  /** Scales a task set to zero; it disappears once its tasks stopped. */
  removeTaskSet(svc: SimService, ts: SimDeployment, t: number): void {
    ts.draining = true
    ts.halted = true
    if (svc.deployments[0] === ts && svc.deployments.length > 1) {
      svc.deployments = [...svc.deployments.slice(1), ts]
      svc.deployments[0]!.status = 'PRIMARY'
      svc.deployments[0]!.trafficWeight = 100
    }
    this.control(svc, t)
  }
}

export function clusterName(ref: string): string {
  return ref.startsWith('arn:') ? (ref.split('/').pop() ?? ref) : ref
}

/** ECS's default threshold: 50% of the desired count, rounded up, clamped to [3, 200]. */
export function breakerThreshold(cb: Json, desired: number): number {
  const tc = cb.thresholdConfiguration as Json | undefined
  const type = text(tc?.type, 'BOUNDED_PERCENT')
  const value = Number(tc?.value ?? 50)
  if (type === 'COUNT') return Math.max(1, value)
  const raw = Math.ceil((value / 100) * desired)
  if (type === 'UNBOUNDED_PERCENT') return Math.max(1, raw)
  return Math.min(200, Math.max(3, raw))
}

function labelMatches(labels: Record<string, string>, spec: string): boolean {
  const i = spec.indexOf('=')
  if (i < 0) return spec in labels
  return labels[spec.slice(0, i)] === spec.slice(i + 1)
}

export function isBehaviour(s: string): s is Scenario['behaviour'] {
  return ['healthy', 'crash', 'unhealthy', 'slow-start', 'exit'].includes(s)
}
