import { core } from '@shipline/action-kit'
import { ActionError, errorMessage } from '@shipline/action-kit'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { AwsAuthInputs } from './auth-inputs.js'
import { awsErrorCode, describeAwsError } from './aws-errors.js'
import { type AwsClientConfig, clientConfig, makeClient } from './clients.js'
import { type CredentialDeps, getCredentials } from './credentials.js'
import { isTransientError, realSleep, withRetries } from './retry.js'
import { loadSts } from './sdk.js'

export interface CallerIdentity {
  accountId: string
  arn: string
}

/** An authenticated AWS session: the shared client config, who we are, and a typed-client builder. */
export interface AwsSession {
  region: string
  /** Absent when the SDK's default chain supplies the credentials. */
  credentials: AwsCredentialIdentityProvider | undefined
  config: AwsClientConfig
  identity: CallerIdentity
  client<C>(Client: new (config: AwsClientConfig) => C): C
}

/**
 * Authenticates once per action run: assumes the role (failing early and clearly), then calls
 * GetCallerIdentity once and returns the shared client config plus `{accountId, arn}`.
 */
export async function createAwsClients(
  auth: AwsAuthInputs,
  deps: CredentialDeps = {}
): Promise<AwsSession> {
  const credentials = getCredentials(auth, deps)
  if (credentials) await credentials()
  const config = clientConfig(auth, credentials)
  const identity = await getCallerIdentity(config, {
    assumed: credentials !== undefined,
    deps,
    maxAttempts: auth.maxAttempts
  })
  const info = deps.info ?? ((message: string) => core.info(message))
  info(`AWS identity: ${identity.arn} (account ${identity.accountId}, region ${auth.region})`)
  return {
    region: auth.region,
    credentials,
    config,
    identity,
    client: (Client) => makeClient(Client, config)
  }
}

const CREDENTIALS_MISSING =
  /Could not load credentials|Unable to load credentials|credentials? (?:are|is) missing/i

/** STS GetCallerIdentity with our own retries (fresh credentials can be rejected for a few seconds). */
export async function getCallerIdentity(
  config: AwsClientConfig,
  options: { assumed?: boolean; deps?: CredentialDeps; maxAttempts?: number } = {}
): Promise<CallerIdentity> {
  const { GetCallerIdentityCommand, STSClient } = await loadSts()
  const sts = makeClient(STSClient, { ...config, retryMode: 'standard', maxAttempts: 1 })
  const deps = options.deps ?? {}
  try {
    const out = await withRetries(() => sts.send(new GetCallerIdentityCommand({})), {
      maxAttempts: options.maxAttempts ?? config.maxAttempts,
      sleep: deps.sleep ?? realSleep,
      random: deps.random,
      retryable: (error) =>
        isTransientError(error) ||
        (options.assumed === true && awsErrorCode(error) === 'InvalidClientTokenId')
    })
    if (!out.Account || !out.Arn)
      throw new ActionError('STS GetCallerIdentity returned no account or ARN', 'Re-run the job')
    return { accountId: out.Account, arn: out.Arn }
  } catch (error) {
    if (error instanceof ActionError) throw error
    if (
      !options.assumed &&
      (CREDENTIALS_MISSING.test(errorMessage(error)) ||
        awsErrorCode(error) === 'CredentialsProviderError')
    ) {
      throw new ActionError(
        'No AWS credentials: "role-to-assume" is empty and the environment provides none',
        'Set "role-to-assume" to an IAM role ARN and grant the job "permissions: id-token: write", or provide credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an instance role)',
        { cause: error }
      )
    }
    throw describeAwsError(error, { action: 'sts:GetCallerIdentity' })
  }
}
