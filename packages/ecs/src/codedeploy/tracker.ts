/**
 * Follows a CodeDeploy ECS deployment: prints each lifecycle event as it changes and the traffic shift, ends on
 * the deployment's status, explains a failure (the failing event's diagnostics, ECS stopped-task reasons) and, on
 * timeout or cancel, stops the deployment with a rollback.
 */
import type { DeploymentInfo, ECSTarget } from '@aws-sdk/client-codedeploy'
import type { CodeDeploySender } from '../sdk.js'
import type { ECSClient } from '@aws-sdk/client-ecs'
import { describeAwsError } from '@shipline/aws'
import { formatDuration } from './budget.js'
import { groupStoppedTasks, type StoppedGroup } from '../deploy/diagnose.js'
import { PollInterval, type PollOptions } from '../deploy/poll.js'
import type { DeployStatus, TimelineEntry } from '../deploy/tracker.js'
import { loadCodeDeploy, loadEcs } from '../sdk.js'

export interface LifecycleEventRecord {
  name: string
  status: string
  startTime?: number
  endTime?: number
  diagnostics?: { errorCode?: string; message?: string; logTail?: string }
}

export interface CodeDeployTrackResult {
  status: DeployStatus
  reason: string | undefined
  deploymentId: string
  lifecycle: LifecycleEventRecord[]
  traffic: string[]
  timeline: TimelineEntry[]
  stopped: StoppedGroup[]
  rollbackDeploymentId: string | undefined
}

export interface CodeDeployTrackDeps {
  codedeploy: CodeDeploySender
  ecs: ECSClient
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  info: (message: string) => void
  warning: (message: string) => void
  cancel?: AbortSignal
  poll?: PollOptions
}

export interface CodeDeployTrackOptions {
  deploymentId: string
  cluster: string
  taskDefinitionArn: string
  /** 'deployed': done once all traffic is on the replacement; 'stable': also wait out the termination wait. */
  waitUntil: 'deployed' | 'stable'
  budgetMs: number
}

const time = (d: Date | undefined): number | undefined => (d ? d.getTime() : undefined)

export async function trackCodeDeploy(
  deps: CodeDeployTrackDeps,
  opts: CodeDeployTrackOptions
): Promise<CodeDeployTrackResult> {
  const { codedeploy } = deps
  const started = deps.now()
  const result: CodeDeployTrackResult = {
    status: 'FAILED',
    reason: undefined,
    deploymentId: opts.deploymentId,
    lifecycle: [],
    traffic: [],
    timeline: [],
    stopped: [],
    rollbackDeploymentId: undefined
  }
  const poll = new PollInterval(
    deps.poll ?? { initialMs: 1000, maxMs: 10_000, factor: 1.5, jitter: 0.2 }
  )
  const seen = new Map<string, string>()
  let lastTraffic = ''
  let lastStatus = ''
  let targetId: string | undefined
  const note = (what: string): void => {
    result.timeline.push({ at: deps.now(), what })
    deps.info(what)
  }

  const readTarget = async (): Promise<ECSTarget | undefined> => {
    if (!targetId) {
      const ids = await codedeploy.send(
        new (await loadCodeDeploy()).ListDeploymentTargetsCommand({
          deploymentId: opts.deploymentId
        })
      )
      targetId = ids.targetIds?.[0]
      if (!targetId) return undefined
    }
    const out = await codedeploy.send(
      new (await loadCodeDeploy()).GetDeploymentTargetCommand({
        deploymentId: opts.deploymentId,
        targetId
      })
    )
    return out.deploymentTarget?.ecsTarget
  }

  const observe = (target: ECSTarget | undefined): boolean => {
    let changed = false
    result.lifecycle = (target?.lifecycleEvents ?? []).map((e) => ({
      name: e.lifecycleEventName ?? '?',
      status: e.status ?? '?',
      startTime: time(e.startTime),
      endTime: time(e.endTime),
      diagnostics: e.diagnostics
        ? {
            errorCode: e.diagnostics.errorCode,
            message: e.diagnostics.message,
            logTail: e.diagnostics.logTail
          }
        : undefined
    }))
    for (const e of result.lifecycle) {
      if (seen.get(e.name) !== e.status) {
        if (seen.has(e.name) || e.status !== 'Pending')
          note(`lifecycle event ${e.name}: ${e.status}`)
        seen.set(e.name, e.status)
        changed = true
      }
    }
    const sets = target?.taskSetsInfo ?? []
    const traffic = sets
      .map(
        (s) =>
          `${s.taskSetLabel ?? '?'} ${s.trafficWeight ?? 0}% (${s.runningCount ?? 0}/${s.desiredCount ?? 0} running)`
      )
      .join(', ')
    const weights = sets.map((s) => `${s.taskSetLabel}:${s.trafficWeight ?? 0}`).join(',')
    if (traffic && weights !== lastTraffic) {
      lastTraffic = weights
      result.traffic.push(traffic)
      note(`traffic: ${traffic}`)
      changed = true
    }
    return changed
  }

  const stoppedTasks = async (): Promise<StoppedGroup[]> => {
    try {
      const family = opts.taskDefinitionArn
        .replace(/^.*:task-definition\//, '')
        .replace(/:\d+$/, '')
      const list = await deps.ecs.send(
        new (await loadEcs()).ListTasksCommand({
          cluster: opts.cluster,
          family,
          desiredStatus: 'STOPPED'
        })
      )
      if (!list.taskArns?.length) return []
      const tasks = await deps.ecs.send(
        new (await loadEcs()).DescribeTasksCommand({
          cluster: opts.cluster,
          tasks: list.taskArns.slice(0, 100)
        })
      )
      return groupStoppedTasks(
        (tasks.tasks ?? []).filter((t) => t.taskDefinitionArn === opts.taskDefinitionArn)
      )
    } catch {
      return []
    }
  }

  const explainFailure = async (info: DeploymentInfo): Promise<void> => {
    const failed = result.lifecycle.find((e) => e.status === 'Failed')
    const parts: string[] = []
    if (failed) {
      parts.push(`lifecycle event ${failed.name} failed`)
      const d = failed.diagnostics
      if (d?.errorCode || d?.message)
        parts.push(`${d.errorCode ?? ''}${d.errorCode ? ': ' : ''}${d.message ?? ''}`)
      if (d?.logTail) deps.info(`${failed.name} log tail:\n${d.logTail}`)
    }
    if (info.errorInformation?.message)
      parts.push(
        `${info.errorInformation.code ?? ''}${info.errorInformation.code ? ': ' : ''}${info.errorInformation.message}`
      )
    result.reason = parts.join(' — ') || `deployment ended ${info.status}`
    if (
      !failed ||
      failed.name === 'Install' ||
      info.errorInformation?.code === 'ECS_UPDATE_ERROR'
    ) {
      result.stopped = await stoppedTasks()
      for (const g of result.stopped) deps.info(`stopped: ${g.count} task(s): ${g.reason}`)
    }
    result.rollbackDeploymentId = info.rollbackInfo?.rollbackDeploymentId
    result.status = result.rollbackDeploymentId ? 'ROLLED_BACK' : 'FAILED'
    if (info.rollbackInfo?.rollbackMessage) deps.info(info.rollbackInfo.rollbackMessage)
  }

  const stop = async (status: 'TIMED_OUT' | 'CANCELLED', why: string): Promise<void> => {
    result.status = status
    result.reason = why
    deps.warning(`${why}: stopping deployment ${opts.deploymentId} with a rollback`)
    const waiting = result.lifecycle.find((e) => e.status === 'InProgress')
    if (waiting) result.reason = `${why} (lifecycle event ${waiting.name} still in progress)`
    if (!waiting || waiting.name === 'Install') {
      result.stopped = await stoppedTasks()
      for (const g of result.stopped) deps.info(`stopped: ${g.count} task(s): ${g.reason}`)
    }
    try {
      await codedeploy.send(
        new (await loadCodeDeploy()).StopDeploymentCommand({
          deploymentId: opts.deploymentId,
          autoRollbackEnabled: true
        })
      )
    } catch (error) {
      deps.warning(
        describeAwsError(error, {
          action: 'codedeploy:StopDeployment',
          resource: opts.deploymentId
        }).message
      )
    }
  }

  for (;;) {
    if (deps.cancel?.aborted) {
      await stop('CANCELLED', 'the job was cancelled')
      return result
    }
    let info: DeploymentInfo | undefined
    let changed: boolean
    try {
      info = (
        await codedeploy.send(
          new (await loadCodeDeploy()).GetDeploymentCommand({ deploymentId: opts.deploymentId })
        )
      ).deploymentInfo
      changed = observe(await readTarget())
    } catch (error) {
      throw describeAwsError(error, {
        action: 'codedeploy:GetDeployment',
        resource: opts.deploymentId
      })
    }
    const status = info?.status ?? '?'
    if (status !== lastStatus) {
      note(`deployment ${opts.deploymentId}: ${status}`)
      lastStatus = status
      changed = true
    }
    if (status === 'Succeeded') {
      result.status = 'SUCCESSFUL'
      return result
    }
    if (status === 'Failed' || status === 'Stopped') {
      await explainFailure(info!)
      return result
    }
    if (
      opts.waitUntil === 'deployed' &&
      info?.instanceTerminationWaitTimeStarted &&
      result.lifecycle.find((e) => e.name === 'AfterAllowTraffic')?.status === 'Succeeded'
    ) {
      note('all traffic is on the replacement task set; the original one waits for its termination')
      result.status = 'SUCCESSFUL'
      return result
    }
    if (deps.now() - started >= opts.budgetMs) {
      await stop(
        'TIMED_OUT',
        `the deployment did not finish within the wait budget (${formatDuration(opts.budgetMs)})`
      )
      return result
    }
    await deps.sleep(poll.next(changed ? 'changed' : 'unchanged'), deps.cancel)
  }
}
