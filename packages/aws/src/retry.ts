/** Error names AWS uses for throttling and transient server-side failures. */
const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError'
])

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT'
])

/** True for throttling, 5xx, IDPCommunicationError, timeouts and network failures; false for everything else. */
export function isTransientError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const e = error as {
    name?: unknown
    code?: unknown
    $metadata?: { httpStatusCode?: unknown }
    $retryable?: unknown
    cause?: unknown
  }
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true
  const status = e.$metadata?.httpStatusCode
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true
  if (e.$retryable && typeof e.$retryable === 'object') return true
  if (e.cause && e.cause !== error) return isTransientError(e.cause)
  return false
}

export interface RetryOptions {
  /** Total attempts, including the first (≥ 1). */
  maxAttempts: number
  sleep: (ms: number) => Promise<void>
  /** A number in [0, 1); Math.random by default. */
  random?: () => number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Which failures to retry; isTransientError by default. */
  retryable?: (error: unknown) => boolean
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

/** Full-jitter exponential backoff: a delay in [0, min(max, base·2^(attempt-1))], plus base/2 so it is never zero. */
export function backoffDelay(
  attempt: number,
  random: () => number,
  baseDelayMs = 200,
  maxDelayMs = 10_000
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(baseDelayMs / 2 + random() * ceiling)
}

/** Runs `fn`, retrying only retryable failures with bounded jittered backoff; rethrows the last error. */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions
): Promise<T> {
  const retryable = options.retryable ?? isTransientError
  const random = options.random ?? Math.random
  const attempts = Math.max(1, options.maxAttempts)
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error
      const delay = backoffDelay(attempt, random, options.baseDelayMs, options.maxDelayMs)
      options.onRetry?.(error, attempt, delay)
      await options.sleep(delay)
    }
  }
}

export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))
