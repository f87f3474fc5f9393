/** An expected failure the user can act on: rendered as "<what failed>. <how to fix>". */
export class ActionError extends Error {
  readonly hint: string | undefined

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${stripPeriod(message)}. ${hint}` : message, options)
    this.name = 'ActionError'
    this.hint = hint
  }
}

/** A bad input value, named in the message: `input "wait-timeout": expected …, got "ten"`. */
export class InputError extends ActionError {
  readonly input: string

  constructor(input: string, problem: string, hint?: string) {
    super(`input "${input}"${/^(is|was|must) /.test(problem) ? ' ' : ': '}${problem}`, hint)
    this.name = 'InputError'
    this.input = input
  }
}

/** Normalises anything thrown into a readable message (never "[object Object]" or "Error: …"). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  if (typeof error === 'string') return error
  if (error && typeof error === 'object') {
    const record = error as Record<string, unknown>
    if (typeof record['message'] === 'string') return record['message']
    try {
      return JSON.stringify(error)
    } catch {
      return `${error.constructor?.name ?? 'object'} that cannot be printed`
    }
  }
  return String(error)
}

function stripPeriod(text: string): string {
  return text.endsWith('.') ? text.slice(0, -1) : text
}
