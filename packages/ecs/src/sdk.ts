/**
 * The SDK clients packages/ecs sends commands with, each loaded on its first call and never on import: a run that
 * fails on its inputs, or renders a task definition without calling AWS, must not pay for loading them (issue 15).
 * `import()` caches each module: later calls resolve at once.
 */
export type EcsModule = typeof import('@aws-sdk/client-ecs')
export type CodeDeployModule = typeof import('@aws-sdk/client-codedeploy')
/** What the CodeDeploy code needs of a client: deploy-ecs creates the real one only for a CODE_DEPLOY service. */
export type CodeDeploySender = Pick<import('@aws-sdk/client-codedeploy').CodeDeployClient, 'send'>

export function loadEcs(): Promise<EcsModule> {
  return import('@aws-sdk/client-ecs')
}

export function loadCodeDeploy(): Promise<CodeDeployModule> {
  return import('@aws-sdk/client-codedeploy')
}
