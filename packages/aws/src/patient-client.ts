import { core } from '@shipline/action-kit'
import { errorMessage, redactSecrets } from '@shipline/action-kit'
import { awsErrorCode } from './aws-errors.js'
import { backoffDelay, isTransientError, realSleep } from './retry.js'

/** The operation a command sends (from its schema, which survives minification), e.g. "DescribeImages". */
export function operationName(command: unknown): string {
  const schema = (command as { schema?: unknown } | undefined)?.schema
  if (Array.isArray(schema) && typeof schema[2] === 'string') return schema[2]
  const name = (command as { constructor?: { name?: string } } | undefined)?.constructor?.name
  return name && name.endsWith('Command') ? name.slice(0, -'Command'.length) : 'The AWS call'
}

export interface PatienceOptions {
  /** How long (ms) to keep retrying transient failures of one call, counted from its first attempt. */
  budgetMs: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  /** Backoff between whole calls (after the SDK's own attempts gave up): base and cap in ms. */
  baseDelayMs?: number
  maxDelayMs?: number
  log?: (message: string) => void
}

/**
 * Wraps an SDK client so that a call the SDK gave up on because of throttling, 5xx answers or connection resets is
 * sent again, with jittered backoff, until `budgetMs` has passed since its first attempt. A throttling storm that
 * outlasts the SDK's few attempts (seconds) then slows the action down instead of failing it; anything else
 * (access denied, validation, not found) still fails on the first answer. The client keeps its type.
 */
export function patientClient<C extends { send: (...args: never[]) => Promise<unknown> }>(
  client: C,
  options: PatienceOptions
): C {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? realSleep
  const random = options.random ?? Math.random
  const log = options.log ?? ((message: string) => core.info(message))
  const send = async (...args: Parameters<C['send']>): Promise<unknown> => {
    const started = now()
    for (let round = 1; ; round++) {
      try {
        return await (client.send as (...a: unknown[]) => Promise<unknown>).apply(client, args)
      } catch (error) {
        if (!isTransientError(error)) throw error
        const delay = backoffDelay(
          round,
          random,
          options.baseDelayMs ?? 1000,
          options.maxDelayMs ?? 8000
        )
        if (now() + delay - started > options.budgetMs) throw error
        log(
          redactSecrets(
            `${operationName(args[0])} failed transiently (${awsErrorCode(error) ?? errorMessage(error)}); trying again in ${(delay / 1000).toFixed(1)}s`
          )
        )
        await sleep(delay)
      }
    }
  }
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return send
      return Reflect.get(target, property, receiver) as unknown
    }
  })
}
