/**
 * Why tasks of a deployment stopped, grouped by reason, with the container exit codes and a hint for the causes
 * users meet most: images that cannot be pulled, secrets and networking at task start, essential containers that
 * exit, failing health checks.
 */
import type { Task } from '@aws-sdk/client-ecs'

export interface StoppedGroup {
  /** The stoppedReason with task-specific identifiers removed, so equal causes group together. */
  reason: string
  count: number
  /** e.g. `web exited 1: Error: connect ECONNREFUSED` */
  containers: string[]
  taskArns: string[]
  hint: string | undefined
}

/** Drops ids, ARNs and digests from a reason so that the same cause in different tasks compares equal. */
export function reasonKey(reason: string): string {
  return reason
    .replace(/arn:aws[\w-]*:[^\s"]+/g, '<arn>')
    .replace(/sha256:[0-9a-f]{64}/g, '<digest>')
    .replace(/\b[0-9a-f]{32}\b/g, '<id>')
    .trim()
}

export function hintFor(reason: string, containers: string[]): string | undefined {
  if (
    /CannotPullContainerError|pull image|manifest.*not found|not found: manifest unknown/i.test(
      reason
    )
  ) {
    return 'The image could not be pulled: check that it exists in the repository (tag or digest), that the execution role allows ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer, and that the tasks have a route to ECR (NAT gateway, public IP, or VPC endpoints for ecr.api, ecr.dkr and S3).'
  }
  if (/ResourceInitializationError/i.test(reason)) {
    return 'ECS could not prepare the task: check that the execution role may read the secrets and SSM parameters (secretsmanager:GetSecretValue, ssm:GetParameters, kms:Decrypt), that the log group exists, and that the subnets can reach Secrets Manager, SSM and CloudWatch Logs.'
  }
  if (/health check/i.test(reason)) {
    return 'Tasks failed health checks: compare the container port with the target group port and health-check path, and give the app time to start (healthCheckGracePeriodSeconds, the container healthCheck startPeriod).'
  }
  if (
    /Essential container in task exited/i.test(reason) ||
    containers.some((c) => / exited /.test(c))
  ) {
    return 'An essential container exited: read its logs (the log configuration of the container) for the exit code above; a crash at start is usually missing configuration or a failing dependency.'
  }
  if (/OutOfMemory|OOM/i.test(reason))
    return 'A container ran out of memory: raise its memory or the task memory.'
  return undefined
}

/**
 * Whether a task stopped because something failed, as opposed to being stopped on purpose: scaled in by the
 * scheduler, replaced by a newer deployment, or stopped by a user. Health-check failures are scheduler stops too,
 * so the reason decides, not the stop code alone.
 */
export function stoppedByFailure(task: Task): boolean {
  if (task.stopCode === 'UserInitiated') return false
  return !/^(Scaling activity initiated by|Deployment .* (failed|stopped)\.?$|Service .* draining)/i.test(
    task.stoppedReason ?? ''
  )
}

/** Groups stopped tasks by their stop reason, largest group first; tasks stopped on purpose are left out. */
export function groupStoppedTasks(tasks: readonly Task[]): StoppedGroup[] {
  const groups = new Map<string, StoppedGroup>()
  for (const task of tasks.filter(stoppedByFailure)) {
    const reason = reasonKey(task.stoppedReason ?? task.stopCode ?? 'stopped without a reason')
    const containers = (task.containers ?? [])
      .filter((c) => c.exitCode !== undefined || c.reason)
      .map(
        (c) =>
          `${c.name}${c.exitCode !== undefined ? ` exited ${c.exitCode}` : ''}${c.reason ? `: ${c.reason}` : ''}`
      )
    const group = groups.get(reason) ?? {
      reason,
      count: 0,
      containers: [],
      taskArns: [],
      hint: undefined
    }
    group.count++
    if (task.taskArn) group.taskArns.push(task.taskArn)
    for (const c of containers) if (!group.containers.includes(c)) group.containers.push(c)
    groups.set(reason, group)
  }
  for (const group of groups.values()) group.hint = hintFor(group.reason, group.containers)
  return [...groups.values()].sort((a, b) => b.count - a.count)
}

/** A multi-line account of the groups, for the log and the summary. */
export function describeGroups(groups: readonly StoppedGroup[]): string {
  return groups
    .map((g) =>
      [
        `${g.count} task(s) stopped: ${g.reason}`,
        ...g.containers.map((c) => `  container ${c}`),
        ...(g.hint ? [`  hint: ${g.hint}`] : [])
      ].join('\n')
    )
    .join('\n')
}

/** Service events that mean ECS cannot run the tasks at all (no point waiting for the circuit breaker). */
export function isUnableEvent(message: string): boolean {
  return /\bwas unable to (place|start|launch)\b|\bis unable to consistently start tasks\b/i.test(
    message
  )
}
