import * as core from './workflow-commands.js'

const secrets = new Set<string>()

/** Registers a credential with the runner's log masker and with our own exec guard. */
export function maskSecret(value: string | undefined): void {
  if (!value) return
  secrets.add(value)
  core.setSecret(value)
}

/** True when `text` contains any value registered through `maskSecret`. */
export function containsSecret(text: string): boolean {
  for (const secret of secrets) if (text.includes(secret)) return true
  return false
}

/** `text` with every value registered through `maskSecret` replaced by `***` (for error messages echoing requests). */
export function redactSecrets(text: string): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***')
  return out
}
