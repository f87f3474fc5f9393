import { checkedInputs } from '@shipline/action-kit'
import { ACTION_NAME, getInputs } from './inputs.js'

// Every input is checked before the module that does the work (and loads the AWS SDK) is imported.
const inputs = await checkedInputs(ACTION_NAME, () => getInputs())
if (inputs) {
  const { defaultDeps, run } = await import('./main.js')
  await run({ ...defaultDeps(), getInputs: () => inputs })
}
