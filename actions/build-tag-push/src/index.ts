import { checkedInputs, core } from '@shipline/action-kit'
import { ACTION_NAME, getInputs } from './inputs.js'
import { PHASE_STATE } from './phase.js'

if (core.getState(PHASE_STATE) === 'main') {
  const { defaultDeps, runPost } = await import('./main.js')
  await runPost(defaultDeps())
} else {
  // Saved first, so that the post step cleans up even when the main step fails on its inputs.
  core.saveState(PHASE_STATE, 'main')
  // Every input is checked before the module that does the work (and loads the AWS SDK) is imported.
  const inputs = await checkedInputs(ACTION_NAME, () => getInputs(process.env))
  if (inputs) {
    const { defaultDeps, runMain } = await import('./main.js')
    await runMain({ ...defaultDeps(), inputs })
  }
}
