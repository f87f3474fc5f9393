import { core } from '@shipline/action-kit'

/** The saved state that tells the post step from the main step: "main" once the main step has started. */
export const PHASE_STATE = 'phase'

/**
 * Runs the post step when the main step already ran in this job; otherwise records that the main step started
 * (first, so that the post step cleans up even when the main step fails on its inputs) and runs it.
 */
export async function runPhase(steps: {
  main(): Promise<void>
  post(): Promise<void>
}): Promise<void> {
  if (core.getState(PHASE_STATE) === 'main') return steps.post()
  core.saveState(PHASE_STATE, 'main')
  return steps.main()
}
