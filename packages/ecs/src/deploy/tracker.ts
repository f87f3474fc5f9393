/**
 * Follows one ECS deployment — ours, identified by the deployment id and service-deployment ARN that
 * UpdateService returned — to a terminal state. "The service is stable" is not success: a service that the
 * circuit breaker rolled back is stable too. Success is our deployment COMPLETED with our revision running.
 */
import type { Deployment, ECSClient, Service, ServiceDeployment, Task } from '@aws-sdk/client-ecs'
import { ActionError, errorMessage } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError, isTransientError } from '@shipline/aws'
import { describeGroups, groupStoppedTasks, isUnableEvent, type StoppedGroup } from './diagnose.js'
import { PollInterval, type PollOptions, DEFAULT_POLL } from './poll.js'
import { hookLabel, type StageRecord, stageReached, StageWatcher } from './stages.js'
import { loadEcs } from '../sdk.js'

export type DeployStatus =
  'SUCCESSFUL' | 'FAILED' | 'ROLLED_BACK' | 'TIMED_OUT' | 'CANCELLED' | 'NOT_WAITED' | 'PAUSED'

export interface OurDeployment {
  cluster: string
  service: string
  deploymentId: string
  taskDefinitionArn: string
  serviceDeploymentArn: string | undefined
  /** The revision that served before ours (the rollback target). */
  previousTaskDefinitionArn: string | undefined
}

export interface TrackOptions {
  /** deployed, stable, or a lifecycle stage of an ECS-native deployment (stop waiting there: PAUSED). */
  waitUntil: 'deployed' | 'stable' | (string & {})
  timeoutMs: number
  maxFailedTasks: number
  rollbackOnFailure: boolean
  poll?: PollOptions
  /** Aborted by SIGTERM/SIGINT from the runner. */
  cancel?: AbortSignal
}

export interface TrackDeps {
  ecs: ECSClient
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  random?: () => number
  info(message: string): void
  warning(message: string): void
  /** Fetches new credentials now (after an ExpiredToken answer). */
  refreshCredentials?: () => Promise<void>
}

export interface TimelineEntry {
  at: number
  what: string
}

export interface TrackResult {
  status: DeployStatus
  /** Why, in one sentence, when not SUCCESSFUL. */
  reason: string | undefined
  events: string[]
  stopped: StoppedGroup[]
  timeline: TimelineEntry[]
  throttled: number
  polls: number
  /** Lifecycle stages of an ECS-native deployment, in order, with their times. */
  stages: StageRecord[]
}

const TERMINAL_SD = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'])

function isThrottle(error: unknown): boolean {
  return /Throttl|TooManyRequests|RequestLimitExceeded/i.test(awsErrorCode(error) ?? '')
}

function table(service: Service): string {
  const rows = (service.deployments ?? []).map((d) => {
    const revision = d.taskDefinition?.replace(/^.*task-definition\//, '') ?? '?'
    return `  ${(d.status ?? '').padEnd(8)} ${revision.padEnd(28)} ${(d.rolloutState ?? '').padEnd(12)} desired ${d.desiredCount ?? 0} running ${d.runningCount ?? 0} pending ${d.pendingCount ?? 0} failed ${d.failedTasks ?? 0}`
  })
  return ['deployments:', ...rows].join('\n')
}

export class DeploymentTracker {
  private readonly seenEvents = new Set<string>()
  private readonly seenStopped = new Map<string, Task>()
  private readonly events: string[] = []
  private readonly timeline: TimelineEntry[] = []
  private lastTable = ''
  private throttled = 0
  private polls = 0
  private runningSeen = false
  private expiredInARow = 0
  private readonly stages: StageWatcher

  constructor(
    private readonly deps: TrackDeps,
    private readonly ours: OurDeployment,
    private readonly options: TrackOptions,
    private readonly startedAt: number
  ) {
    this.stages = new StageWatcher(
      (m) => deps.info(m),
      () => deps.now()
    )
    this.mark('deployment started', startedAt)
    // Events from before our deployment are history, not news.
  }

  private mark(what: string, at = this.deps.now()): void {
    this.timeline.push({ at, what })
  }

  /** Records events that existed before our UpdateService so that only new ones are printed. */
  ignoreExistingEvents(service: Service | undefined): void {
    for (const e of service?.events ?? []) if (e.id) this.seenEvents.add(e.id)
  }

  private result(status: DeployStatus, reason?: string, stopped: StoppedGroup[] = []): TrackResult {
    this.mark(`finished: ${status}`)
    if (status !== 'PAUSED') this.stages.finish()
    return {
      status,
      reason,
      events: this.events,
      stopped,
      timeline: this.timeline,
      throttled: this.throttled,
      polls: this.polls,
      stages: this.stages.records
    }
  }

  private async describe(): Promise<{ service: Service; sd: ServiceDeployment | undefined }> {
    const { ecs } = this.deps
    const out = await ecs.send(
      new (await loadEcs()).DescribeServicesCommand({
        cluster: this.ours.cluster,
        services: [this.ours.service]
      })
    )
    const service = out.services?.[0]
    if (!service) {
      throw new ActionError(
        `ECS service "${this.ours.service}" in cluster "${this.ours.cluster}" disappeared during the deployment`,
        'Someone deleted it; check the cluster.'
      )
    }
    let sd: ServiceDeployment | undefined
    // A rolling deployment in progress and still PRIMARY is fully described by the service's deployment row; its
    // service deployment is read only when that row changes state. This keeps a wait near one request per poll
    // (issue 15's budget: 20 parallel deploys must stay under ECS's describe rate limits).
    const mine = service.deployments?.find((d) => d.id === this.ours.deploymentId)
    const plainRolling =
      (service.deploymentConfiguration?.strategy ?? 'ROLLING') === 'ROLLING' &&
      mine?.status === 'PRIMARY' &&
      mine.rolloutState === 'IN_PROGRESS'
    if (this.ours.serviceDeploymentArn && !plainRolling) {
      const sds = await ecs.send(
        new (await loadEcs()).DescribeServiceDeploymentsCommand({
          serviceDeploymentArns: [this.ours.serviceDeploymentArn]
        })
      )
      sd = sds.serviceDeployments?.[0]
    }
    return { service, sd }
  }

  /** Prints new service events once each, oldest first; returns whether any were new. */
  private report(service: Service): boolean {
    let changed = false
    const fresh = (service.events ?? []).filter((e) => e.id && !this.seenEvents.has(e.id)).reverse()
    for (const e of fresh) {
      this.seenEvents.add(e.id as string)
      const line =
        `${e.createdAt instanceof Date ? e.createdAt.toISOString() : ''} ${e.message ?? ''}`.trim()
      this.events.push(line)
      this.deps.info(`event: ${line}`)
      changed = true
    }
    const t = table(service)
    if (t !== this.lastTable) {
      this.lastTable = t
      this.deps.info(t)
      changed = true
    }
    return changed
  }

  /** Stopped tasks of our deployment, described once each. */
  private async stoppedTasks(): Promise<Task[]> {
    const { ecs } = this.deps
    const list = await ecs.send(
      new (await loadEcs()).ListTasksCommand({
        cluster: this.ours.cluster,
        startedBy: this.ours.deploymentId,
        desiredStatus: 'STOPPED'
      })
    )
    const fresh = (list.taskArns ?? []).filter((arn) => !this.seenStopped.has(arn))
    for (let i = 0; i < fresh.length; i += 100) {
      const out = await ecs.send(
        new (await loadEcs()).DescribeTasksCommand({
          cluster: this.ours.cluster,
          tasks: fresh.slice(i, i + 100)
        })
      )
      for (const task of out.tasks ?? []) {
        if (task.taskArn && task.lastStatus === 'STOPPED') {
          this.seenStopped.set(task.taskArn, task)
          this.deps.info(
            `task stopped: ${task.taskArn.replace(/^.*\//, '')}: ${task.stoppedReason ?? task.stopCode ?? ''}${(task.containers ?? []).map((c) => (c.exitCode !== undefined ? ` (${c.name} exit ${c.exitCode})` : '')).join('')}`
          )
        }
      }
    }
    return [...this.seenStopped.values()]
  }

  /** Asks ECS to roll our deployment back (or, without a service-deployment ARN, redeploys the previous revision). */
  private async requestRollback(why: string): Promise<void> {
    const { ecs } = this.deps
    this.deps.info(`rolling back: ${why}`)
    this.mark('rollback requested')
    try {
      if (this.ours.serviceDeploymentArn) {
        await ecs.send(
          new (await loadEcs()).StopServiceDeploymentCommand({
            serviceDeploymentArn: this.ours.serviceDeploymentArn,
            stopType: 'ROLLBACK'
          })
        )
      } else if (this.ours.previousTaskDefinitionArn) {
        await ecs.send(
          new (await loadEcs()).UpdateServiceCommand({
            cluster: this.ours.cluster,
            service: this.ours.service,
            taskDefinition: this.ours.previousTaskDefinitionArn
          })
        )
      }
    } catch (error) {
      // Already rolling back or finished (the circuit breaker may have got there first).
      if (awsErrorCode(error) !== 'ConflictException') {
        throw describeAwsError(error, {
          action: 'ecs:StopServiceDeployment',
          resource: this.ours.serviceDeploymentArn
        })
      }
    }
  }

  /** Waits (within the time left) until the rollback settled; true when the previous revision serves again. */
  private async awaitRollback(deadline: number): Promise<boolean> {
    const interval = new PollInterval(this.options.poll ?? DEFAULT_POLL, this.deps.random)
    while (this.deps.now() < deadline) {
      const { service, sd } = await this.describe()
      const changed = [this.report(service), this.stages.observe(sd)].some(Boolean)
      if (sd && (sd.status === 'ROLLBACK_SUCCESSFUL' || sd.status === 'STOPPED'))
        return sd.status === 'ROLLBACK_SUCCESSFUL'
      if (sd?.status === 'ROLLBACK_FAILED') return false
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
      if (
        !sd &&
        primary &&
        primary.taskDefinition === this.ours.previousTaskDefinitionArn &&
        primary.rolloutState === 'COMPLETED'
      )
        return true
      await this.deps.sleep(interval.next(changed ? 'changed' : 'unchanged'))
    }
    return false
  }

  private async failWithRollback(
    status: 'ROLLED_BACK' | 'TIMED_OUT' | 'CANCELLED' | 'FAILED',
    why: string,
    deadline: number,
    alreadyRollingBack = false
  ): Promise<TrackResult> {
    const stopped = groupStoppedTasks(
      await this.stoppedTasks().catch(() => [...this.seenStopped.values()])
    )
    if (!this.options.rollbackOnFailure && !alreadyRollingBack) {
      return this.result(
        status === 'ROLLED_BACK' ? 'FAILED' : status,
        `${why}; rollback-on-failure is false, so the deployment was left as it is`,
        stopped
      )
    }
    if (!alreadyRollingBack) await this.requestRollback(why)
    if (status === 'CANCELLED')
      return this.result('CANCELLED', `${why}; rollback requested`, stopped)
    const restored = await this.awaitRollback(deadline)
    this.mark(restored ? 'previous revision serving again' : 'rollback not confirmed')
    const previous =
      this.ours.previousTaskDefinitionArn?.replace(/^.*task-definition\//, '') ??
      'the previous revision'
    const tail = restored
      ? `rolled back to ${previous}`
      : `rollback to ${previous} was requested but not confirmed in time`
    return this.result(
      status === 'FAILED' && restored ? 'ROLLED_BACK' : status,
      `${why}; ${tail}`,
      stopped
    )
  }

  async track(): Promise<TrackResult> {
    const interval = new PollInterval(this.options.poll ?? DEFAULT_POLL, this.deps.random)
    const deadline = this.startedAt + this.options.timeoutMs
    // A rollback after a timeout gets a short grace period of its own.
    const rollbackDeadline = (): number => Math.max(deadline, this.deps.now()) + 5 * 60_000
    for (;;) {
      if (this.options.cancel?.aborted) {
        return this.failWithRollback(
          'CANCELLED',
          'the job was cancelled during the deployment',
          rollbackDeadline()
        )
      }
      if (this.deps.now() >= deadline) {
        return this.failWithRollback(
          'TIMED_OUT',
          `the deployment did not finish within ${Math.round(this.options.timeoutMs / 1000)}s ("wait-timeout")${this.stageNote()}`,
          rollbackDeadline()
        )
      }
      let outcome: 'changed' | 'unchanged' | 'throttled' = 'unchanged'
      try {
        this.polls++
        const verdict = await this.poll()
        this.expiredInARow = 0
        if (verdict.result) return verdict.result
        if (verdict.failFast) {
          return this.failWithRollback(
            'FAILED',
            verdict.failFast.includes(' at stage ')
              ? verdict.failFast
              : `${verdict.failFast}${this.stageNote()}`,
            rollbackDeadline(),
            verdict.rollingBack
          )
        }
        outcome = verdict.changed ? 'changed' : 'unchanged'
      } catch (error) {
        if (error instanceof ActionError) throw error
        if (isThrottle(error)) {
          this.throttled++
          outcome = 'throttled'
          this.deps.warning(
            `ECS throttled a status request (${awsErrorCode(error)}); backing off before the next poll`
          )
        } else if (/ExpiredToken/.test(awsErrorCode(error) ?? '') && this.deps.refreshCredentials) {
          if (++this.expiredInARow > 3) {
            throw new ActionError(
              'the AWS credentials kept expiring although new ones were fetched after each expiry',
              'Check the clock of the runner and the maximum session duration of the role ("role-duration-seconds").'
            )
          }
          this.deps.warning(
            'the AWS credentials expired during the wait; fetching new ones and continuing'
          )
          await this.deps.refreshCredentials()
        } else if (isTransientError(error)) {
          this.deps.warning(
            `a status request failed transiently (${errorMessage(error)}); retrying`
          )
        } else {
          throw describeAwsError(error, {
            action: 'ecs:DescribeServices',
            resource: this.ours.service
          })
        }
      }
      await this.deps.sleep(interval.next(outcome), this.options.cancel)
    }
  }

  private async poll(): Promise<{
    changed: boolean
    result?: TrackResult
    failFast?: string
    rollingBack?: boolean
  }> {
    const { service, sd } = await this.describe()
    const changed = [this.report(service), this.stages.observe(sd)].some(Boolean)
    const deployments = service.deployments ?? []
    const mine: Deployment | undefined = deployments.find((d) => d.id === this.ours.deploymentId)
    const primary = deployments.find((d) => d.status === 'PRIMARY')
    if (!this.runningSeen && mine && (mine.runningCount ?? 0) > 0) {
      this.runningSeen = true
      this.mark('first task of the new revision running')
    }

    // Someone else's deployment took over: ECS stops ours as superseded. Report that, not its task list.
    const replacedBy =
      primary &&
      primary.id !== this.ours.deploymentId &&
      !/rolling back/i.test(primary.rolloutStateReason ?? '') &&
      primary.taskDefinition !== this.ours.previousTaskDefinitionArn
        ? primary
        : undefined
    if (replacedBy && (!sd || sd.status === 'STOPPED' || sd.status === 'IN_PROGRESS')) {
      const other = replacedBy.taskDefinition?.replace(/^.*task-definition\//, '') ?? '?'
      return {
        changed,
        result: this.result(
          'FAILED',
          `our deployment ${this.ours.deploymentId} was replaced by another deployment (${replacedBy.id}, ${other}) started on the service while ours was in progress${sd?.statusReason ? ` (ECS: ${sd.statusReason})` : ''}`
        )
      }
    }

    // Terminal states reported by the service deployment.
    if (sd?.status && TERMINAL_SD.has(sd.status)) {
      if (sd.status === 'SUCCESSFUL') return this.successOnceSteady(service, mine, changed)
      const why = sd.statusReason ?? sd.rollback?.reason ?? sd.status
      const reason = why.includes(' at stage ') ? why : `${why}${this.stageNote(sd)}`
      const stopped = groupStoppedTasks(await this.stoppedTasks())
      if (sd.status === 'ROLLBACK_SUCCESSFUL') {
        this.mark('previous revision serving again')
        return {
          changed,
          result: this.result('ROLLED_BACK', `ECS rolled the deployment back: ${reason}`, stopped)
        }
      }
      return {
        changed,
        result: this.result(
          'FAILED',
          `the service deployment ended ${sd.status}: ${reason}`,
          stopped
        )
      }
    }
    if (sd?.status === 'ROLLBACK_IN_PROGRESS' || sd?.status === 'ROLLBACK_REQUESTED') {
      return {
        changed,
        failFast:
          `ECS is rolling the deployment back: ${sd.statusReason ?? sd.rollback?.reason ?? ''}`.trim(),
        rollingBack: true
      }
    }
    if (sd?.status === 'IN_PROGRESS' && sd.lifecycleStage) {
      const hooks = sd.lifecycleHookDetails ?? []
      const bad = hooks.find(
        (h) => h.status === 'FAILED' || (h.status === 'TIMED_OUT' && h.timeoutAction !== 'CONTINUE')
      )
      if (bad) {
        return {
          changed,
          failFast: `lifecycle ${hookLabel(bad)} ${bad.status} at stage ${sd.lifecycleStage}`
        }
      }
      const target = this.options.waitUntil
      if (target !== 'deployed' && target !== 'stable' && stageReached(sd.lifecycleStage, target)) {
        this.mark(`stage ${sd.lifecycleStage} reached`)
        return {
          changed,
          result: this.result(
            'PAUSED',
            `the deployment reached stage ${sd.lifecycleStage} ("wait-until: ${target}"); it goes on by itself unless a PAUSE hook holds it — re-run with "continue-deployment: true" (or "rollback") to follow it to the end`
          )
        }
      }
      const paused = hooks.find((h) => h.status === 'AWAITING_ACTION')
      if (paused) {
        this.mark(`paused at ${sd.lifecycleStage}`)
        return {
          changed,
          result: this.result(
            'PAUSED',
            `the deployment is paused at stage ${sd.lifecycleStage} by ${hookLabel(paused)}; re-run the action with "continue-deployment: true" to continue it, or "continue-deployment: rollback" to roll it back`
          )
        }
      }
    }

    // Without a service deployment: the deployment list tells.
    if (mine?.rolloutState === 'COMPLETED' && primary?.id === mine.id) {
      return this.successOnceSteady(service, mine, changed)
    }
    if (mine?.rolloutState === 'FAILED') {
      return {
        changed,
        failFast: `the deployment failed: ${mine.rolloutStateReason ?? 'FAILED'}`,
        rollingBack: true
      }
    }
    // Fail fast on a cause that is already known.
    const fresh = this.events.filter((e) => isUnableEvent(e))
    if (fresh.length > 0)
      return { changed, failFast: `ECS cannot run the tasks: ${fresh[fresh.length - 1]}` }
    // Listed only while ECS counts more failed tasks than we have described: one ListTasks per new failure.
    if ((mine?.failedTasks ?? 0) > this.seenStopped.size) {
      const groups = groupStoppedTasks(await this.stoppedTasks())
      const worst = groups[0]
      if (worst && worst.count >= this.options.maxFailedTasks) {
        return {
          changed: true,
          failFast: `${worst.count} tasks of the new revision stopped with the same reason (${worst.reason}) — "max-failed-tasks" is ${this.options.maxFailedTasks}\n${describeGroups(groups)}`
        }
      }
    }
    return { changed }
  }

  /** " (at stage X)" for an ECS-native deployment, naming where it was. */
  private stageNote(sd?: ServiceDeployment): string {
    const stage = sd?.lifecycleStage ?? this.stages.current?.stage
    if (!stage) return ''
    // A rollback reports its own stage; the stage our deployment failed in is the last one before it.
    const own = [...this.stages.records].reverse().find((r) => r.stage !== 'CLEAN_UP')
    return ` (at stage ${sd?.status?.startsWith('ROLLBACK') && own ? own.stage : stage})`
  }

  private successOnceSteady(
    service: Service,
    mine: Deployment | undefined,
    changed: boolean
  ): { changed: boolean; result?: TrackResult } {
    if (this.options.waitUntil === 'stable') {
      const steady =
        (service.deployments ?? []).length === 1 &&
        service.runningCount === service.desiredCount &&
        (service.pendingCount ?? 0) === 0
      if (!steady) return { changed }
      this.mark('service steady')
    }
    const running = mine?.taskDefinition ?? service.taskDefinition
    if (running !== this.ours.taskDefinitionArn) {
      return {
        changed,
        result: this.result(
          'FAILED',
          `the service finished on ${running ?? 'another revision'}, not on ${this.ours.taskDefinitionArn}`
        )
      }
    }
    this.mark('deployment completed')
    return { changed, result: this.result('SUCCESSFUL') }
  }
}
