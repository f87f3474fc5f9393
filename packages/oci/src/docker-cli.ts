import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ActionError, type Exec, type ExecResult, maskSecret } from '@shipline/action-kit'
import { useFileStoreFor } from './docker-config.js'

/** Runs docker with a private DOCKER_CONFIG (never the user's ~/.docker). */
export interface Docker {
  exec: Exec
  /** DOCKER_CONFIG for every docker call. */
  configDir: string
  /** BUILDX_CONFIG for every docker call: the job's buildx builders (see `buildxConfigDir`). */
  buildxConfig?: string
}

export function dockerRun(
  docker: Docker,
  args: string[],
  options: { stdin?: string; silent?: boolean; env?: Record<string, string>; cwd?: string } = {}
): Promise<ExecResult> {
  return docker.exec('docker', args, {
    ...options,
    env: {
      DOCKER_CONFIG: docker.configDir,
      ...(docker.buildxConfig ? { BUILDX_CONFIG: docker.buildxConfig } : {}),
      ...options.env
    }
  })
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** `docker login --password-stdin`: the password travels through stdin only. */
export async function dockerLogin(
  docker: Docker,
  login: { registry: string; username: string; password: string }
): Promise<void> {
  maskSecret(login.password)
  useFileStoreFor(docker.configDir, login.registry)
  const result = await dockerRun(
    docker,
    ['login', '--username', login.username, '--password-stdin', login.registry],
    { stdin: login.password, silent: true }
  )
  if (result.exitCode !== 0) {
    throw new ActionError(
      `docker login to ${login.registry} failed: ${lastLine(result.stderr || result.stdout)}`,
      'Check that the Docker engine is running and can reach the registry (for an HTTP registry on another host, add it to the engine\'s "insecure-registries")'
    )
  }
}

export async function dockerLogout(docker: Docker, registry: string): Promise<void> {
  await dockerRun(docker, ['logout', registry], { silent: true })
}

export type Builder =
  { kind: 'buildx'; version: string } | { kind: 'engine'; buildkit: boolean; clientVersion: string }

/**
 * buildx when `docker buildx version` works. Otherwise the engine's builder: BuildKit (DOCKER_BUILDKIT=1) only with a
 * client older than 23 (newer clients route BuildKit builds through buildx), else the classic builder.
 */
export async function detectBuilder(docker: Docker): Promise<Builder> {
  const buildx = await dockerRun(docker, ['buildx', 'version'], { silent: true })
  if (buildx.exitCode === 0) {
    return {
      kind: 'buildx',
      version: /v?(\d+\.\d+\.\d+)/.exec(buildx.stdout)?.[1] ?? buildx.stdout.trim()
    }
  }
  const version = await dockerRun(docker, ['version', '--format', '{{.Client.Version}}'], {
    silent: true
  })
  const clientVersion = version.stdout.trim().split('\n')[0] ?? ''
  if (version.exitCode !== 0 && !clientVersion) {
    throw new ActionError(
      `The docker CLI does not work: ${lastLine(version.stderr)}`,
      'Install Docker on the runner (GitHub-hosted Ubuntu runners have it) and make sure the engine is running'
    )
  }
  const major = Number(/^(\d+)\./.exec(clientVersion)?.[1] ?? '0')
  return { kind: 'engine', buildkit: major > 0 && major < 23, clientVersion }
}

/** Whether the engine can reach a registry; an explicit error when the daemon is not running. */
export async function checkEngine(docker: Docker): Promise<void> {
  const info = await dockerRun(docker, ['version', '--format', '{{.Server.Version}}'], {
    silent: true
  })
  if (info.exitCode !== 0) {
    throw new ActionError(
      `The Docker engine is not reachable: ${lastLine(info.stderr)}`,
      'Start the Docker daemon (or set DOCKER_HOST) before this step'
    )
  }
}

export interface BuildSpec {
  context: string
  dockerfile: string
  buildArgs: { key: string; value: string }[]
  labels: Record<string, string>
  target?: string
  platforms: string[]
  /** BuildKit secrets as files (mode 0600) under RUNNER_TEMP. */
  secretFiles: { id: string; path: string }[]
  cacheFrom: string[]
  cacheTo: string[]
}

export interface BuildxSpec extends BuildSpec {
  /** "registry/repo": the image is pushed by digest (untagged); tags are added after the checks. */
  repositoryUri: string
  metadataFile: string
  /** false = disabled; a string = attestation attributes (e.g. "mode=max"). */
  provenance: false | string
  sbom: false | string
}

function commonArgs(spec: BuildSpec): string[] {
  const args: string[] = ['--file', spec.dockerfile]
  for (const { key, value } of spec.buildArgs) args.push('--build-arg', `${key}=${value}`)
  for (const key of Object.keys(spec.labels).sort())
    args.push('--label', `${key}=${spec.labels[key] ?? ''}`)
  if (spec.target) args.push('--target', spec.target)
  for (const secret of spec.secretFiles) args.push('--secret', `id=${secret.id},src=${secret.path}`)
  for (const from of spec.cacheFrom) args.push('--cache-from', from)
  return args
}

/** `docker buildx build` argv: pushes by digest and writes the metadata file. */
export function buildxArgs(spec: BuildxSpec): string[] {
  const args = ['buildx', 'build', ...commonArgs(spec)]
  for (const to of spec.cacheTo) args.push('--cache-to', to)
  if (spec.platforms.length) args.push('--platform', spec.platforms.join(','))
  args.push('--provenance', spec.provenance === false ? 'false' : spec.provenance)
  args.push('--sbom', spec.sbom === false ? 'false' : spec.sbom)
  args.push(
    '--output',
    `type=image,name=${spec.repositoryUri},push-by-digest=true,name-canonical=true,push=true`,
    '--metadata-file',
    spec.metadataFile,
    spec.context
  )
  return args
}

/** `docker build` argv and env for the engine's own builder (no buildx). */
export function engineBuildArgs(
  spec: BuildSpec,
  builder: { buildkit: boolean },
  tag: string
): { args: string[]; env: Record<string, string> } {
  const args = ['build', ...commonArgs(spec)]
  if (spec.platforms.length) args.push('--platform', spec.platforms.join(','))
  args.push('--tag', tag, spec.context)
  return { args, env: { DOCKER_BUILDKIT: builder.buildkit ? '1' : '0' } }
}

/** Writes build secrets to 0600 files in a private directory; masks every value. */
export function writeSecretFiles(
  dir: string,
  secrets: { id: string; value: string }[]
): { id: string; path: string }[] {
  if (!secrets.length) return []
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return secrets.map(({ id, value }, index) => {
    maskSecret(value)
    const path = join(dir, `secret-${index}`)
    writeFileSync(path, value, { mode: 0o600 })
    chmodSync(path, 0o600)
    return { id, path }
  })
}

/** The digest of `docker push` output: "<tag>: digest: sha256:… size: N". */
export function parsePushDigest(output: string, tag?: string): string | undefined {
  const lines = output.split(/\r?\n/)
  for (const line of lines.reverse()) {
    const match = /^(\S+): digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(line.trim())
    if (match && (tag === undefined || match[1] === tag)) return match[2]
  }
  return undefined
}

export async function dockerPush(docker: Docker, ref: string, tag: string): Promise<string> {
  const result = await dockerRun(docker, ['push', ref])
  if (result.exitCode !== 0) {
    throw classifyDockerError(`docker push ${ref}`, result.stderr + '\n' + result.stdout, {
      repository: ref
    })
  }
  const digest = parsePushDigest(result.stdout, tag)
  if (!digest) {
    throw new ActionError(
      `docker push ${ref} succeeded but printed no "digest: sha256:…" line`,
      'Re-run the job; the digest is read from the registry, never from the local image ID'
    )
  }
  return digest
}

export interface LocalImage {
  user: string
  labels: Record<string, string>
  id: string
}

export async function inspectLocalImage(docker: Docker, ref: string): Promise<LocalImage> {
  const result = await dockerRun(
    docker,
    ['image', 'inspect', '--format', '{{json .Config}}|{{.Id}}', ref],
    { silent: true }
  )
  if (result.exitCode !== 0) {
    throw new ActionError(
      `docker image inspect ${ref} failed: ${lastLine(result.stderr)}`,
      'The build did not produce the expected image; check the build log above'
    )
  }
  const text = result.stdout.trim()
  const bar = text.lastIndexOf('|')
  const config = JSON.parse(text.slice(0, bar)) as {
    User?: string
    Labels?: Record<string, string> | null
  }
  return { user: config.User ?? '', labels: config.Labels ?? {}, id: text.slice(bar + 1) }
}

/** True when a config `User` runs as root: empty, "root", "0", "0:0", "root:root", "0:<group>"… */
export function isRootUser(user: string): boolean {
  const name = user.trim().split(':')[0] ?? ''
  return name === '' || name === 'root' || /^0+$/.test(name)
}

/** Maps docker/registry failure text to an ActionError that names the fix. */
export function classifyDockerError(
  what: string,
  output: string,
  context: { repository?: string } = {}
): ActionError {
  const text = output.trim()
  const iam = /not authorized to perform:?\s*(ecr:[A-Za-z]+)/.exec(text)
  if (iam) {
    const principal = /User: (\S+) is not authorized/.exec(text)?.[1]
    return new ActionError(
      `${what} was denied: ${iam[0]}`,
      `Grant ${principal ? `the principal ${principal}` : 'the role this action runs as'} the IAM permission "${iam[1]}" on the repository${context.repository ? ` ${context.repository}` : ''} (pushing needs ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:BatchCheckLayerAvailability and ecr:PutImage)`
    )
  }
  if (/tag invalid|already exists in the .* repository and cannot be overwritten/i.test(text)) {
    return new ActionError(
      `${what} failed: ${lastMatching(text, /tag invalid|cannot be overwritten/i)}`,
      'The tag already exists in an IMMUTABLE repository with different content. Use a new tag or remove it from "tags"'
    )
  }
  if (
    /authorization token has expired|no basic auth credentials|unauthorized|authentication required/i.test(
      text
    )
  ) {
    return new ActionError(
      `${what} was rejected by the registry: ${lastMatching(text, /expired|credentials|unauthorized|authentication/i)}`,
      'The registry login is missing or expired. Re-run the job; Shipline logs in with a fresh ECR token on every run'
    )
  }
  if (/name unknown|repository .* (does not exist|not found)|NAME_UNKNOWN/i.test(text)) {
    return new ActionError(
      `${what} failed: ${lastMatching(text, /name unknown|does not exist|not found|NAME_UNKNOWN/i)}`,
      'The repository does not exist in this registry. Set "create-repository: true" or create it first'
    )
  }
  if (/Cannot connect to the Docker daemon|docker daemon is not running/i.test(text)) {
    return new ActionError(
      `${what} failed: ${lastLine(text)}`,
      'Start the Docker daemon before this step'
    )
  }
  return new ActionError(`${what} failed: ${lastLine(text)}`, 'See the docker output above')
}

function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
  return lines[lines.length - 1] ?? 'no output'
}

function lastMatching(text: string, pattern: RegExp): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
  for (let i = lines.length - 1; i >= 0; i--)
    if (pattern.test(lines[i] as string)) return lines[i] as string
  return lastLine(text)
}

/** The final error line of a failed build (docker prints the cause last). */
export function buildFailure(what: string, result: ExecResult): ActionError {
  const text = `${result.stdout}\n${result.stderr}`
  if (/not authorized to perform|tag invalid|unauthorized|name unknown/i.test(text))
    return classifyDockerError(what, text)
  return new ActionError(
    `${what} failed (exit code ${result.exitCode}): ${lastLine(result.stderr || result.stdout)}`,
    'Fix the Dockerfile or build inputs; the full build log is above'
  )
}
