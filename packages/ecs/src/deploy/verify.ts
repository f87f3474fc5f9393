/**
 * Checks, before anything changes, that what a task definition refers to exists: the cluster, each container's
 * image (in its own registry's account and region), the execution and task roles (and that they trust
 * ecs-tasks.amazonaws.com), secrets and SSM parameters, awslogs groups, and the service's target groups' ports.
 * A check the role may not perform is SKIP with the permission that would enable it, never a failure.
 * Each client's SDK package loads on the first check that needs it.
 */
import type { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs'
import type { ECRClient } from '@aws-sdk/client-ecr'
import type { ECSClient, Service } from '@aws-sdk/client-ecs'
import type { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { GetRoleCommand } from '@aws-sdk/client-iam'
import type { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager'
import type { GetParametersCommand } from '@aws-sdk/client-ssm'
import { errorMessage } from '@shipline/action-kit'
import { awsErrorCode, isAccessDenied } from '@shipline/aws'
import { loadEcr, parseEcrRegistry } from '@shipline/ecr'
import { parseImageReference } from '@shipline/oci'
import type { TaskDefinition } from '../task-definition/render.js'
import { loadEcs } from '../sdk.js'

export type CheckStatus = 'OK' | 'FAIL' | 'SKIP'

export interface Check {
  /** What was checked, e.g. `image web: 1234….dkr.ecr…/web@sha256:…`. */
  subject: string
  status: CheckStatus
  detail: string
}

/** The clients verification reads with (each is only called when the definition needs it). */
export interface VerifyClients {
  ecs: ECSClient
  ecr(region: string): ECRClient
  iam: { send(command: GetRoleCommand): Promise<{ Role?: { AssumeRolePolicyDocument?: string } }> }
  secrets: { send(command: DescribeSecretCommand): Promise<unknown> }
  ssm: { send(command: GetParametersCommand): Promise<{ InvalidParameters?: string[] }> }
  logs: {
    send(command: DescribeLogGroupsCommand): Promise<{ logGroups?: { logGroupName?: string }[] }>
  }
  elbv2: {
    send(
      command: DescribeTargetGroupsCommand
    ): Promise<{ TargetGroups?: { Port?: number; TargetGroupArn?: string }[] }>
  }
}

export interface VerifyContext {
  cluster: string
  /** The service as described (absent when it is about to be created). */
  service: Service | undefined
  /** The account and region of the session, for images without an ECR host. */
  accountId: string
  region: string
  /** The registry host of a non-AWS ECR stand-in (the local stack), treated as this account's ECR. */
  localEcrHost?: string
}

async function attempt(
  subject: string,
  permission: string,
  body: () => Promise<Check>
): Promise<Check> {
  try {
    return await body()
  } catch (error) {
    if (isAccessDenied(error)) {
      return { subject, status: 'SKIP', detail: `not permitted; grant ${permission} to check it` }
    }
    return {
      subject,
      status: 'FAIL',
      detail: `${awsErrorCode(error) ?? 'error'}: ${errorMessage(error)}`
    }
  }
}

function roleName(arn: string): string | undefined {
  return /^arn:aws[\w-]*:iam::\d{12}:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn)?.[1]
}

function trustsEcsTasks(document: string | undefined): boolean {
  if (!document) return false
  try {
    const policy = JSON.parse(decodeURIComponent(document)) as { Statement?: unknown }
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]
    return statements.some((s) => {
      const st = s as {
        Effect?: string
        Principal?: { Service?: string | string[] }
        Action?: string | string[]
      }
      const services = ([] as string[]).concat(st.Principal?.Service ?? [])
      const actions = ([] as string[]).concat(st.Action ?? [])
      return (
        st.Effect === 'Allow' &&
        services.includes('ecs-tasks.amazonaws.com') &&
        actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
      )
    })
  } catch {
    return false
  }
}

async function checkCluster(clients: VerifyClients, cluster: string): Promise<Check> {
  const subject = `cluster ${cluster}`
  return attempt(subject, 'ecs:DescribeClusters', async () => {
    const out = await clients.ecs.send(
      new (await loadEcs()).DescribeClustersCommand({ clusters: [cluster] })
    )
    const found = out.clusters?.find((c) => c.status === 'ACTIVE')
    return found
      ? { subject, status: 'OK', detail: 'ACTIVE' }
      : {
          subject,
          status: 'FAIL',
          detail: `not found or not ACTIVE (${out.failures?.[0]?.reason ?? 'MISSING'})`
        }
  })
}

async function checkImage(
  clients: VerifyClients,
  container: string,
  image: string,
  ctx: VerifyContext
): Promise<Check> {
  const subject = `image of ${container}: ${image}`
  let ref
  try {
    ref = parseImageReference(image)
  } catch {
    return { subject, status: 'FAIL', detail: 'not a valid image reference' }
  }
  const ecr = parseEcrRegistry(ref.registry)
  const local = ctx.localEcrHost !== undefined && ref.registry === ctx.localEcrHost
  if (!ecr && !local)
    return { subject, status: 'SKIP', detail: 'not an ECR image (its registry is not checked)' }
  const region = ecr?.region ?? ctx.region
  const registryId = ecr?.accountId ?? ctx.accountId
  return attempt(subject, 'ecr:DescribeImages', async () => {
    const imageId = ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag ?? 'latest' }
    try {
      await clients.ecr(region).send(
        new (await loadEcr()).DescribeImagesCommand({
          registryId,
          repositoryName: ref.repository,
          imageIds: [imageId]
        })
      )
      return { subject, status: 'OK', detail: `exists in ${registryId}/${region}` }
    } catch (error) {
      const code = awsErrorCode(error)
      if (code === 'ImageNotFoundException' || code === 'RepositoryNotFoundException') {
        return {
          subject,
          status: 'FAIL',
          detail: `${code === 'ImageNotFoundException' ? 'image' : 'repository'} not found in ${registryId}/${region}: the tasks would stop with CannotPullContainerError`
        }
      }
      throw error
    }
  })
}

async function checkRole(clients: VerifyClients, kind: string, arn: string): Promise<Check> {
  const subject = `${kind} ${arn}`
  const name = roleName(arn)
  if (!name) return { subject, status: 'FAIL', detail: 'not an IAM role ARN' }
  return attempt(subject, 'iam:GetRole', async () => {
    try {
      const out = await clients.iam.send(
        new (await import('@aws-sdk/client-iam')).GetRoleCommand({ RoleName: name })
      )
      return trustsEcsTasks(out.Role?.AssumeRolePolicyDocument)
        ? { subject, status: 'OK', detail: 'exists and trusts ecs-tasks.amazonaws.com' }
        : {
            subject,
            status: 'FAIL',
            detail:
              'its trust policy does not allow ecs-tasks.amazonaws.com to assume it (sts:AssumeRole)'
          }
    } catch (error) {
      if (awsErrorCode(error) === 'NoSuchEntity')
        return { subject, status: 'FAIL', detail: 'role does not exist' }
      throw error
    }
  })
}

async function checkSecret(
  clients: VerifyClients,
  container: string,
  name: string,
  valueFrom: string
): Promise<Check> {
  const subject = `secret ${name} of ${container}: ${valueFrom}`
  if (/^arn:aws[\w-]*:ssm:|^(?!arn:)/.test(valueFrom)) {
    return attempt(subject, 'ssm:GetParameters', async () => {
      const out = await clients.ssm.send(
        new (await import('@aws-sdk/client-ssm')).GetParametersCommand({ Names: [valueFrom] })
      )
      return out.InvalidParameters?.length
        ? { subject, status: 'FAIL', detail: 'SSM parameter does not exist' }
        : { subject, status: 'OK', detail: 'SSM parameter exists' }
    })
  }
  // Secrets Manager: arn:…:secret:name-AbCdEf[:json-key:version-stage:version-id]
  const secretArn = valueFrom.split(':').slice(0, 7).join(':')
  return attempt(subject, 'secretsmanager:DescribeSecret', async () => {
    try {
      await clients.secrets.send(
        new (await import('@aws-sdk/client-secrets-manager')).DescribeSecretCommand({
          SecretId: secretArn
        })
      )
      return { subject, status: 'OK', detail: 'secret exists' }
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceNotFoundException')
        return { subject, status: 'FAIL', detail: 'secret does not exist' }
      throw error
    }
  })
}

async function checkLogGroup(
  clients: VerifyClients,
  container: string,
  options: Record<string, string>
): Promise<Check> {
  const group = options['awslogs-group'] ?? ''
  const subject = `log group of ${container}: ${group}`
  if (options['awslogs-create-group'] === 'true') {
    return { subject, status: 'OK', detail: 'created by ECS (awslogs-create-group)' }
  }
  return attempt(subject, 'logs:DescribeLogGroups', async () => {
    const out = await clients.logs.send(
      new (await import('@aws-sdk/client-cloudwatch-logs')).DescribeLogGroupsCommand({
        logGroupNamePrefix: group,
        limit: 50
      })
    )
    return out.logGroups?.some((g) => g.logGroupName === group)
      ? { subject, status: 'OK', detail: 'exists' }
      : {
          subject,
          status: 'FAIL',
          detail:
            'does not exist: tasks fail with ResourceInitializationError; create it or set awslogs-create-group'
        }
  })
}

async function checkTargetGroup(
  clients: VerifyClients,
  td: TaskDefinition,
  lb: { targetGroupArn?: string; containerName?: string; containerPort?: number }
): Promise<Check> {
  const subject = `target group ${lb.targetGroupArn ?? '?'} → ${lb.containerName}:${lb.containerPort}`
  const container = td.containerDefinitions.find((c) => c.name === lb.containerName)
  const ports = (
    (container?.['portMappings'] as { containerPort?: number }[] | undefined) ?? []
  ).map((p) => p.containerPort)
  if (!container)
    return {
      subject,
      status: 'FAIL',
      detail: `container ${lb.containerName} is not in the task definition`
    }
  if (!ports.includes(lb.containerPort)) {
    return {
      subject,
      status: 'FAIL',
      detail: `container ${lb.containerName} exposes ${ports.join(', ') || 'no ports'}, not ${lb.containerPort}: load-balancer health checks would fail`
    }
  }
  if (!lb.targetGroupArn)
    return { subject, status: 'SKIP', detail: 'classic load balancer (not checked)' }
  return attempt(subject, 'elasticloadbalancing:DescribeTargetGroups', async () => {
    try {
      const out = await clients.elbv2.send(
        new (await import('@aws-sdk/client-elastic-load-balancing-v2')).DescribeTargetGroupsCommand(
          { TargetGroupArns: [lb.targetGroupArn as string] }
        )
      )
      const tg = out.TargetGroups?.[0]
      return {
        subject,
        status: 'OK',
        detail: `exists (port ${tg?.Port ?? '?'}; ECS registers each task on container port ${lb.containerPort})`
      }
    } catch (error) {
      if (awsErrorCode(error) === 'TargetGroupNotFound')
        return { subject, status: 'FAIL', detail: 'target group does not exist' }
      throw error
    }
  })
}

/** Runs every check that the definition and the service call for, in parallel. */
export async function verifyDeployment(
  clients: VerifyClients,
  td: TaskDefinition,
  ctx: VerifyContext
): Promise<Check[]> {
  const checks: Promise<Check>[] = [checkCluster(clients, ctx.cluster)]
  for (const c of td.containerDefinitions) {
    const name = String(c.name)
    if (typeof c.image === 'string') checks.push(checkImage(clients, name, c.image, ctx))
    for (const s of (c['secrets'] as { name?: string; valueFrom?: string }[] | undefined) ?? []) {
      if (s.valueFrom) checks.push(checkSecret(clients, name, String(s.name), s.valueFrom))
    }
    const log = c['logConfiguration'] as
      { logDriver?: string; options?: Record<string, string> } | undefined
    if (log?.logDriver === 'awslogs' && log.options?.['awslogs-group']) {
      checks.push(checkLogGroup(clients, name, log.options))
    }
  }
  for (const [kind, key] of [
    ['execution role', 'executionRoleArn'],
    ['task role', 'taskRoleArn']
  ] as const) {
    const arn = td[key]
    if (typeof arn === 'string') checks.push(checkRole(clients, kind, arn))
  }
  for (const lb of ctx.service?.loadBalancers ?? []) checks.push(checkTargetGroup(clients, td, lb))
  return Promise.all(checks)
}
