import { randomUUID } from 'node:crypto'
import { EOL } from 'node:os'
import * as core from './workflow-commands.js'

/** A line of `text` that the runner would read as a workflow command (`::name …::`, leading whitespace ignored). */
const COMMAND_LINE = /(^|[\r\n])[ \t]*::/

/** True when printing `text` as-is could issue a workflow command. */
export function looksLikeCommand(text: string): boolean {
  return COMMAND_LINE.test(text)
}

/**
 * Runs `fn` with workflow commands switched off (`::stop-commands::<random token>` … `::<token>::`): whatever it
 * prints (docker build output, registry or scanner text) is shown but never executed by the runner. Nothing of ours
 * may issue a command while it runs.
 */
export async function withCommandsStopped<T>(fn: () => Promise<T>): Promise<T> {
  const token = `shipline-${randomUUID()}`
  core.issueCommand('stop-commands', {}, token)
  try {
    return await fn()
  } finally {
    process.stdout.write(`${EOL}::${token}::${EOL}`)
  }
}

/** Logs text that came from outside (AWS, a registry, a scanner, a build): inert when it looks like a command. */
export function logUntrusted(message: string): void {
  if (!looksLikeCommand(message)) {
    core.info(message)
    return
  }
  const token = `shipline-${randomUUID()}`
  core.issueCommand('stop-commands', {}, token)
  process.stdout.write(`${message}${EOL}::${token}::${EOL}`)
}
