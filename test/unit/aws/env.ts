/** Sets environment variables for one test and restores the previous values afterwards. */
export function envSandbox(): {
  set(vars: Record<string, string | undefined>): void
  restore(): void
} {
  const saved = new Map<string, string | undefined>()
  return {
    set(vars) {
      for (const [name, value] of Object.entries(vars)) {
        if (!saved.has(name)) saved.set(name, process.env[name])
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    },
    restore() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      saved.clear()
    }
  }
}

/** Variables that would let the SDK's default chain find credentials or endpoints outside the test. */
export const ISOLATED_AWS_ENV: Record<string, string | undefined> = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_REGION: undefined,
  AWS_DEFAULT_REGION: undefined,
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_STS: undefined,
  AWS_ENDPOINT_URL_ECR: undefined,
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_ROLE_ARN: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/shipline-test/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/shipline-test/credentials',
  ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined
}
