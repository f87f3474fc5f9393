/**
 * `@aws-sdk/client-ecr`, loaded on the first ECR call and never on import: a run that fails on its inputs must not
 * pay for loading an SDK client (issue 15). `import()` caches the module: later calls resolve at once.
 */
export type EcrModule = typeof import('@aws-sdk/client-ecr')

export function loadEcr(): Promise<EcrModule> {
  return import('@aws-sdk/client-ecr')
}
