/**
 * A one-off task from the new revision before the service moves (a database migration, say): the service's own
 * network configuration and launch type, a command override, and a wait until it stopped. A non-zero exit of an
 * essential container fails the deployment before UpdateService.
 */
import type { ECSClient, Service, Task } from '@aws-sdk/client-ecs'
import { ActionError } from '@shipline/action-kit'
import { describeAwsError } from '@shipline/aws'
import type { TaskDefinition } from '../task-definition/render.js'
import { PollInterval } from './poll.js'
import { loadEcs } from '../sdk.js'

export interface RunTaskSpec {
  command: string[]
  container: string | undefined
  timeoutMs: number
}

export interface RunTaskDeps {
  ecs: ECSClient
  now(): number
  sleep(ms: number): Promise<void>
  info(message: string): void
}

function logLocation(td: TaskDefinition, container: string, taskId: string): string {
  const c = td.containerDefinitions.find((x) => x.name === container)
  const log = c?.['logConfiguration'] as
    { logDriver?: string; options?: Record<string, string> } | undefined
  if (log?.logDriver !== 'awslogs') return 'no awslogs configuration for that container'
  const prefix = log.options?.['awslogs-stream-prefix']
  return `CloudWatch Logs group ${log.options?.['awslogs-group'] ?? '?'}${prefix ? `, stream ${prefix}/${container}/${taskId}` : ''}`
}

export async function runTaskBefore(
  deps: RunTaskDeps,
  spec: RunTaskSpec,
  cluster: string,
  taskDefinitionArn: string,
  td: TaskDefinition,
  service: Service | undefined
): Promise<{ taskArn: string; exitCode: number }> {
  const container =
    spec.container ??
    String(
      td.containerDefinitions.find((c) => c['essential'] !== false)?.name ??
        td.containerDefinitions[0]?.name
    )
  if (!td.containerDefinitions.some((c) => c.name === container)) {
    throw new ActionError(
      `"run-task-container" names ${container}, which is not a container of the task definition`,
      `Use one of: ${td.containerDefinitions.map((c) => c.name).join(', ')}.`
    )
  }
  deps.info(
    `running a one-off task of ${taskDefinitionArn} (${container}: ${spec.command.join(' ')})`
  )
  let task: Task | undefined
  try {
    const out = await deps.ecs.send(
      new (await loadEcs()).RunTaskCommand({
        cluster,
        taskDefinition: taskDefinitionArn,
        count: 1,
        startedBy: 'shipline/run-task-before',
        launchType: service?.capacityProviderStrategy?.length ? undefined : service?.launchType,
        capacityProviderStrategy: service?.capacityProviderStrategy,
        networkConfiguration: service?.networkConfiguration,
        platformVersion: service?.platformVersion,
        overrides: { containerOverrides: [{ name: container, command: spec.command }] }
      })
    )
    task = out.tasks?.[0]
    if (!task?.taskArn) {
      throw new ActionError(
        `ecs:RunTask started no task: ${out.failures?.map((f) => `${f.arn ?? ''} ${f.reason ?? ''}`.trim()).join('; ') || 'no reason given'}`,
        'Check the cluster capacity and the service network configuration.'
      )
    }
  } catch (error) {
    throw describeAwsError(error, { action: 'ecs:RunTask', resource: taskDefinitionArn })
  }
  const taskArn = task.taskArn
  const deadline = deps.now() + spec.timeoutMs
  const interval = new PollInterval()
  while (task?.lastStatus !== 'STOPPED') {
    if (deps.now() > deadline) {
      throw new ActionError(
        `the one-off task ${taskArn} did not stop within ${Math.round(spec.timeoutMs / 1000)}s ("run-task-timeout"); the service was not updated`,
        'Raise "run-task-timeout", or check why the task keeps running.'
      )
    }
    await deps.sleep(interval.next('unchanged'))
    const out = await deps.ecs.send(
      new (await loadEcs()).DescribeTasksCommand({ cluster, tasks: [taskArn] })
    )
    task = out.tasks?.[0]
  }
  const c = task.containers?.find((x) => x.name === container)
  const exitCode = c?.exitCode
  const taskId = taskArn.replace(/^.*\//, '')
  if (exitCode !== 0) {
    throw new ActionError(
      `the one-off task "${spec.command.join(' ')}" failed (${container} exit code ${exitCode ?? 'none'}: ${c?.reason ?? task.stoppedReason ?? 'stopped'}); the service was not updated`,
      `Read its output in ${logLocation(td, container, taskId)}; fix the command or the new revision and re-run.`
    )
  }
  deps.info(`one-off task ${taskId} exited 0`)
  return { taskArn, exitCode: 0 }
}
