import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { join, resolve } from 'node:path'
import { core, maskSecret } from '@shipline/action-kit'

/**
 * The job's own Docker configuration: `$DOCKER_CONFIG`, else `~/.docker`. Earlier steps (docker/login-action,
 * `docker login`, docker/setup-buildx-action) left their registry logins, credential helpers and buildx builders
 * there. Undefined when neither is known.
 */
export function jobDockerConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env['DOCKER_CONFIG']
  if (configured) return resolve(configured)
  const home = env['HOME'] || env['USERPROFILE']
  return home ? join(home, '.docker') : undefined
}

/**
 * BUILDX_CONFIG for every docker call: the job's buildx state (`$BUILDX_CONFIG`, else `<job docker config>/buildx`),
 * where docker/setup-buildx-action records the builder it created and selected, so that the private DOCKER_CONFIG
 * does not hide it.
 */
export function buildxConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env['BUILDX_CONFIG']
  if (configured) return resolve(configured)
  const job = jobDockerConfigDir(env)
  return job ? join(job, 'buildx') : undefined
}

/** The keys of the job's config.json that the private config inherits: registry logins and how to find them. */
const INHERITED_KEYS = [
  'auths',
  'credHelpers',
  'credsStore',
  'currentContext',
  'cliPluginsExtraDirs'
] as const
/** Directories of the job's docker config that the private one links to: CLI plugins (buildx) and contexts. */
const LINKED_DIRS = ['cli-plugins', 'contexts'] as const
const SECRET_FIELDS = ['auth', 'password', 'identitytoken', 'registrytoken']

/**
 * Reads the job's config.json and returns the inherited keys; secrets in `auths` are masked. Never logs any value
 * (nor a JSON parse error, whose text can quote the file).
 */
function inheritedSettings(jobDir: string): Record<string, unknown> {
  const file = join(jobDir, 'config.json')
  if (!existsSync(file)) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    core.warning(
      `${file} is not readable JSON, so this build does not see the job's earlier registry logins (docker login / docker/login-action).`
    )
    return {}
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {}
  const config = parsed as Record<string, unknown>
  const settings: Record<string, unknown> = {}
  for (const key of INHERITED_KEYS) if (config[key] !== undefined) settings[key] = config[key]
  const auths = settings['auths']
  if (auths && typeof auths === 'object') {
    for (const entry of Object.values(auths as Record<string, unknown>)) {
      if (!entry || typeof entry !== 'object') continue
      for (const field of SECRET_FIELDS) {
        const value = (entry as Record<string, unknown>)[field]
        // (the runner cannot mask shorter values usefully; no real credential is that short)
        if (typeof value === 'string' && value.length >= 4) maskSecret(value)
      }
    }
  }
  return settings
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * A fresh private docker config directory under `tempRoot` (mode 0700; never inside the build context), so that
 * Shipline's ECR login never lands in the job's own config. Seeded from `jobConfigDir` when given: its `auths`,
 * `credHelpers`, `credsStore` (plus `currentContext` and `cliPluginsExtraDirs`), and links to its `cli-plugins` and
 * `contexts`, so base images from registries the job logged into earlier still pull, and a buildx installed into
 * `~/.docker/cli-plugins` is still found.
 */
export function createDockerConfigDir(tempRoot: string, jobConfigDir?: string): string {
  mkdirSync(tempRoot, { recursive: true })
  const dir = mkdtempSync(join(tempRoot, 'shipline-docker-'))
  chmodSync(dir, 0o700)
  const settings = jobConfigDir ? inheritedSettings(jobConfigDir) : {}
  writeFileSync(join(dir, 'config.json'), JSON.stringify(settings, null, 2) + '\n', {
    mode: 0o600
  })
  if (jobConfigDir) {
    for (const name of LINKED_DIRS) {
      const target = join(jobConfigDir, name)
      if (!isDirectory(target)) continue
      try {
        symlinkSync(target, join(dir, name), 'dir')
      } catch {
        core.debug(`Could not link ${target} into the private Docker config`)
      }
    }
    const registries = Object.keys((settings['auths'] as object | undefined) ?? {})
    const helpers = Object.keys((settings['credHelpers'] as object | undefined) ?? {})
    const inherited = [
      registries.length ? `logins for ${registries.join(', ')}` : '',
      helpers.length ? `credential helpers for ${helpers.join(', ')}` : '',
      typeof settings['credsStore'] === 'string' ? 'the credential store' : ''
    ].filter(Boolean)
    if (inherited.length)
      core.info(`The private Docker config inherits the job's ${inherited.join('; ')}`)
  }
  return dir
}

/**
 * Makes `docker login <registry>` and `docker logout <registry>` use the private config.json itself: an inherited
 * `credsStore` or `credHelpers` entry would otherwise send Shipline's ECR token to the job's credential store (which
 * outlives the private config), and the post step's logout would erase the job's entries there. An empty helper name
 * is the Docker CLI's way of saying "the file store" for one registry; logout also erases the `http://` and
 * `https://` forms of the host, so those are pinned too.
 */
export function useFileStoreFor(configDir: string, registry: string): void {
  const file = join(configDir, 'config.json')
  let config: Record<string, unknown>
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    return
  }
  const helpers = (config['credHelpers'] ?? {}) as Record<string, unknown>
  const keys = [registry, `http://${registry}`, `https://${registry}`]
  if (config['credsStore'] === undefined && keys.every((k) => helpers[k] === undefined)) return
  if (keys.every((k) => helpers[k] === '')) return
  config['credHelpers'] = { ...helpers, ...Object.fromEntries(keys.map((k) => [k, ''])) }
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}
