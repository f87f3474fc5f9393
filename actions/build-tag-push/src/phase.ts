/** The saved state that tells the post step from the main step: "main" once the main step has started. */
export const PHASE_STATE = 'phase'
