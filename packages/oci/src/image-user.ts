import { mkdtempSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ActionError } from '@shipline/action-kit'
import { type Docker, dockerRun, removeDir } from './docker-cli.js'

/** The user part of a config `User` ("app" of "app:staff"), trimmed. */
export function userName(user: string): string {
  return user.trim().split(':')[0] ?? ''
}

/** The UID of `name` in the text of an /etc/passwd (the first matching line, as the runtime reads it). */
export function uidFromPasswd(passwd: string, name: string): number | undefined {
  for (const line of passwd.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue
    const fields = line.split(':')
    if (fields[0] !== name) continue
    const uid = fields[2] ?? ''
    return /^\d+$/.test(uid) ? Number(uid) : undefined
  }
  return undefined
}

export interface UserVerdict {
  /** The process runs with UID 0. */
  root: boolean
  /** The UID, when the image's /etc/passwd had to be read to learn it (a named user). */
  uid?: number
}

const NAMED_USER_HINT =
  'Use a numeric UID in the final stage of the Dockerfile (e.g. "USER 65532:65532"), or add the user to that ' +
  'stage\'s /etc/passwd (e.g. RUN adduser -D -u 10001 app); set "allow-root: true" only to skip this check'

/**
 * Whether an image's config `User` runs as root. Empty, "root" and UID 0 do; other numbers do not; a name is
 * resolved through the image's own /etc/passwd, read from its filesystem (`docker create` without starting it,
 * then `docker cp`, which works on FROM-scratch images too). A name that cannot be resolved fails closed:
 * nothing can tell whether it is root (and the runtime could not start it either).
 *
 * `image` is a local image or a registry reference (docker create pulls it); `platform` picks an index's image.
 */
export async function imageUserIsRoot(
  docker: Docker,
  options: { image: string; user: string; where: string; tempDir: string; platform?: string }
): Promise<UserVerdict> {
  const name = userName(options.user)
  if (name === '' || name === 'root') return { root: true }
  if (/^\d+$/.test(name)) return { root: Number(name) === 0 }
  const passwd = await readImageFile(docker, options, '/etc/passwd')
  if (passwd === undefined) {
    throw new ActionError(
      `${options.where} has the config User "${options.user}", a name, but no /etc/passwd to resolve it, so whether it runs as root cannot be checked`,
      NAMED_USER_HINT
    )
  }
  const uid = uidFromPasswd(passwd, name)
  if (uid === undefined) {
    throw new ActionError(
      `${options.where} has the config User "${options.user}", but "${name}" is not in the image's /etc/passwd (the container could not start either), so whether it runs as root cannot be checked`,
      NAMED_USER_HINT
    )
  }
  return { root: uid === 0, uid }
}

/** A file of an image's filesystem, or undefined when the image has no such file. The container is never started. */
async function readImageFile(
  docker: Docker,
  options: { image: string; tempDir: string; platform?: string },
  path: string
): Promise<string | undefined> {
  const create = await dockerRun(
    docker,
    [
      'create',
      ...(options.platform ? ['--platform', options.platform] : []),
      // never run: an entrypoint is only needed because images without CMD cannot be created
      '--entrypoint',
      '/shipline-user-check',
      '--network',
      'none',
      '--label',
      'shipline.user-check=true',
      options.image
    ],
    { silent: true }
  )
  const id = create.stdout.trim().split(/\s+/).pop() ?? ''
  if (create.exitCode !== 0 || !/^[a-f0-9]{12,64}$/.test(id)) {
    throw new ActionError(
      `Reading /etc/passwd of ${options.image} failed: docker create: ${lastLine(create.stderr || create.stdout)}`,
      'The image must be readable by the Docker engine to check its user; see the docker output above'
    )
  }
  const dir = mkdtempSync(join(options.tempDir, 'shipline-user-'))
  try {
    const copy = await dockerRun(
      docker,
      ['cp', '--follow-link', `${id}:${path}`, join(dir, 'file')],
      {
        silent: true
      }
    )
    if (copy.exitCode !== 0) {
      if (/could not find the file|no such file|not found/i.test(copy.stderr + copy.stdout))
        return undefined
      throw new ActionError(
        `Reading ${path} of ${options.image} failed: docker cp: ${lastLine(copy.stderr || copy.stdout)}`,
        'See the docker output above'
      )
    }
    try {
      return readFileSync(join(dir, 'file'), 'utf8')
    } catch {
      return undefined // a directory or something docker cp could not copy as a file
    }
  } finally {
    removeDir(dir)
    await dockerRun(docker, ['rm', '--force', id], { silent: true })
  }
}

function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
  return lines[lines.length - 1] ?? 'no output'
}
