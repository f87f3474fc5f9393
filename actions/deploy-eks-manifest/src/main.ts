import { ActionError, runAction } from '@shipline/action-kit'
import { getInputs } from './inputs.js'

export async function run(): Promise<void> {
  await runAction('deploy-eks-manifest', () => {
    const inputs = getInputs()
    throw new ActionError(
      `deploy-eks-manifest is not implemented yet; nothing was applied to cluster "${inputs.clusterName}"`,
      'Apply the manifests with kubectl until the Shipline deploy-eks-manifest release.'
    )
  })
}
