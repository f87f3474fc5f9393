import { ActionError, runAction } from '@shipline/action-kit'
import { getInputs } from './inputs.js'

export async function run(): Promise<void> {
  await runAction('build-tag-push', async () => {
    getInputs()
    throw new ActionError('build-tag-push is not implemented yet', 'Nothing was changed.')
  })
}
