import { booleanInput, InputError, intInput, optionalInput } from '@shipline/action-kit'
import { resolveRegion } from './region.js'

/** The authentication inputs every Shipline action declares (see packages/aws/action-inputs.yml). */
export const AWS_AUTH_INPUT_NAMES = [
  'role-to-assume',
  'aws-region',
  'audience',
  'role-session-name',
  'role-duration-seconds',
  'role-chaining',
  'max-attempts'
] as const

export type AwsAuthInputName = (typeof AWS_AUTH_INPUT_NAMES)[number]

/** The `default:` strings of action-inputs.yml; inputs without a static default are absent. */
export const AWS_AUTH_DEFAULTS = {
  audience: 'sts.amazonaws.com',
  'role-duration-seconds': '3600',
  'role-chaining': 'false',
  'max-attempts': '5'
} as const satisfies Partial<Record<AwsAuthInputName, string>>

export const ROLE_DURATION_BOUNDS = { min: 900, max: 43200 } as const
export const MAX_ATTEMPTS_BOUNDS = { min: 1, max: 20 } as const
/** STS caps a role-chained session at one hour. */
export const ROLE_CHAINING_MAX_DURATION = 3600

export interface AwsAuthInputs {
  /** The action's name (kebab-case), used in the session name and the user agent. */
  actionName: string
  roleToAssume: string | undefined
  region: string
  audience: string
  roleSessionName: string
  roleDurationSeconds: number
  roleChaining: boolean
  maxAttempts: number
}

/** Reads and validates the shared authentication inputs (never at module load). */
export function getAwsAuthInputs(
  actionName: string,
  env: NodeJS.ProcessEnv = process.env
): AwsAuthInputs {
  const roleToAssume = optionalInput('role-to-assume')
  if (roleToAssume !== undefined) validateRoleArn(roleToAssume)
  const region = resolveRegion(optionalInput('aws-region'), env)
  const audience = optionalInput('audience') ?? AWS_AUTH_DEFAULTS.audience
  const explicitSession = optionalInput('role-session-name')
  if (explicitSession !== undefined) validateSessionName(explicitSession)
  const roleChaining = booleanInput(
    'role-chaining',
    (AWS_AUTH_DEFAULTS['role-chaining'] as string) === 'true'
  )
  const roleDurationSeconds = intInput(
    'role-duration-seconds',
    Number(AWS_AUTH_DEFAULTS['role-duration-seconds']),
    ROLE_DURATION_BOUNDS
  )
  if (roleChaining && roleDurationSeconds > ROLE_CHAINING_MAX_DURATION) {
    throw new InputError(
      'role-duration-seconds',
      `${roleDurationSeconds} exceeds the one-hour limit STS applies to role chaining`,
      `Use at most ${ROLE_CHAINING_MAX_DURATION} with "role-chaining: true".`
    )
  }
  if (roleChaining && roleToAssume === undefined) {
    throw new InputError(
      'role-chaining',
      'is true but "role-to-assume" is empty',
      'Set "role-to-assume" to the role to chain into.'
    )
  }
  const maxAttempts = intInput(
    'max-attempts',
    Number(AWS_AUTH_DEFAULTS['max-attempts']),
    MAX_ATTEMPTS_BOUNDS
  )
  return {
    actionName,
    roleToAssume,
    region,
    audience,
    roleSessionName: explicitSession ?? defaultSessionName(actionName, env),
    roleDurationSeconds,
    roleChaining,
    maxAttempts
  }
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/
const ARN_SHAPE =
  'arn:<partition>:iam::<12-digit account>:role/<path/name>, for example arn:aws:iam::123456789012:role/deploy'

export interface RoleArnParts {
  partition: string
  accountId: string
  /** The role's path and name after `role/`. */
  name: string
}

/** Parses an IAM role ARN; null when it is not one. */
export function parseRoleArn(arn: string): RoleArnParts | null {
  const match = ROLE_ARN.exec(arn)
  if (!match) return null
  return { partition: match[1] as string, accountId: match[2] as string, name: match[3] as string }
}

/** Throws an InputError naming `role-to-assume` and the likely fix when `arn` is not an IAM role ARN. */
export function validateRoleArn(arn: string, input = 'role-to-assume'): RoleArnParts {
  const parts = parseRoleArn(arn)
  if (parts) return parts
  throw new InputError(input, `"${arn}" is not an IAM role ARN`, roleArnHint(arn))
}

function roleArnHint(arn: string): string {
  if (/^arn:[^:]*:sts::[^:]*:assumed-role\//.test(arn)) {
    const m = /^arn:([^:]*):sts::([^:]*):assumed-role\/([^/]+)\//.exec(arn)
    const suggestion = m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : ARN_SHAPE
    return `That is an assumed-role session ARN; use the role's IAM ARN, e.g. ${suggestion}.`
  }
  if (/^arn:[^:]*:iam::[^:]*:(user|group|policy|instance-profile)\//.test(arn)) {
    return `It names an IAM ${/:(user|group|policy|instance-profile)\//.exec(arn)?.[1]}, not a role; expected ${ARN_SHAPE}.`
  }
  const account = /^arn:[^:]*:iam::([^:]*):/.exec(arn)?.[1]
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    return `The account ID "${account}" must be exactly 12 digits (keep leading zeros; quote the value in YAML). Expected ${ARN_SHAPE}.`
  }
  if (!arn.startsWith('arn:')) {
    return `Give the full role ARN, not a bare name: ${ARN_SHAPE}.`
  }
  return `Expected ${ARN_SHAPE} (name: letters, digits and +=,.@_- only, at most 64 characters).`
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

export function validateSessionName(name: string): void {
  if (SESSION_NAME.test(name)) return
  throw new InputError(
    'role-session-name',
    `"${name}" is not a valid session name`,
    'Use 2 to 64 characters from letters, digits and +=,.@_-.'
  )
}

/** `shipline-<action>-<run_id>-<attempt>`, sanitised to STS's `[\w+=,.@-]` and clipped to 64 characters. */
export function defaultSessionName(
  actionName: string,
  env: NodeJS.ProcessEnv = process.env
): string {
  const runId = env['GITHUB_RUN_ID'] || 'local'
  const attempt = env['GITHUB_RUN_ATTEMPT'] || '1'
  const raw = `shipline-${actionName}-${runId}-${attempt}`
  const sanitised = raw.replace(/[^\w+=,.@-]/g, '_').slice(0, 64)
  return sanitised.length >= 2 ? sanitised : `${sanitised}__`.slice(0, 2)
}
