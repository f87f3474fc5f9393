/**
 * `@aws-sdk/client-sts`, loaded on the first STS call and never on import: loading an SDK client costs more than
 * an action's whole validation path, so a run that fails on its inputs must not pay for it (issue 15).
 */
export type StsModule = typeof import('@aws-sdk/client-sts')

let sts: Promise<StsModule> | undefined

export function loadSts(): Promise<StsModule> {
  return (sts ??= import('@aws-sdk/client-sts'))
}
