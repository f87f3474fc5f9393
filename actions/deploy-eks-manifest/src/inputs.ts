import {
  booleanInput,
  choiceInput,
  durationSeconds,
  InputError,
  listInput,
  maskSecret,
  optionalInput
} from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  type AwsAuthInputs,
  getAwsAuthInputs
} from '@shipline/aws'
import { gitopsRepository, type ImageSpec, parseImageSpec } from '@shipline/kube'

export const ACTION_NAME = 'deploy-eks-manifest'

export const INPUT_NAMES = [
  'mode',
  'cluster-name',
  'manifests',
  'images',
  'allow-unmatched-images',
  'namespace',
  'force-conflicts',
  'dry-run',
  'respect-hpa',
  'rollout-timeout',
  'rollback-on-failure',
  'gitops-repository',
  'gitops-branch',
  'gitops-path',
  'gitops-token',
  'gitops-pull-request',
  'gitops-environment',
  'helm-values-key',
  ...AWS_AUTH_INPUT_NAMES
] as const

export const DEFAULTS = {
  mode: 'apply',
  'allow-unmatched-images': 'false',
  namespace: 'default',
  'force-conflicts': 'false',
  'dry-run': 'false',
  'respect-hpa': 'true',
  'rollout-timeout': '10m',
  'rollback-on-failure': 'true',
  'gitops-branch': 'main',
  'gitops-path': '.',
  'gitops-pull-request': 'false',
  ...AWS_AUTH_DEFAULTS
} as const

export interface ApplyModeInputs {
  mode: 'apply'
  clusterName: string
  manifests: string[]
  images: ImageSpec[]
  allowUnmatchedImages: boolean
  namespace: string
  forceConflicts: boolean
  dryRun: boolean
  respectHpa: boolean
  rolloutTimeoutSeconds: number
  rollbackOnFailure: boolean
  auth: AwsAuthInputs
}

export interface GitopsModeInputs {
  mode: 'gitops'
  images: ImageSpec[]
  allowUnmatchedImages: boolean
  repository: { url: string; owner: string; name: string }
  branch: string
  path: string
  token: string | undefined
  pullRequest: boolean
  environment: string
  helmValuesKeys: string[]
}

export type DeployEksManifestInputs = ApplyModeInputs | GitopsModeInputs

/** EKS cluster names: 1-100 characters, a letter or digit first, then letters, digits, "-" and "_". */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const BRANCH = /^(?!\/|.*(?:\/\/|\/\.|\.\.|@\{|\.lock$|\/$))[A-Za-z0-9._/-]{1,200}$/
const VALUES_KEY = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/
const ENVIRONMENT = /^[A-Za-z0-9._-]{1,64}$/

function readImages(): ImageSpec[] {
  const entries = listInput('images', { commas: false })
  const specs: ImageSpec[] = []
  for (const entry of entries) {
    let spec: ImageSpec
    try {
      spec = parseImageSpec(entry)
    } catch (error) {
      throw new InputError(
        'images',
        error instanceof Error ? error.message : String(error),
        'Give full image references, one per line, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:… (the build-tag-push "image-ref" output).'
      )
    }
    const twin = specs.find((s) => s.key === spec.key)
    if (twin) {
      throw new InputError(
        'images',
        `"${twin.input}" and "${entry}" name the same repository`,
        'Give each repository once: the image to deploy.'
      )
    }
    specs.push(spec)
  }
  return specs
}

function readApply(images: ImageSpec[], allowUnmatchedImages: boolean): ApplyModeInputs {
  const clusterName = optionalInput('cluster-name')
  if (clusterName === undefined) {
    throw new InputError(
      'cluster-name',
      'is required with "mode: apply"',
      'Set "cluster-name" to the EKS cluster to deploy to (or "mode: gitops" to commit to a GitOps repository).'
    )
  }
  if (!CLUSTER_NAME.test(clusterName)) {
    throw new InputError(
      'cluster-name',
      `"${clusterName}" is not an EKS cluster name`,
      'Use the name (1-100 letters, digits, "-" and "_", starting with a letter or digit), not the ARN.'
    )
  }
  const manifests = listInput('manifests', { commas: false })
  if (!manifests.length) {
    throw new InputError(
      'manifests',
      'is required with "mode: apply"',
      'List manifest files, folders or globs (one per line), e.g. k8s/*.yaml; render Helm charts or kustomize overlays in an earlier step.'
    )
  }
  // gitops-pull-request has a default, which the runner always passes: only "true" is a conflict.
  for (const name of ['gitops-repository', 'gitops-pull-request', 'helm-values-key'] as const) {
    const given =
      name === 'gitops-pull-request' ? booleanInput(name, false) : optionalInput(name) !== undefined
    if (given) {
      throw new InputError(
        name,
        'is only used with "mode: gitops"',
        'Remove it, or set "mode: gitops".'
      )
    }
  }
  const namespace = optionalInput('namespace') ?? DEFAULTS.namespace
  if (!NAMESPACE.test(namespace)) {
    throw new InputError(
      'namespace',
      `"${namespace}" is not a namespace name`,
      'Use a DNS label: lowercase letters, digits and "-", at most 63 characters.'
    )
  }
  const forceConflicts = booleanInput('force-conflicts', false)
  const dryRun = booleanInput('dry-run', false)
  return {
    mode: 'apply',
    clusterName,
    manifests,
    images,
    allowUnmatchedImages,
    namespace,
    forceConflicts,
    dryRun,
    respectHpa: booleanInput('respect-hpa', true),
    rolloutTimeoutSeconds: durationSeconds('rollout-timeout', DEFAULTS['rollout-timeout'], {
      min: 10,
      max: 6 * 3600
    }),
    rollbackOnFailure: booleanInput('rollback-on-failure', true),
    auth: getAwsAuthInputs(ACTION_NAME)
  }
}

function readGitops(images: ImageSpec[], allowUnmatchedImages: boolean): GitopsModeInputs {
  const token = optionalInput('gitops-token')
  const repositoryValue = optionalInput('gitops-repository')
  if (repositoryValue === undefined) {
    throw new InputError(
      'gitops-repository',
      'is required with "mode: gitops"',
      'Set it to owner/name of the GitOps repository (or an https:// clone URL) that Argo CD or Flux watches.'
    )
  }
  if (!images.length) {
    throw new InputError(
      'images',
      'is required with "mode: gitops"',
      'List the image references to write into the GitOps repository (by digest preferred).'
    )
  }
  const branch = optionalInput('gitops-branch') ?? DEFAULTS['gitops-branch']
  if (!BRANCH.test(branch)) {
    throw new InputError(
      'gitops-branch',
      `"${branch}" is not a valid branch name`,
      'Use a branch name such as main.'
    )
  }
  const path = optionalInput('gitops-path') ?? DEFAULTS['gitops-path']
  if (path.startsWith('/') || path.split('/').includes('..')) {
    throw new InputError(
      'gitops-path',
      `"${path}" must be relative to the repository root without ".."`,
      'Use a folder inside the GitOps repository, e.g. apps/web/overlays/production.'
    )
  }
  const helmValuesKeys = listInput('helm-values-key')
  for (const key of helmValuesKeys) {
    if (!VALUES_KEY.test(key)) {
      throw new InputError(
        'helm-values-key',
        `"${key}" is not a dotted key path`,
        'Use the path of the image block in the values file, e.g. image or backend.image.'
      )
    }
  }
  const pullRequest = booleanInput('gitops-pull-request', false)
  const environment = optionalInput('gitops-environment') ?? 'default'
  if (!ENVIRONMENT.test(environment)) {
    throw new InputError(
      'gitops-environment',
      `"${environment}" may only contain letters, digits, ".", "_" and "-" (at most 64)`,
      'It names the pull-request branch, e.g. production.'
    )
  }
  const repository = gitopsRepository(repositoryValue)
  if (pullRequest && !token) {
    throw new InputError(
      'gitops-token',
      'is required with "gitops-pull-request: true"',
      'Pass a GitHub App installation token or fine-grained PAT with contents and pull-requests write access.'
    )
  }
  if (pullRequest && (!repository.owner || !repository.name)) {
    throw new InputError(
      'gitops-repository',
      `cannot tell the GitHub owner/name of "${repositoryValue}"`,
      'Use owner/name or a URL ending in /<owner>/<name>.git.'
    )
  }
  for (const name of ['cluster-name', 'manifests'] as const) {
    if (optionalInput(name) !== undefined) {
      throw new InputError(
        name,
        'is not used with "mode: gitops"',
        'Remove it: Argo CD or Flux applies the GitOps repository; set "gitops-path" to choose the files to edit.'
      )
    }
  }
  return {
    mode: 'gitops',
    images,
    allowUnmatchedImages,
    repository,
    branch,
    path,
    token,
    pullRequest,
    environment,
    helmValuesKeys
  }
}

export function getInputs(): DeployEksManifestInputs {
  maskSecret(optionalInput('gitops-token'))
  const mode = choiceInput('mode', ['apply', 'gitops'] as const, 'apply')
  const images = readImages()
  const allowUnmatchedImages = booleanInput('allow-unmatched-images', false)
  return mode === 'apply'
    ? readApply(images, allowUnmatchedImages)
    : readGitops(images, allowUnmatchedImages)
}
