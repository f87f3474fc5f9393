/**
 * `@aws-sdk/client-sts`, loaded on the first STS call and never on import: loading an SDK client costs more than
 * an action's whole validation path, so a run that fails on its inputs must not pay for it (issue 15). `import()`
 * caches the module: later calls resolve at once.
 */
export type StsModule = typeof import('@aws-sdk/client-sts')

export function loadSts(): Promise<StsModule> {
  return import('@aws-sdk/client-sts')
}
