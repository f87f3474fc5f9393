import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { InputError } from './errors.js'

/** The folders a path input may point into: the checkout and the runner's temp (where earlier steps write). */
export function allowedRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env['GITHUB_WORKSPACE'] || process.cwd(), env['RUNNER_TEMP']]
  return roots
    .filter((r): r is string => !!r)
    .map((r) => (existsSync(r) ? realpathSync(r) : resolve(r)))
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/**
 * Resolves a file or folder input (relative to GITHUB_WORKSPACE), following symlinks, and requires it to stay
 * inside GITHUB_WORKSPACE or RUNNER_TEMP. Errors name the input.
 */
export function resolvePathInput(
  name: string,
  value: string,
  kind: 'file' | 'directory' = 'file',
  env: NodeJS.ProcessEnv = process.env
): string {
  const workspace = env['GITHUB_WORKSPACE'] || process.cwd()
  const path = isAbsolute(value) ? value : resolve(workspace, value)
  if (!existsSync(path)) {
    throw new InputError(
      name,
      `${kind} "${value}" does not exist (looked at ${path})`,
      'Paths are relative to GITHUB_WORKSPACE: check out the repository first (actions/checkout) and check the spelling.'
    )
  }
  const real = realpathSync(path)
  const roots = allowedRoots(env)
  if (!roots.some((root) => inside(root, real))) {
    throw new InputError(
      name,
      `"${value}" resolves to ${real}, outside the workspace and RUNNER_TEMP`,
      'Use a path inside the repository checkout (or a file an earlier step wrote to RUNNER_TEMP); symlinks may not lead out of it.'
    )
  }
  const isFile = statSync(real).isFile()
  if (kind === 'file' ? !isFile : !statSync(real).isDirectory()) {
    throw new InputError(name, `"${value}" is not a ${kind}`, `Point it at a ${kind}.`)
  }
  return real
}

/**
 * Resolves a path an action will write (a file or folder that may not exist yet), relative to GITHUB_WORKSPACE:
 * its deepest existing ancestor is resolved through symlinks, and the result must stay inside GITHUB_WORKSPACE or
 * RUNNER_TEMP. A symlink whose target is missing is refused (writing through it could land anywhere).
 */
export function resolveOutputPathInput(
  name: string,
  value: string,
  env: NodeJS.ProcessEnv = process.env
): string {
  const workspace = env['GITHUB_WORKSPACE'] || process.cwd()
  const path = isAbsolute(value) ? value : resolve(workspace, value)
  const rest: string[] = []
  let existing = path
  while (!lstatSync(existing, { throwIfNoEntry: false })) {
    const parent = dirname(existing)
    if (parent === existing) break
    rest.unshift(basename(existing))
    existing = parent
  }
  let real: string
  try {
    real = join(realpathSync(existing), ...rest)
  } catch {
    throw new InputError(
      name,
      `"${value}" leads through ${existing}, a symlink whose target does not exist`,
      'Use a plain path inside the repository checkout or RUNNER_TEMP.'
    )
  }
  if (!allowedRoots(env).some((root) => inside(root, real))) {
    throw new InputError(
      name,
      `"${value}" resolves to ${real}, outside the workspace and RUNNER_TEMP`,
      'Write into the repository checkout or RUNNER_TEMP (e.g. ${{ runner.temp }}/report.json); symlinks may not lead out of them.'
    )
  }
  return real
}
