import * as core from './workflow-commands.js'

/** Sets several outputs at once; undefined values are skipped, objects are JSON-encoded. */
export function setOutputs(
  outputs: Record<string, string | number | boolean | object | undefined>
): void {
  for (const [name, value] of Object.entries(outputs)) {
    if (value === undefined) continue
    core.setOutput(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
}
