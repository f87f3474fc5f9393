import { existsSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import {
  booleanInput,
  choiceInput,
  InputError,
  intInput,
  kvInput,
  listInput,
  maskSecret,
  optionalInput,
  parseJsonText,
  readInputFile,
  resolveOutputPathInput,
  resolvePathInput,
  rawInput,
  requiredInput
} from '@shipline/action-kit'
import { core } from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  type AwsAuthInputs,
  getAwsAuthInputs
} from '@shipline/aws'
import {
  type EncryptionType,
  isValidRepositoryName,
  keepLastPolicy,
  type TagMutability
} from '@shipline/ecr'
import { parseImageReference } from '@shipline/oci'
import { validateTags } from './tags.js'

export const ACTION_NAME = 'build-tag-push'

export const INPUT_NAMES = [
  'repository',
  'registry-id',
  'create-repository',
  'image-tag-mutability',
  'scan-on-push',
  'encryption',
  'kms-key',
  'lifecycle-policy',
  'short-sha-length',
  'tag-suffix',
  'commit-sha',
  'tags',
  'allow-latest',
  'context',
  'dockerfile',
  'build-args',
  'target',
  'platforms',
  'labels',
  'secrets',
  'cache-from',
  'cache-to',
  'ecr-cache',
  'provenance',
  'sbom',
  'allow-root',
  'source-image',
  'codepipeline-artifacts',
  'container-name',
  ...AWS_AUTH_INPUT_NAMES
] as const

export const DEFAULTS = {
  'create-repository': true,
  'image-tag-mutability': 'IMMUTABLE',
  'scan-on-push': true,
  encryption: 'AES256',
  'short-sha-length': 7,
  'allow-latest': false,
  context: '.',
  'ecr-cache': false,
  provenance: 'false',
  sbom: 'false',
  'allow-root': false,
  ...AWS_AUTH_DEFAULTS
} as const

export interface SourceImage {
  /** As the user wrote it. */
  text: string
  repositoryName: string
  registryId: string | undefined
  tag: string | undefined
  digest: string | undefined
}

export interface BuildInputs {
  context: string
  dockerfile: string
  buildArgs: { key: string; value: string }[]
  target: string | undefined
  platforms: string[]
  labels: Record<string, string>
  secrets: { id: string; value: string }[]
  cacheFrom: string[]
  cacheTo: string[]
  ecrCache: boolean
  provenance: false | string
  sbom: false | string
}

export interface BuildTagPushInputs {
  auth: AwsAuthInputs
  repository: string
  registryId: string | undefined
  createRepository: boolean
  imageTagMutability: TagMutability
  scanOnPush: boolean
  encryption: EncryptionType
  kmsKey: string | undefined
  /** Lifecycle policy JSON text (from a file or the keep-last shorthand). */
  lifecyclePolicy: string | undefined
  shortShaLength: number
  /** Appended to the commit tags as `-<suffix>` (one repository, several images per commit). */
  tagSuffix: string | undefined
  /** The commit to tag (default: the PR head on pull_request events, else GITHUB_SHA). */
  commitSha: string | undefined
  extraTags: string[]
  allowLatest: boolean
  allowRoot: boolean
  build: BuildInputs
  sourceImage: SourceImage | undefined
  codepipelineArtifacts: string | undefined
  containerName: string
}

const BUILD_ONLY_INPUTS = [
  'dockerfile',
  'build-args',
  'target',
  'platforms',
  'labels',
  'secrets',
  'cache-from',
  'cache-to'
] as const

const BUILD_ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/
const SECRET_ID = /^[A-Za-z0-9_.-]+$/
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/

function inWorkspace(workspace: string, path: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path)
}

function buildArgsInput(): { key: string; value: string }[] {
  return kvInput('build-args').map(({ key, value, line }) => {
    if (!BUILD_ARG_KEY.test(key)) {
      throw new InputError(
        'build-args',
        `line ${line}: "${key}" is not a valid build-arg name`,
        'Write NAME=value lines; names use letters, digits and _ and do not start with a digit. Pass secrets through "secrets", not build-args.'
      )
    }
    return { key, value }
  })
}

function labelsInput(): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const { key, value, line } of kvInput('labels')) {
    if (!LABEL_KEY.test(key)) {
      throw new InputError(
        'labels',
        `line ${line}: "${key}" is not a valid label key`,
        'Use reverse-DNS keys such as org.example.team=payments.'
      )
    }
    labels[key] = value
  }
  return labels
}

/** id=value lines; values are masked before anything else happens and never echoed in errors. */
function secretsInput(): { id: string; value: string }[] {
  const text = core.getInput('secrets', { trimWhitespace: false })
  const secrets: { id: string; value: string }[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    const value = eq > 0 ? line.slice(eq + 1) : ''
    if (value) maskSecret(value)
    const id = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!SECRET_ID.test(id) || value === '') {
      throw new InputError(
        'secrets',
        `line ${index + 1} is not id=value`,
        'Write one id=value pair per line, e.g. npm_token=${{ secrets.NPM_TOKEN }}; the Dockerfile reads it with RUN --mount=type=secret,id=npm_token.'
      )
    }
    secrets.push({ id, value })
  })
  return secrets
}

function attestationInput(name: 'provenance' | 'sbom'): false | string {
  const value = rawInput(name) || DEFAULTS[name]
  if (/^false$/i.test(value)) return false
  if (/^true$/i.test(value)) return name === 'provenance' ? 'mode=min' : 'true'
  if (/^[a-z-]+=[^,\s]+(,[a-z-]+=[^,\s]+)*$/.test(value)) return value
  throw new InputError(name, `expected true, false or attributes like mode=max, got "${value}"`)
}

function lifecyclePolicyInput(workspace: string): string | undefined {
  const value = optionalInput('lifecycle-policy')
  if (value === undefined) return undefined
  const keep = /^keep-last:\s*(\S+)$/.exec(value)
  if (keep) {
    const n = keep[1] as string
    if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 1000) {
      throw new InputError(
        'lifecycle-policy',
        `keep-last expects a number from 1 to 1000, got "${n}"`
      )
    }
    return keepLastPolicy(Number(n))
  }
  const path = resolvePathInput('lifecycle-policy', value, 'file', {
    ...process.env,
    GITHUB_WORKSPACE: workspace
  })
  const text = readInputFile('lifecycle-policy', path, value)
  const policy = parseJsonText('lifecycle-policy', text) as { rules?: unknown }
  if (!policy || typeof policy !== 'object' || !Array.isArray(policy.rules)) {
    throw new InputError(
      'lifecycle-policy',
      `"${value}" has no "rules" array`,
      'See the ECR lifecycle policy syntax.'
    )
  }
  return JSON.stringify(policy)
}

function sourceImageInput(): SourceImage | undefined {
  const text = optionalInput('source-image')
  if (text === undefined) return undefined
  let ref
  try {
    ref = parseImageReference(text)
  } catch (error) {
    throw new InputError(
      'source-image',
      (error as Error).message,
      'Use repository:tag, repository@sha256:… or a full ECR image URI.'
    )
  }
  if (!ref.tag && !ref.digest) {
    throw new InputError(
      'source-image',
      `"${text}" names no tag or digest`,
      'Add :tag or @sha256:… so that exactly one image is promoted.'
    )
  }
  const account = ref.registry ? /^(\d{12})\./.exec(ref.registry)?.[1] : undefined
  return {
    text,
    repositoryName: ref.repository,
    registryId: account,
    tag: ref.tag,
    digest: ref.digest
  }
}

/** Reads and validates every input; throws InputError before any AWS call. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): BuildTagPushInputs {
  const workspace = env['GITHUB_WORKSPACE'] || process.cwd()
  const repository = requiredInput('repository')
  const first = repository.split('/')[0] ?? ''
  if (
    repository.includes('/') &&
    (/^\d{12}\.dkr/.test(first) || first.includes(':') || first === 'localhost')
  ) {
    throw new InputError(
      'repository',
      `"${repository}" includes the registry host`,
      `Give only the repository name (e.g. "${repository.slice(first.length + 1).split(':')[0]}"); the registry comes from the credentials or "registry-id".`
    )
  }
  if (!isValidRepositoryName(repository)) {
    throw new InputError(
      'repository',
      `"${repository}" is not a valid ECR repository name`,
      'Use 2-256 lowercase letters, digits and . _ - / (e.g. team/api), without the registry host or a tag.'
    )
  }
  const registryId = optionalInput('registry-id')
  if (registryId !== undefined && !/^\d{12}$/.test(registryId)) {
    throw new InputError(
      'registry-id',
      `"${registryId}" is not a 12-digit AWS account ID`,
      'Quote it in YAML to keep leading zeros.'
    )
  }
  const encryption = choiceInput('encryption', ['AES256', 'KMS'] as const, DEFAULTS.encryption)
  const kmsKey = optionalInput('kms-key')
  if (kmsKey !== undefined && encryption !== 'KMS') {
    throw new InputError(
      'kms-key',
      'is set but "encryption" is not KMS',
      'Set "encryption: KMS" or remove "kms-key".'
    )
  }
  const tagSuffix = optionalInput('tag-suffix')
  if (tagSuffix !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,86}$/.test(tagSuffix)) {
    throw new InputError(
      'tag-suffix',
      `"${tagSuffix}" cannot end an image tag`,
      'Use 1-87 letters, digits, _ . or - (not starting with . or -), e.g. "worker"; it is appended as <sha>-<suffix>.'
    )
  }
  const commitSha = optionalInput('commit-sha')
  if (commitSha !== undefined && !/^[0-9a-f]{40}$/.test(commitSha)) {
    throw new InputError(
      'commit-sha',
      `"${commitSha}" is not a full 40-character lowercase git SHA`,
      'Pass an expression such as ${{ github.sha }}, not a branch name or a short SHA.'
    )
  }
  const allowLatest = booleanInput('allow-latest', DEFAULTS['allow-latest'])
  const extraTags = listInput('tags')
  validateTags('tags', extraTags, allowLatest)
  const sourceImage = sourceImageInput()
  if (sourceImage) {
    const conflicting = BUILD_ONLY_INPUTS.filter((name) => rawInput(name) !== '')
    if (conflicting.length) {
      throw new InputError(
        conflicting[0] as string,
        'conflicts with "source-image"',
        `Promote mode re-tags an existing image and builds nothing: remove ${conflicting.map((n) => `"${n}"`).join(', ')}.`
      )
    }
    for (const name of ['tag-suffix', 'commit-sha'] as const) {
      if (rawInput(name) !== '') {
        throw new InputError(
          name,
          'conflicts with "source-image"',
          `Promote mode adds only the tags in "tags": remove "${name}".`
        )
      }
    }
    if (!extraTags.filter((t) => t !== 'latest').length) {
      throw new InputError(
        'tags',
        'is required with "source-image"',
        'List the tags to give the promoted image, e.g. "v1.4.2".'
      )
    }
  }

  const contextInput = rawInput('context') || DEFAULTS.context
  const context = inWorkspace(workspace, contextInput)
  const dockerfileInput = optionalInput('dockerfile')
  const dockerfile = dockerfileInput
    ? inWorkspace(workspace, dockerfileInput)
    : join(context, 'Dockerfile')
  if (!sourceImage) {
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      throw new InputError(
        'context',
        `directory "${contextInput}" does not exist in the workspace`,
        'Check out the repository first (actions/checkout) and point "context" at the folder to build.'
      )
    }
    if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
      throw new InputError(
        dockerfileInput ? 'dockerfile' : 'context',
        `no Dockerfile at "${dockerfileInput ?? join(contextInput, 'Dockerfile')}"`,
        'Set "dockerfile" to the Dockerfile path (relative to the workspace) or add a Dockerfile to the context.'
      )
    }
  }
  const platforms = listInput('platforms')
  for (const platform of platforms) {
    if (!PLATFORM.test(platform)) {
      throw new InputError(
        'platforms',
        `"${platform}" is not os/arch[/variant]`,
        'Use values like linux/amd64,linux/arm64.'
      )
    }
  }
  const repoLeaf = repository.split('/').pop() as string
  const containerName = optionalInput('container-name') ?? repoLeaf
  const codepipelineArtifacts = optionalInput('codepipeline-artifacts')

  return {
    auth: getAwsAuthInputs(ACTION_NAME, env),
    repository,
    registryId,
    createRepository: booleanInput('create-repository', DEFAULTS['create-repository']),
    imageTagMutability: choiceInput(
      'image-tag-mutability',
      ['IMMUTABLE', 'MUTABLE'] as const,
      DEFAULTS['image-tag-mutability']
    ),
    scanOnPush: booleanInput('scan-on-push', DEFAULTS['scan-on-push']),
    encryption,
    kmsKey,
    lifecyclePolicy: lifecyclePolicyInput(workspace),
    shortShaLength: intInput('short-sha-length', DEFAULTS['short-sha-length'], { min: 4, max: 40 }),
    tagSuffix,
    commitSha,
    extraTags,
    allowLatest,
    allowRoot: booleanInput('allow-root', DEFAULTS['allow-root']),
    build: {
      context,
      dockerfile,
      buildArgs: buildArgsInput(),
      target: optionalInput('target'),
      platforms,
      labels: labelsInput(),
      secrets: secretsInput(),
      cacheFrom: listInput('cache-from', { commas: false }),
      cacheTo: listInput('cache-to', { commas: false }),
      ecrCache: booleanInput('ecr-cache', DEFAULTS['ecr-cache']),
      provenance: attestationInput('provenance'),
      sbom: attestationInput('sbom')
    },
    sourceImage,
    codepipelineArtifacts: codepipelineArtifacts
      ? resolveOutputPathInput('codepipeline-artifacts', codepipelineArtifacts, {
          ...process.env,
          GITHUB_WORKSPACE: workspace
        })
      : undefined,
    containerName
  }
}
