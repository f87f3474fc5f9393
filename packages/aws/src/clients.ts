import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { AwsAuthInputs } from './auth-inputs.js'

/**
 * The configuration every Shipline SDK client gets. It deliberately has no `endpoint`: the SDK then honours
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` itself (that is how the local simulator is reached).
 */
export interface AwsClientConfig {
  region: string
  /** Absent: the client resolves the SDK's default credential chain itself. */
  credentials?: AwsCredentialIdentityProvider
  /** 'adaptive' for every client; 'standard' only where Shipline retries itself (maxAttempts 1). */
  retryMode: 'adaptive' | 'standard'
  maxAttempts: number
  customUserAgent: string
}

export type ClientAuth = Pick<AwsAuthInputs, 'actionName' | 'region' | 'maxAttempts'>

export function userAgentSuffix(actionName: string): string {
  return `shipline/${actionName}`
}

export function clientConfig(
  auth: ClientAuth,
  credentials?: AwsCredentialIdentityProvider
): AwsClientConfig {
  const config: AwsClientConfig = {
    region: auth.region,
    retryMode: 'adaptive',
    maxAttempts: auth.maxAttempts,
    customUserAgent: userAgentSuffix(auth.actionName)
  }
  if (credentials) config.credentials = credentials
  return config
}

/** Builds a typed SDK client from the shared config: `makeClient(ECRClient, session.config)`. */
export function makeClient<C>(
  Client: new (config: AwsClientConfig) => C,
  config: AwsClientConfig
): C {
  return new Client(config)
}
