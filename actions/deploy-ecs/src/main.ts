import { ActionError, runAction } from '@shipline/action-kit'
import { getInputs } from './inputs.js'

export async function run(): Promise<void> {
  await runAction('deploy-ecs', () => {
    const inputs = getInputs()
    throw new ActionError(
      `deploy-ecs is not implemented yet; nothing was deployed to service "${inputs.service}" in cluster "${inputs.cluster}"`,
      'Use aws-actions/amazon-ecs-deploy-task-definition until the Shipline deploy-ecs release.'
    )
  })
}
