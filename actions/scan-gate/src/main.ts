import { ActionError, runAction } from '@shipline/action-kit'
import { getInputs } from './inputs.js'

export async function run(): Promise<void> {
  await runAction('scan-gate', async () => {
    getInputs()
    throw new ActionError('scan-gate is not implemented yet', 'Nothing was changed.')
  })
}
