import * as core from './workflow-commands.js'
import { ActionError, errorMessage } from './errors.js'
import { redactSecrets } from './masking.js'
import { withParsers } from './parsers.js'

function debugEnabled(): boolean {
  return process.env['SHIPLINE_DEBUG'] === 'true' || process.env['RUNNER_DEBUG'] === '1'
}

/**
 * The single catch of every action: failures become `::error::<name>: <message>` and exit code 1.
 * Stack traces go to the debug log only (and to the main log when SHIPLINE_DEBUG/RUNNER_DEBUG is set).
 */
export async function runAction(name: string, body: () => Promise<void> | void): Promise<void> {
  try {
    await body()
  } catch (error) {
    const expected = error instanceof ActionError
    // an AWS or registry error can echo a request (a token, a password): never print a registered secret
    core.setFailed(redactSecrets(`${name}: ${errorMessage(error)}`))
    const raw = error instanceof Error ? error.stack : undefined
    const stack = raw === undefined ? undefined : redactSecrets(raw)
    if (stack) {
      if (debugEnabled()) core.info(stack)
      else if (!expected) core.debug(stack)
    }
  }
}

/**
 * Parses an action's inputs under the same error reporting as `runAction`, for an entry point that loads the module
 * doing the work (and with it the AWS SDK) only once every input is valid: a run failing on its inputs exits
 * without paying for the SDK (issue 15). Returns undefined when the failure has been reported.
 */
export async function checkedInputs<I>(name: string, parse: () => I): Promise<I | undefined> {
  let inputs: I | undefined
  await runAction(name, async () => {
    inputs = await withParsers(parse)
  })
  return inputs
}
