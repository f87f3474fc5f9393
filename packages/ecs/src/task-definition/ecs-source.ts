/** Loads the source task definition from ECS (DescribeTaskDefinition with tags). */
import { DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs'
import { ActionError } from '@shipline/action-kit'
import { awsErrorCode, describeAwsError } from '@shipline/aws'

/** Family names: letters, digits, hyphens and underscores, up to 255. */
export const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/
export const TASK_DEFINITION_ARN_PATTERN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}(?::[1-9]\d*)?$/

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
      new DescribeTaskDefinitionCommand({ taskDefinition: id, include: ['TAGS'] })
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
        'Check the family/revision or ARN and the region ("aws-region"); register the family once before rendering from it.',
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
