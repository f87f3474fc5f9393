import { core } from '@shipline/action-kit'
import type { Credentials, STSClient } from '@aws-sdk/client-sts'
import { ActionError, errorMessage, maskSecret } from '@shipline/action-kit'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import type { AwsAuthInputs } from './auth-inputs.js'
import { awsErrorCode } from './aws-errors.js'
import { clientConfig, makeClient } from './clients.js'
import {
  decodeTokenClaims,
  describeClaims,
  trustPolicyFor,
  type TokenClaims
} from './oidc-claims.js'
import { isTransientError, realSleep, withRetries } from './retry.js'
import { loadSts, type StsModule } from './sdk.js'

export interface CredentialDeps {
  /** Fetches the GitHub OIDC token for an audience; `core.getIDToken` by default. */
  getIDToken?: (audience: string) => Promise<string>
  sleep?: (ms: number) => Promise<void>
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number
  random?: () => number
  env?: NodeJS.ProcessEnv
  info?: (message: string) => void
}

/**
 * Re-assume this long before the credentials expire. Larger than the SDK's own 5-minute window, so every
 * SDK client that asks for fresh credentials gets a new session rather than the one it just dropped.
 */
export const CREDENTIAL_REFRESH_MARGIN_MS = 10 * 60_000

/** STS errors that retrying cannot fix: fail on the first one. */
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'ExpiredToken',
  'ExpiredTokenException'
])

/**
 * The credentials provider for SDK clients:
 * - `role-to-assume` → GitHub OIDC token + STS AssumeRoleWithWebIdentity;
 * - `role-to-assume` + `role-chaining` → STS AssumeRole with the ambient credentials;
 * - no role → undefined: each client uses the SDK's default credential chain.
 * The provider is memoized and re-assumes (new ID token, new STS call) shortly before expiry.
 */
export function getCredentials(
  auth: AwsAuthInputs,
  deps: CredentialDeps = {}
): AwsCredentialIdentityProvider | undefined {
  if (!auth.roleToAssume) return undefined
  const roleArn = auth.roleToAssume
  const d = resolveDeps(deps)
  let sts: STSClient | undefined
  // One attempt per send: retries are ours (classified, injectable sleep), so a denial is exactly one STS call;
  // 'standard' because the adaptive rate limiter would add its own real-time delays between our attempts.
  const client = async (): Promise<{ sts: STSClient; sdk: StsModule }> => {
    const sdk = await loadSts()
    sts ??= makeClient(sdk.STSClient, {
      ...clientConfig(auth),
      retryMode: 'standard',
      maxAttempts: 1
    })
    return { sts, sdk }
  }
  const assume = auth.roleChaining
    ? async () => assumeRoleChained(await client(), roleArn, auth, d)
    : async () => assumeRoleWithOidc(await client(), roleArn, auth, d)
  return refreshingProvider(assume, d.now)
}

/**
 * Memoizes `load` until `marginMs` before the credentials' expiration (at most half their lifetime, so short-lived
 * credentials are still reused rather than re-fetched on every call); concurrent callers share one fetch.
 * `{ forceRefresh: true }` fetches anew regardless.
 */
export function refreshingProvider(
  load: () => Promise<AwsCredentialIdentity>,
  now: () => number = Date.now,
  marginMs = CREDENTIAL_REFRESH_MARGIN_MS
): AwsCredentialIdentityProvider {
  let current: { credentials: AwsCredentialIdentity; refreshAt: number } | undefined
  let pending: Promise<AwsCredentialIdentity> | undefined
  return async (options?: { forceRefresh?: boolean }) => {
    // forceRefresh: a service answered ExpiredToken although our clock said the credentials were valid (skew).
    if (options?.forceRefresh && !pending) current = undefined
    if (current && now() < current.refreshAt) return current.credentials
    pending ??= (async () => {
      const fetchedAt = now()
      const credentials = await load()
      const expiresAt = credentials.expiration?.getTime() ?? Infinity
      const margin = Math.min(marginMs, Math.max(0, (expiresAt - fetchedAt) / 2))
      current = { credentials, refreshAt: expiresAt - margin }
      return credentials
    })().finally(() => {
      pending = undefined
    })
    return pending
  }
}

type ResolvedDeps = Required<CredentialDeps>

function resolveDeps(deps: CredentialDeps): ResolvedDeps {
  return {
    getIDToken: deps.getIDToken ?? ((audience) => core.getIDToken(audience)),
    sleep: deps.sleep ?? realSleep,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    env: deps.env ?? process.env,
    info: deps.info ?? ((message) => core.info(message))
  }
}

/** Requests the GitHub OIDC token (masked at once), with a clear error when the job lacks `id-token: write`. */
export async function fetchIdToken(
  audience: string,
  deps: CredentialDeps = {},
  maxAttempts = 3
): Promise<string> {
  const d = resolveDeps(deps)
  const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'].filter(
    (name) => !d.env[name]
  )
  if (missing.length > 0) {
    throw new ActionError(
      `Cannot request a GitHub OIDC token for "role-to-assume": ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
      'Grant the job "permissions: id-token: write" (with "contents: read") in the workflow; GitHub issues no OIDC token to pull requests from forks. ' +
        'Or remove "role-to-assume" to use credentials already in the environment'
    )
  }
  try {
    const token = await withRetries(() => d.getIDToken(audience), {
      maxAttempts,
      sleep: d.sleep,
      random: d.random,
      retryable: () => true,
      onRetry: (error, attempt) =>
        d.info(
          `Requesting the GitHub OIDC token failed (attempt ${attempt}): ${errorMessage(error)}; retrying`
        )
    })
    maskSecret(token)
    return token
  } catch (error) {
    throw new ActionError(
      `Could not get a GitHub OIDC token for audience "${audience}": ${errorMessage(error).replace(/\s+/g, ' ').trim()}`,
      'Check that the job has "permissions: id-token: write" and that the "audience" input is right',
      { cause: error }
    )
  }
}

async function assumeRoleWithOidc(
  { sts, sdk }: { sts: STSClient; sdk: StsModule },
  roleArn: string,
  auth: AwsAuthInputs,
  d: ResolvedDeps
): Promise<AwsCredentialIdentity> {
  const token = await fetchIdToken(auth.audience, d)
  const claims = decodeTokenClaims(token)
  try {
    const out = await withRetries(
      () =>
        sts.send(
          new sdk.AssumeRoleWithWebIdentityCommand({
            RoleArn: roleArn,
            RoleSessionName: auth.roleSessionName,
            DurationSeconds: auth.roleDurationSeconds,
            WebIdentityToken: token
          })
        ),
      retryOptions(auth, d, 'AssumeRoleWithWebIdentity')
    )
    return toIdentity(out.Credentials, out.AssumedRoleUser?.Arn, auth, d)
  } catch (error) {
    throw oidcError(error, roleArn, claims, auth)
  }
}

async function assumeRoleChained(
  { sts, sdk }: { sts: STSClient; sdk: StsModule },
  roleArn: string,
  auth: AwsAuthInputs,
  d: ResolvedDeps
): Promise<AwsCredentialIdentity> {
  try {
    const out = await withRetries(
      () =>
        sts.send(
          new sdk.AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: auth.roleSessionName,
            DurationSeconds: auth.roleDurationSeconds
          })
        ),
      retryOptions(auth, d, 'AssumeRole')
    )
    return toIdentity(out.Credentials, out.AssumedRoleUser?.Arn, auth, d)
  } catch (error) {
    if (error instanceof ActionError) throw error
    const code = awsErrorCode(error) ?? 'UnknownError'
    const what = `STS AssumeRole into ${roleArn} (role-chaining) failed: ${code}: ${errorMessage(error)}`
    if (DENIED.has(code)) {
      throw new ActionError(
        what,
        `Allow the ambient credentials' principal to call "sts:AssumeRole" on ${roleArn} (its identity policy), and name that principal in the role's trust policy. ` +
          'Role chaining needs credentials already in the environment (e.g. from an earlier step)',
        { cause: error }
      )
    }
    if (
      /Could not load credentials/i.test(errorMessage(error)) ||
      code === 'CredentialsProviderError'
    ) {
      throw new ActionError(
        `role-chaining is true but no ambient AWS credentials were found to assume ${roleArn}`,
        'Provide credentials first (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN or an earlier authentication step), or set role-chaining to false to use OIDC',
        { cause: error }
      )
    }
    throw new ActionError(what, otherStsHint(error, auth), { cause: error })
  }
}

function retryOptions(auth: AwsAuthInputs, d: ResolvedDeps, operation: string) {
  return {
    maxAttempts: auth.maxAttempts,
    sleep: d.sleep,
    random: d.random,
    retryable: (error: unknown) =>
      !DENIED.has(awsErrorCode(error) ?? '') && isTransientError(error),
    onRetry: (error: unknown, attempt: number, delayMs: number) =>
      d.info(
        `STS ${operation} attempt ${attempt} of ${auth.maxAttempts} failed (${awsErrorCode(error) ?? 'error'}: ${errorMessage(error)}); retrying in ${delayMs} ms`
      )
  }
}

/** Masks all three parts before anything else can see them, then logs only the role ARN and the expiry. */
function toIdentity(
  credentials: Credentials | undefined,
  assumedRoleArn: string | undefined,
  auth: AwsAuthInputs,
  d: ResolvedDeps
): AwsCredentialIdentity {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
    throw new ActionError(
      'STS returned no credentials',
      'This is unexpected; re-run the job, and report it if it persists'
    )
  }
  maskSecret(credentials.AccessKeyId)
  maskSecret(credentials.SecretAccessKey)
  maskSecret(credentials.SessionToken)
  const expiration = credentials.Expiration ?? new Date(d.now() + auth.roleDurationSeconds * 1000)
  d.info(
    `Assumed role ${assumedRoleArn ?? auth.roleToAssume ?? ''}; credentials expire at ${expiration.toISOString()}`
  )
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
    expiration
  }
}

function oidcError(
  error: unknown,
  roleArn: string,
  claims: TokenClaims | null,
  auth: AwsAuthInputs
): ActionError {
  if (error instanceof ActionError) return error
  const code = awsErrorCode(error) ?? 'UnknownError'
  const message = errorMessage(error)
  const what = `STS AssumeRoleWithWebIdentity into ${roleArn} failed: ${code}: ${message.replace(/\.$/, '')}`
  if (DENIED.has(code)) {
    const lead = /Expired/i.test(code)
      ? `The GitHub OIDC token (${describeClaims(claims)}) had expired when STS checked it; re-run the job, and check the runner's clock`
      : `The role's trust policy does not admit this GitHub OIDC token (${describeClaims(claims)})`
    return new ActionError(
      what,
      `${lead}. A trust-policy statement that admits exactly this subject: ${trustPolicyFor(claims, roleArn)} ` +
        '(list each further branch or environment that needs this role as its own "sub" value; a wildcard such as ' +
        '"repo:<owner>/<repo>:*" would admit every branch and pull request). ' +
        "Claims are matched case-sensitively; the OIDC provider must exist in the role's account with the audience " +
        `"${claims?.aud ?? auth.audience}"`,
      { cause: error }
    )
  }
  return new ActionError(what, otherStsHint(error, auth), { cause: error })
}

function otherStsHint(error: unknown, auth: AwsAuthInputs): string {
  const message = errorMessage(error)
  if (/DurationSeconds|MaxSessionDuration/i.test(message)) {
    return `Lower "role-duration-seconds" (now ${auth.roleDurationSeconds}) or raise the role's maximum session duration`
  }
  if (awsErrorCode(error) === 'RegionDisabledException') {
    return `Activate STS in region ${auth.region} (IAM → Account settings), or use another "aws-region"`
  }
  if (isTransientError(error)) {
    return `STS kept failing after ${auth.maxAttempts} attempts; re-run the job or raise "max-attempts"`
  }
  return 'Check "role-to-assume", "role-session-name" and "role-duration-seconds"'
}
