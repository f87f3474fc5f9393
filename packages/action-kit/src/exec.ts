import { getExecOutput } from '@actions/exec'
import { containsSecret } from './masking.js'
import { withCommandsStopped } from './untrusted.js'

export interface ExecOptions {
  cwd?: string
  env?: Record<string, string>
  /** Written to the child's stdin: the only way a secret may reach a command. */
  stdin?: string
  /** Do not echo the command and its output to the log. */
  silent?: boolean
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export type Exec = (command: string, args: string[], options?: ExecOptions) => Promise<ExecResult>

/**
 * Runs a command and captures its output without throwing on a non-zero exit; echoed output is inert (no workflow
 * command in it reaches the runner).
 * Refuses any argv that contains a masked secret: secrets travel through stdin or files only,
 * because argv is visible to every process on the machine.
 */
export const execCommand: Exec = async (command, args, options = {}) => {
  if (args.some((arg) => containsSecret(arg)) || containsSecret(command)) {
    throw new Error(`refusing to run "${command}": a secret would be passed on its command line`)
  }
  const env = options.env
    ? { ...(process.env as Record<string, string>), ...options.env }
    : undefined
  const silent = options.silent ?? false
  const run = () =>
    getExecOutput(command, args, {
      cwd: options.cwd,
      env,
      input: options.stdin === undefined ? undefined : Buffer.from(options.stdin),
      silent,
      ignoreReturnCode: true
    })
  // A command's output (a Dockerfile's RUN lines, registry messages) is shown but can never issue workflow commands.
  const result = silent ? await run() : await withCommandsStopped(run)
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }
}
