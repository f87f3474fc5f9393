import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { core } from '@shipline/action-kit'
import type { ECRClient } from '@aws-sdk/client-ecr'
import {
  ActionError,
  type Exec,
  execCommand,
  type GitHubContext,
  githubContext,
  httpFetch,
  runAction,
  setOutputs,
  withGroup,
  writeSummary
} from '@shipline/action-kit'
import { type AwsAuthInputs, type AwsSession, createAwsClients, loadSts } from '@shipline/aws'
import {
  describeImage,
  ensureRepository,
  type Fetcher,
  loadEcr,
  parseEcrRegistry
} from '@shipline/ecr'
import {
  buildxConfigDir,
  createDockerConfigDir,
  type Docker,
  dockerLogout,
  jobDockerConfigDir,
  removeDir
} from '@shipline/oci'
import { ACTION_NAME, type BuildTagPushInputs, getInputs } from './inputs.js'
import { runPhase } from './phase.js'
import { commitTime, ociLabels, workspaceHead } from './labels.js'
import { buildFingerprint, FINGERPRINT_LABEL, formatFingerprint } from './fingerprint.js'
import { buildAndPush, checkReusable, type ImageResult, promote, tagExisting } from './publish.js'
import { allTags, commitTags } from './tags.js'

export interface Deps {
  exec: Exec
  /** An ECR client authenticated from the shared auth inputs (OIDC or the default chain). */
  ecr: (auth: AwsAuthInputs) => Promise<ECRClient>
  /** The key ARN a KMS alias names (kms:DescribeKey, same session), to compare an existing repository's key. */
  kmsKeyArn?: (auth: AwsAuthInputs, keyId: string) => Promise<string | undefined>
  fetch: Fetcher
  now: () => number
  env: NodeJS.ProcessEnv
  /** Inputs already parsed (and checked) by the entry point; parsed from `env` when absent. */
  inputs?: BuildTagPushInputs
}

export function defaultDeps(): Deps {
  let session: Promise<AwsSession> | undefined
  const authenticated = (auth: AwsAuthInputs) => (session ??= createAwsClients(auth))
  return {
    exec: execCommand,
    ecr: async (auth) => (await authenticated(auth)).client((await loadEcr()).ECRClient),
    kmsKeyArn: async (auth, keyId) => {
      // Loaded only when an existing repository's key must be compared with an alias.
      const { DescribeKeyCommand, KMSClient } = await import('@aws-sdk/client-kms')
      const kms = (await authenticated(auth)).client(KMSClient)
      return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Arn
    },
    fetch: (url) => httpFetch(url),
    now: () => Date.now(),
    env: process.env
  }
}

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  s390x: 's390x',
  ppc64: 'ppc64le'
}

export async function run(deps: Deps = defaultDeps()): Promise<void> {
  await runPhase({ main: () => runMain(deps), post: () => runPost(deps) })
}

export async function runPost(deps: Deps): Promise<void> {
  await runAction(ACTION_NAME, () => post(deps))
}

export async function runMain(deps: Deps): Promise<void> {
  await runAction(ACTION_NAME, () => main(deps))
}

/** Post step: log out and delete the private docker config (it holds the ECR token). */
async function post(deps: Deps): Promise<void> {
  const configDir = core.getState('docker-config')
  if (!configDir) return
  const registry = core.getState('registry')
  if (registry) await dockerLogout({ exec: deps.exec, configDir }, registry)
  removeDir(configDir)
  core.info('Removed the private Docker login')
}

async function main(deps: Deps): Promise<void> {
  const inputs = deps.inputs ?? getInputs(deps.env)
  const gh = githubContext(deps.env)
  const promoting = inputs.sourceImage !== undefined
  const commitSha = inputs.commitSha ?? gh.commitSha
  if (!promoting && !/^[0-9a-f]{40}$/.test(commitSha)) {
    throw new ActionError(
      `The commit SHA "${commitSha}" is not a 40-character git SHA`,
      'Run this action in a GitHub Actions job (GITHUB_SHA, or the pull_request head SHA, names the commit to tag)'
    )
  }
  // The SDK modules load while git runs (loading is no AWS call: the workspace is still checked before any).
  void Promise.all([loadSts(), loadEcr()]).catch(() => undefined)
  if (!promoting) {
    await checkWorkspaceHead(
      deps,
      gh,
      inputs.build.context,
      commitSha,
      inputs.commitSha !== undefined
    )
  }
  const commit = promoting
    ? undefined
    : commitTags(commitSha, inputs.shortShaLength, inputs.tagSuffix)
  const tags = allTags(commit, inputs.extraTags)
  const fingerprint = buildFingerprint(inputs.build, gh.workspace)

  const ecr = await deps.ecr(inputs.auth)
  // The commit tag is looked up while the repository is checked (a re-run needs both, and neither waits for the
  // other); the answer counts only if the repository already existed.
  const lookup = commit
    ? describeImage(
        ecr,
        { repositoryName: inputs.repository, registryId: inputs.registryId },
        { imageTag: commit.full }
      )
    : undefined
  lookup?.catch(() => undefined)
  const repo = await withGroup(`Repository ${inputs.repository}`, () =>
    ensureRepository(ecr, {
      repositoryName: inputs.repository,
      registryId: inputs.registryId,
      create: inputs.createRepository,
      settings: {
        imageTagMutability: inputs.imageTagMutability,
        scanOnPush: inputs.scanOnPush,
        encryptionType: inputs.encryption,
        kmsKey: inputs.kmsKey
      },
      lifecyclePolicy: inputs.lifecyclePolicy,
      resolveKmsKey: deps.kmsKeyArn ? (keyId) => deps.kmsKeyArn!(inputs.auth, keyId) : undefined
    })
  )
  core.info(
    `${repo.created ? 'Created' : 'Using'} ${repo.repositoryUri} (${repo.imageTagMutability})`
  )
  for (const note of repo.notes) core.info(`Repository ${repo.repositoryName}: ${note}`)
  for (const difference of repo.differences) {
    core.warning(
      `Repository ${repo.repositoryName}: ${difference}. Shipline never changes an existing repository; update it yourself or align the inputs.`
    )
  }
  const ctx = { ecr, repo, fetch: deps.fetch, now: deps.now }

  let result: ImageResult
  let mode: 'built' | 'reused' | 'promoted'
  if (inputs.sourceImage) {
    result = await withGroup(`Promote ${inputs.sourceImage.text}`, () =>
      promote(ctx, inputs.sourceImage!, tags)
    )
    mode = 'promoted'
  } else {
    const commitTag = commit!.full
    const existing = repo.created ? undefined : await lookup
    if (existing?.imageDigest) {
      core.info(
        `${repo.repositoryName}:${commitTag} already exists (${existing.imageDigest}): checking its build inputs`
      )
      const manifest = await checkReusable(ctx, existing.imageDigest, commitTag, fingerprint)
      core.info(`Its build inputs match: skipping the build`)
      result = {
        ...(await tagExisting(ctx, existing, tags, commit, manifest)),
        reusedBecause: 'this commit was already built from the same build inputs'
      }
      mode = 'reused'
    } else {
      const created = await commitTime(deps.exec, gh.workspace, commitSha, deps.env)
      if (created.source === 'none') {
        core.notice(
          'org.opencontainers.image.created is omitted: the workspace is not a git checkout containing the commit and SOURCE_DATE_EPOCH is unset.'
        )
      }
      const labels = ociLabels(
        {
          serverUrl: gh.serverUrl,
          repository: gh.repository,
          revision: commitSha,
          version: inputs.extraTags.find((t) => t !== 'latest') ?? commit!.short,
          created: created.created
        },
        inputs.build.labels
      )
      labels[FINGERPRINT_LABEL] = formatFingerprint(fingerprint)
      // Never the workspace: it is usually the build context, and the config will hold the ECR token.
      const runnerTemp = deps.env['RUNNER_TEMP'] || tmpdir()
      const configDir = createDockerConfigDir(runnerTemp, jobDockerConfigDir(deps.env))
      core.saveState('docker-config', configDir)
      const docker: Docker = { exec: deps.exec, configDir, buildxConfig: buildxConfigDir(deps.env) }
      result = await buildAndPush(
        {
          ...ctx,
          exec: deps.exec,
          docker,
          runnerTemp,
          hostPlatform: `linux/${ARCH[process.arch] ?? process.arch}`,
          allowRoot: inputs.allowRoot,
          commit: commit!,
          fingerprint
        },
        inputs.build,
        labels,
        tags
      )
      mode = result.reusedBecause ? 'reused' : 'built'
    }
  }
  if (result.reusedBecause) core.notice(`built=false: ${result.reusedBecause}`)

  const uriTag = commit?.short ?? tags.find((t) => t !== 'latest') ?? tags[0]
  const imageUri = `${repo.repositoryUri}:${uriTag}`
  const imageRef = `${repo.repositoryUri}@${result.digest}`
  setOutputs({
    'image-uri': imageUri,
    'image-digest': result.digest,
    'image-ref': imageRef,
    tags: result.tags,
    registry: repo.registry,
    'repository-uri': repo.repositoryUri,
    built: mode === 'built',
    'platform-digests': result.platformDigests
  })
  if (inputs.codepipelineArtifacts) {
    mkdirSync(inputs.codepipelineArtifacts, { recursive: true })
    writeFileSync(
      join(inputs.codepipelineArtifacts, 'imagedefinitions.json'),
      JSON.stringify([{ name: inputs.containerName, imageUri: imageRef }], null, 2) + '\n'
    )
    writeFileSync(
      join(inputs.codepipelineArtifacts, 'imageDetail.json'),
      JSON.stringify({ ImageURI: imageRef }, null, 2) + '\n'
    )
  }
  core.info(
    `${mode === 'built' ? 'Pushed' : mode === 'reused' ? 'Reused' : 'Promoted'} ${imageRef} as ${result.tags.join(', ')}`
  )
  await writeSummary({
    title: `build-tag-push: ${repo.repositoryName}`,
    rows: [
      ['Repository', repo.repositoryUri],
      ['Tags', result.tags.map((t) => `\`${t}\``).join(' ')],
      ['Digest', `\`${result.digest}\``],
      ['Size', formatSize(result.sizeBytes)],
      [
        'Result',
        mode === 'built'
          ? 'built and pushed'
          : mode === 'reused'
            ? `reused: ${result.reusedBecause ?? 'this commit was already built'}`
            : `promoted from ${inputs.sourceImage?.text ?? ''}`
      ],
      ['Build time', result.buildSeconds === undefined ? '-' : `${result.buildSeconds}s`],
      ['Image', consoleLink(repo, result.digest, inputs.auth.region)],
      ...Object.entries(result.platformDigests).map(([p, d]): [string, string] => [
        `Platform ${p}`,
        `\`${d}\``
      ])
    ]
  })
}

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '-'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** The ECR console page of the image; for a registry that is not ECR (the local stack), just the URI. */
export function consoleLink(
  repo: { registry: string; registryId: string; repositoryName: string; repositoryUri: string },
  digest: string,
  fallbackRegion: string
): string {
  const ecr = parseEcrRegistry(repo.registry)
  if (!ecr) return `\`${repo.repositoryUri}@${digest}\``
  const region = ecr.region || fallbackRegion
  const host = repo.registry.endsWith('.cn')
    ? `${region}.console.amazonaws.cn`
    : `${region}.console.aws.amazon.com`
  const url = `https://${host}/ecr/repositories/private/${repo.registryId}/${repo.repositoryName}/_/image/${digest}/details?region=${region}`
  return `[${repo.repositoryName}@${digest.slice(0, 19)}…](${url})`
}

/**
 * The image is tagged with a commit, so it must be built from that commit: `git rev-parse HEAD` in the build context
 * must be the commit to tag. On pull_request actions/checkout checks out the merge commit by default: refuse to push
 * its content under the head SHA. The advice never suggests checking out the head under pull_request_target, which
 * runs with the base repository's secrets and role.
 */
async function checkWorkspaceHead(
  deps: Deps,
  gh: GitHubContext,
  dir: string,
  commitSha: string,
  explicit: boolean
): Promise<void> {
  const head = await workspaceHead(deps.exec, dir)
  if (head === undefined) {
    core.notice(
      `The build context is not in a git checkout, so the action cannot check that it holds commit ${commitSha}, the commit the image is tagged with.`
    )
    return
  }
  const prTarget = gh.eventName === 'pull_request_target'
  if (head === commitSha) {
    if (prTarget && !explicit) {
      core.warning(
        `pull_request_target: the workspace is checked out at the pull request head ${commitSha}. This job runs with the base repository's secrets and a privileged token and AWS role, so building code from a pull request (a fork's too) runs it with them. Build pull requests in a workflow triggered by "pull_request" instead.`
      )
    }
    return
  }
  if (explicit) {
    throw new ActionError(
      `The workspace is checked out at ${head}, but "commit-sha" is ${commitSha}: the image content would not match its tag`,
      'Check out that commit, or set "commit-sha" to the commit you checked out'
    )
  }
  if (prTarget) {
    throw new ActionError(
      `The workspace is checked out at ${head} (the base branch, as pull_request_target checks out), but the image would be tagged with the pull request head ${commitSha}: its content would not match its tag`,
      "Do not check out the pull request head under pull_request_target: that job runs with the base repository's secrets and a privileged token and AWS role, so building the head would run untrusted code with them. " +
        'Build pull requests in a workflow triggered by "pull_request" (forks get no secrets there), or, to publish the base commit that was checked out, set commit-sha: ${{ github.sha }}'
    )
  }
  if (gh.eventName.startsWith('pull_request')) {
    const what =
      head === gh.sha
        ? "the merge commit GITHUB_SHA, actions/checkout's default"
        : 'not the pull request head'
    throw new ActionError(
      `The workspace is checked out at ${head} (${what}), but the image would be tagged with the pull request head ${commitSha}: its content would not match its tag`,
      'Check out the head commit (actions/checkout with ref: ${{ github.event.pull_request.head.sha }}), or tag the merge commit you built explicitly with commit-sha: ${{ github.sha }}'
    )
  }
  throw new ActionError(
    `The workspace is checked out at ${head}, but the image would be tagged with ${commitSha} (GITHUB_SHA): its content would not match its tag`,
    'Check out the commit the workflow runs for (actions/checkout without "ref"), or set "commit-sha" to the commit you checked out'
  )
}
