/**
 * Checks that the least-privilege policy of each action (docs/iam/<action>.json) allows every AWS operation the
 * action was seen calling (the simulator's request log). Only `Action` is matched (with IAM's * and ? wildcards);
 * resource ARNs and conditions are documentation, not checked here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './runner.js'

export interface PolicyDocument {
  Statement: { Effect: string; Action?: string | string[] }[]
}

export interface Call {
  action: string
  iamAction: string
}

/** Operations AWS authorises without any IAM permission. */
export const NO_PERMISSION_NEEDED = new Set(['sts:GetCallerIdentity'])

export function loadPolicy(action: string): PolicyDocument {
  return JSON.parse(
    readFileSync(join(REPO_ROOT, 'docs/iam', `${action}.json`), 'utf8')
  ) as PolicyDocument
}

function matches(pattern: string, iamAction: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i'
  )
  return regex.test(iamAction)
}

export function allows(policy: PolicyDocument, iamAction: string): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === 'Allow' && [s.Action ?? []].flat().some((pattern) => matches(pattern, iamAction))
  )
}

/** The calls no statement of their action's policy allows, as "<action> <iam action>". */
export function uncovered(
  calls: readonly Call[],
  policyOf: (action: string) => PolicyDocument = loadPolicy
): string[] {
  return calls
    .filter((c) => !NO_PERMISSION_NEEDED.has(c.iamAction))
    .filter((c) => !allows(policyOf(c.action), c.iamAction))
    .map((c) => `${c.action} ${c.iamAction}`)
}
