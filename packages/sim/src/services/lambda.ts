/**
 * Lambda functions as deployment lifecycle hooks see them. No code runs: a test seeds each function with the
 * outcome it reports (`POST /_sim/lambda/functions`), and the ECS and CodeDeploy models ask this registry what an
 * invocation of a hook target returns. Every invocation is recorded with its payload
 * (`GET /_sim/lambda/invocations`), so a test can assert what the service sent.
 *
 * How each service turns the outcome into hook behaviour is the service model's job (ECS-native hooks read the
 * function's `hookStatus` answer; a CodeDeploy hook function reports through PutLifecycleEventHookExecutionStatus).
 * A hook target that names no seeded function fails the way an invocation of a missing function does
 * (ResourceNotFoundException).
 */
import { AwsError, type AdminHandler, type Clock, type ServiceModule } from '../core/types.js'
import { isObj, text, type Json } from './ecs-util.js'

export type HookOutcome = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS'

export interface HookFunction {
  name: string
  arn: string
  /** Outcomes of successive invocations; the last one repeats. */
  outcomes: HookOutcome[]
  /** Text the function reports with a FAILED outcome (a CodeDeploy hook's status message, a log line). */
  message: string | undefined
  /** Simulated time an invocation takes before its outcome is known. */
  durationMs: number
}

export interface HookInvocation {
  functionArn: string
  at: number
  payload: Json
}

export type InvokeResult =
  | { found: true; outcome: HookOutcome; message: string | undefined; durationMs: number }
  | { found: false; error: string }

export interface LambdaModule extends ServiceModule {
  /** What invoking `arn` (a function ARN, a qualified ARN, or a bare name) with `payload` returns at time `t`. */
  invoke(arn: string, payload: Json, t: number): InvokeResult
  readonly functions: Map<string, HookFunction>
  readonly invocations: HookInvocation[]
}

const OUTCOMES: readonly HookOutcome[] = ['SUCCEEDED', 'FAILED', 'IN_PROGRESS']
const FUNCTION_ARN =
  /^arn:aws[\w-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(:[\w$-]+)?$/

export function createLambdaService(deps: {
  clock: Clock
  accountId: string
  region: string
}): LambdaModule {
  const functions = new Map<string, HookFunction>()
  const invocations: HookInvocation[] = []
  const counts = new Map<string, number>()

  const nameOf = (ref: string): string | undefined => {
    const m = FUNCTION_ARN.exec(ref)
    if (m) return m[1] === deps.region && m[2] === deps.accountId ? m[3] : undefined
    return /^[A-Za-z0-9_-]{1,64}$/.test(ref) ? ref : undefined
  }

  const invoke = (arn: string, payload: Json, t: number): InvokeResult => {
    invocations.push({ functionArn: arn, at: t, payload: structuredClone(payload) })
    const name = nameOf(arn)
    const fn = name === undefined ? undefined : functions.get(name)
    if (!fn) {
      return {
        found: false,
        error: `ResourceNotFoundException: Function not found: ${arn}`
      }
    }
    const n = counts.get(fn.name) ?? 0
    counts.set(fn.name, n + 1)
    const outcome = fn.outcomes[Math.min(n, fn.outcomes.length - 1)]!
    return { found: true, outcome, message: fn.message, durationMs: fn.durationMs }
  }

  const admin: Record<string, AdminHandler> = {
    /**
     * {functionName, outcome | outcomes: [...], message?, durationSeconds?} seeds (or replaces) one function;
     * {clear: true} removes every function and invocation. Returns the function ARN.
     */
    functions: (body) => {
      if (body.clear === true) {
        functions.clear()
        invocations.length = 0
        counts.clear()
        return { functions: [] }
      }
      const name = text(body.functionName, '')
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
        throw new AwsError(
          'InvalidParameterValueException',
          'functionName must match [A-Za-z0-9_-]{1,64}.'
        )
      }
      const list = Array.isArray(body.outcomes) ? body.outcomes : [body.outcome ?? 'SUCCEEDED']
      if (!list.length || !list.every((o) => OUTCOMES.includes(o as HookOutcome))) {
        throw new AwsError(
          'InvalidParameterValueException',
          `outcome(s) must be among ${OUTCOMES.join(', ')}.`
        )
      }
      const seconds = typeof body.durationSeconds === 'number' ? body.durationSeconds : 0
      const fn: HookFunction = {
        name,
        arn: `arn:aws:lambda:${deps.region}:${deps.accountId}:function:${name}`,
        outcomes: list as HookOutcome[],
        message: typeof body.message === 'string' ? body.message : undefined,
        durationMs: Math.max(0, seconds * 1000)
      }
      functions.set(name, fn)
      counts.delete(name)
      return { functionArn: fn.arn }
    },
    /** GET → every invocation so far: {invocations: [{functionArn, at, payload}]}. */
    invocations: () => ({
      invocations: invocations.map((i) => ({ ...i, at: new Date(i.at).toISOString() }))
    })
  }

  return {
    signingName: 'lambda',
    protocol: 'rest-json',
    handlers: {},
    routes: [],
    admin,
    invoke,
    functions,
    invocations
  }
}

/** True for a hook target ARN or name this registry could resolve (a syntactic check only). */
export function isFunctionRef(v: unknown): boolean {
  return isObj(v) ? false : FUNCTION_ARN.test(String(v)) || /^[A-Za-z0-9_-]{1,64}$/.test(String(v))
}
