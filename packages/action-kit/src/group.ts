import * as core from './workflow-commands.js'

/** Runs one phase of an action inside a collapsible log group. */
export async function withGroup<T>(title: string, fn: () => Promise<T>): Promise<T> {
  return core.group(title, fn)
}
