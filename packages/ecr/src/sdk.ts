/**
 * `@aws-sdk/client-ecr`, loaded on the first ECR call and never on import: a run that fails on its inputs must not
 * pay for loading an SDK client (issue 15).
 */
export type EcrModule = typeof import('@aws-sdk/client-ecr')

let ecr: Promise<EcrModule> | undefined

export function loadEcr(): Promise<EcrModule> {
  return (ecr ??= import('@aws-sdk/client-ecr'))
}
