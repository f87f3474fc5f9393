import { ActionError, errorMessage } from '@shipline/action-kit'
import { isTransientError } from './retry.js'

export interface AwsErrorContext {
  /** The IAM action of the failed call, e.g. `ecr:PutImage`. */
  action: string
  /** The resource it acted on: a name or an ARN. */
  resource?: string
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
  'NotAuthorized'
])
const EXPIRED = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'TokenRefreshRequired'
])
const BAD_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature'
])

/** The AWS error code of an SDK error (`name`, or `Code` on some protocols). */
export function awsErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined
  const e = error as { name?: unknown; Code?: unknown; code?: unknown }
  if (typeof e.Code === 'string') return e.Code
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name
  if (typeof e.code === 'string') return e.code
  return undefined
}

export function isAccessDenied(error: unknown): boolean {
  const code = awsErrorCode(error)
  return (
    (code !== undefined && ACCESS_DENIED.has(code)) ||
    /is not authorized to perform/i.test(errorMessage(error))
  )
}

/**
 * Wraps a failed AWS call into an ActionError that names the operation, the AWS error code, the resource and
 * the fix; for access denials, the exact IAM action to grant (and to whom, when AWS said so).
 */
export function describeAwsError(error: unknown, context: AwsErrorContext): ActionError {
  if (error instanceof ActionError) return error
  const code = awsErrorCode(error) ?? 'UnknownError'
  const message = errorMessage(error)
  const on = context.resource ? ` on ${context.resource}` : ''
  const meta = (error as { $metadata?: { requestId?: string; attempts?: number } } | undefined)
    ?.$metadata
  const request = meta?.requestId ? ` (request ID ${meta.requestId})` : ''
  const what = `${context.action}${on} failed: ${code}: ${message.replace(/\.$/, '')}${request}`
  let hint: string
  if (isAccessDenied(error)) {
    const principal = /User: (\S+) is not authorized/.exec(message)?.[1]
    const who = principal ? `the principal ${principal}` : 'the role this action runs as'
    const resource = context.resource ? ` on the resource ${context.resource}` : ''
    hint =
      `Grant ${who} the IAM permission "${context.action}"${resource} ` +
      `(an identity policy statement {"Effect": "Allow", "Action": "${context.action}", "Resource": "${context.resource && context.resource.startsWith('arn:') ? context.resource : '<resource ARN>'}"}), ` +
      'and check that no permissions boundary, SCP or resource policy denies it'
  } else if (EXPIRED.has(code)) {
    hint =
      'The AWS credentials expired. Shipline refreshes OIDC credentials itself; with ambient credentials, make them last for the whole job'
  } else if (BAD_CREDENTIALS.has(code)) {
    hint =
      'AWS rejected the credentials themselves. Check which credentials the job provides (role-to-assume, or AWS_* variables) and their account'
  } else if (isTransientError(error)) {
    const attempts = meta?.attempts
      ? ` after ${meta.attempts} attempt${meta.attempts === 1 ? '' : 's'}`
      : ''
    hint = `AWS was throttling or unavailable${attempts}. Re-run the job, or raise "max-attempts"`
  } else {
    hint = `Check the ${context.action} parameters${context.resource ? ` and that ${context.resource} exists in this account and region` : ''}`
  }
  return new ActionError(what, `${hint}.`, { cause: error })
}
