import { isAbsolute } from 'node:path'
import {
  booleanInput,
  choiceInput,
  durationSeconds,
  InputError,
  optionalInput,
  rawInput,
  requiredInput,
  resolveOutputPathInput
} from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  type AwsAuthInputs,
  getAwsAuthInputs
} from '@shipline/aws'
import { parseEcrRegistry } from '@shipline/ecr'
import { type ImageReference, ImageReferenceError, parseImageReference } from '@shipline/oci'
import { type Allowlist, loadAllowlist } from './allowlist.js'
import { type Threshold, THRESHOLDS } from './gate.js'

export const ACTION_NAME = 'scan-gate'

export const INPUT_NAMES = [
  'image',
  'platform',
  'severity-threshold',
  'ignore-unfixed',
  'allowlist',
  'fail-on-scan-error',
  'timeout',
  'settle-time',
  'max-scan-age',
  'sarif-file',
  'report-file',
  'dockerfile',
  ...AWS_AUTH_INPUT_NAMES
] as const

export const DEFAULTS = {
  platform: 'linux/amd64',
  'severity-threshold': 'CRITICAL',
  'ignore-unfixed': false,
  'fail-on-scan-error': true,
  timeout: '10m',
  'settle-time': 'auto',
  'max-scan-age': '168h',
  dockerfile: 'Dockerfile',
  ...AWS_AUTH_DEFAULTS
} as const

/** The longest wait we accept: a job's own limit is 6 hours. */
export const MAX_TIMEOUT_SECONDS = 6 * 3600

export interface ScanGateInputs {
  image: ImageReference
  /** The image input as given. */
  imageText: string
  /** "os/arch[/variant]" or "all". */
  platform: string
  threshold: Threshold
  ignoreUnfixed: boolean
  allowlist: Allowlist | undefined
  failOnScanError: boolean
  timeoutSeconds: number
  /** Seconds the findings must stay unchanged after the first complete reading; undefined = auto (by mode). */
  settleSeconds: number | undefined
  /** A basic scan completed longer ago than this (seconds) is restarted instead of trusted. */
  maxScanAgeSeconds: number
  /** Absolute paths, or undefined when not requested. */
  sarifFile: string | undefined
  reportFile: string | undefined
  /** Repository-relative path for SARIF locations. */
  dockerfile: string
  workspace: string
  auth: AwsAuthInputs
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/

export function parseImageInput(value: string, input = 'image'): ImageReference {
  let ref: ImageReference
  try {
    ref = parseImageReference(value)
  } catch (error) {
    if (error instanceof ImageReferenceError) {
      throw new InputError(
        input,
        error.message,
        "Pass build-tag-push's image-uri (<registry>/<repo>:<tag>) or image-ref (<registry>/<repo>@sha256:…), or <repo>:<tag>."
      )
    }
    throw error
  }
  if (!ref.tag && !ref.digest) {
    throw new InputError(
      input,
      `"${value}" has neither a tag nor a digest`,
      'Name the exact image: add :<tag> or @sha256:<digest> (scan-gate never assumes "latest").'
    )
  }
  return ref
}

function outputPath(name: string, workspace: string): string | undefined {
  const value = optionalInput(name)
  if (value === undefined) return undefined
  return resolveOutputPathInput(name, value, { ...process.env, GITHUB_WORKSPACE: workspace })
}

/** Reads and validates every input (including the allowlist file) before any AWS call. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): ScanGateInputs {
  const imageText = requiredInput(
    'image',
    'Pass the image-uri or image-ref output of build-tag-push.'
  )
  const image = parseImageInput(imageText)
  const platform = (optionalInput('platform') ?? DEFAULTS.platform).toLowerCase()
  if (platform !== 'all' && !PLATFORM.test(platform)) {
    throw new InputError(
      'platform',
      `expected os/arch[/variant] or "all", got "${rawInput('platform')}"`,
      'For example linux/amd64, linux/arm64/v8 or all.'
    )
  }
  const threshold = choiceInput('severity-threshold', THRESHOLDS, DEFAULTS['severity-threshold'])
  const ignoreUnfixed = booleanInput('ignore-unfixed', DEFAULTS['ignore-unfixed'])
  const failOnScanError = booleanInput('fail-on-scan-error', DEFAULTS['fail-on-scan-error'])
  const timeoutSeconds = durationSeconds('timeout', DEFAULTS.timeout, {
    min: 1,
    max: MAX_TIMEOUT_SECONDS
  })
  const settleText = (optionalInput('settle-time') ?? DEFAULTS['settle-time']).toLowerCase()
  let settleSeconds: number | undefined
  if (settleText !== 'auto') {
    settleSeconds = durationSeconds('settle-time', DEFAULTS['settle-time'], { min: 0 })
    if (settleSeconds >= timeoutSeconds) {
      throw new InputError(
        'settle-time',
        `${settleSeconds}s leaves no time for the scan within "timeout" (${timeoutSeconds}s)`,
        'Make "settle-time" shorter than "timeout" (for example settle-time: 60s with timeout: 10m), or use "auto".'
      )
    }
  }
  // ECR runs at most one basic scan per image per 24 hours, so a shorter age could never be honoured.
  const maxScanAgeSeconds = durationSeconds('max-scan-age', DEFAULTS['max-scan-age'], {
    min: 24 * 3600
  })
  const workspace = env['GITHUB_WORKSPACE'] || process.cwd()
  const allowlistPath = optionalInput('allowlist')
  const allowlist =
    allowlistPath === undefined ? undefined : loadAllowlist(allowlistPath, workspace)
  const dockerfile = optionalInput('dockerfile') ?? DEFAULTS.dockerfile
  if (isAbsolute(dockerfile) || dockerfile.split(/[\\/]/).includes('..')) {
    throw new InputError(
      'dockerfile',
      `"${dockerfile}" must be a path inside the repository`,
      'Use a repository-relative path such as Dockerfile or docker/api.Dockerfile.'
    )
  }
  const auth = getAwsAuthInputs(ACTION_NAME, env)
  const ecr = parseEcrRegistry(image.registry)
  if (ecr && ecr.region !== auth.region) {
    throw new InputError(
      'aws-region',
      `is ${auth.region}, but the image's registry ${image.registry} is in ${ecr.region}`,
      `Set "aws-region: ${ecr.region}".`
    )
  }
  return {
    image,
    imageText,
    platform,
    threshold,
    ignoreUnfixed,
    allowlist,
    failOnScanError,
    timeoutSeconds,
    settleSeconds,
    maxScanAgeSeconds,
    sarifFile: outputPath('sarif-file', workspace),
    reportFile: outputPath('report-file', workspace),
    dockerfile,
    workspace,
    auth
  }
}
