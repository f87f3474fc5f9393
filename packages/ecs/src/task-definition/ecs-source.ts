/** Loads the source task definition from ECS (DescribeTaskDefinition with tags). */
import type { ECSClient } from '@aws-sdk/client-ecs'
import { ActionError } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'
import { loadEcs } from '../sdk.js'

/** Family names: letters, digits, hyphens and underscores, up to 255. */
export const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/
export const TASK_DEFINITION_ARN_PATTERN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}(?::[1-9]\d*)?$/

/**
 * Where a task definition lives: an ARN names its region and account; a family (or family:revision) is read in the
 * session's region. A task definition of another account cannot be read with this account's role (ECS has no
 * resource policies for task definitions): that fails here, before any call, with the fix.
 */
export function taskDefinitionRegion(
  id: string,
  input: string,
  session: { region: string; accountId: string }
): string {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):task-definition\//.exec(id)
  if (!m) return session.region
  const [, region, accountId] = m as unknown as [string, string, string]
  if (accountId !== session.accountId) {
    throw new ActionError(
      `Task definition "${id}" (${input}) belongs to account ${accountId}, but the job's AWS identity is in account ${session.accountId}; ECS task definitions cannot be read across accounts`,
      `Set "role-to-assume" to a role in account ${accountId} that may call ecs:DescribeTaskDefinition there (and "aws-region: ${region}"), or register the family in account ${session.accountId} and render from it.`
    )
  }
  return region
}

/**
 * DescribeTaskDefinition(include TAGS) for a family, `family:revision` or ARN; returns the task definition
 * as a plain document with its tags (when it has any) under `tags`, in the order ECS sent.
 */
export async function describeTaskDefinitionSource(
  ecs: Pick<ECSClient, 'send'>,
  id: string,
  input: string,
  region: string
): Promise<Record<string, unknown>> {
  let out
  try {
    out = await ecs.send(
      new (await loadEcs()).DescribeTaskDefinitionCommand({ taskDefinition: id, include: ['TAGS'] })
    )
  } catch (error) {
    const code = awsErrorCode(error)
    if (
      code === 'ClientException' ||
      code === 'ResourceNotFoundException' ||
      code === 'InvalidParameterException'
    ) {
      throw new ActionError(
        `Task definition "${id}" (${input}) could not be described in ${region}: ${code}: ${(error as Error).message}`,
        `Check the family/revision or ARN${id.startsWith('arn:') ? ` (read in the ARN's region, ${region})` : ' and the region ("aws-region")'}; register the family once before rendering from it.`,
        { cause: error }
      )
    }
    throw describeAwsError(error, { action: 'ecs:DescribeTaskDefinition', resource: id })
  }
  if (!out.taskDefinition) {
    throw new ActionError(
      `ECS returned no task definition for "${id}"`,
      'Check the family/revision or ARN and re-run the job.'
    )
  }
  const doc = JSON.parse(JSON.stringify(out.taskDefinition)) as Record<string, unknown>
  if (out.tags && out.tags.length > 0) doc['tags'] = JSON.parse(JSON.stringify(out.tags)) as unknown
  return doc
}
