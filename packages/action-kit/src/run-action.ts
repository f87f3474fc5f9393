import * as core from './workflow-commands.js'
import { ActionError, errorMessage } from './errors.js'

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
    core.setFailed(`${name}: ${errorMessage(error)}`)
    const stack = error instanceof Error ? error.stack : undefined
    if (stack) {
      if (debugEnabled()) core.info(stack)
      else if (!expected) core.debug(stack)
    }
  }
}
