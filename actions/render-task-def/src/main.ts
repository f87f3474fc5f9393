import { ActionError, runAction } from '@shipline/action-kit'
import { getInputs } from './inputs.js'

export async function run(): Promise<void> {
  await runAction('render-task-def', async () => {
    getInputs()
    throw new ActionError('render-task-def is not implemented yet', 'Nothing was changed.')
  })
}
