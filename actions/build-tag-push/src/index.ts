import { checkedInputs } from '@shipline/action-kit'
import { ACTION_NAME, getInputs } from './inputs.js'
import { runPhase } from './phase.js'

await runPhase({
  post: async () => {
    const { defaultDeps, runPost } = await import('./main.js')
    await runPost(defaultDeps())
  },
  main: async () => {
    // Every input is checked before the module that does the work (and loads the AWS SDK) is imported.
    const inputs = await checkedInputs(ACTION_NAME, () => getInputs(process.env))
    if (!inputs) return
    const { defaultDeps, runMain } = await import('./main.js')
    await runMain({ ...defaultDeps(), inputs })
  }
})
