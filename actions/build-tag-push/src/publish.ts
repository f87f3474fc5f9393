import { mkdtempSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { core } from '@shipline/action-kit'
import type { ECRClient, ImageDetail } from '@aws-sdk/client-ecr'
import { ActionError, type Exec, withGroup } from '@shipline/action-kit'
import {
  describeImage,
  ecrCacheRefs,
  type Fetcher,
  getEcrLogin,
  getImageConfigs,
  getImageManifest,
  type ImageManifest,
  isImageIndex,
  manifestOf,
  platformManifests,
  putImageTags,
  type RepoRef,
  type RepositoryInfo,
  TagConflictError
} from '@shipline/ecr'
import {
  type Builder,
  buildFailure,
  buildxArgs,
  detectBuilder,
  type Docker,
  dockerLogin,
  dockerPush,
  dockerRun,
  engineBuildArgs,
  imageUserIsRoot,
  inspectLocalImage,
  parseBuildxMetadata,
  platformMatches,
  removeDir,
  type UserVerdict,
  writeSecretFiles
} from '@shipline/oci'
import {
  describeDifference,
  differingInputs,
  FINGERPRINT_LABEL,
  type Fingerprint,
  parseFingerprint
} from './fingerprint.js'
import type { BuildInputs, SourceImage } from './inputs.js'
import { type CommitTags, writeOrder } from './tags.js'

export interface ImageResult {
  digest: string
  mediaType: string
  /** Every tag now on the image, in output order. */
  tags: string[]
  /** Tags this run added with PutImage or docker push. */
  added: string[]
  platformDigests: Record<string, string>
  sizeBytes: number | undefined
  buildSeconds: number | undefined
  /** Set when the commit's image was reused instead of built: why. */
  reusedBecause?: string
}

export interface PublishContext {
  ecr: ECRClient
  repo: RepositoryInfo
  fetch: Fetcher
  now: () => number
}

function ref(repo: RepositoryInfo): RepoRef {
  return { repositoryName: repo.repositoryName, registryId: repo.registryId }
}

function platformDigestsOf(manifest: ImageManifest): Record<string, string> {
  if (!isImageIndex(manifest.mediaType)) return {}
  return Object.fromEntries(platformManifests(manifest.manifest).map((m) => [m.platform, m.digest]))
}

/** Adds the missing tags to an image that is already in the repository (PutImage, no pull), full commit tag first. */
export async function tagExisting(
  ctx: PublishContext,
  detail: ImageDetail,
  tags: string[],
  commit?: CommitTags,
  /** The image's manifest when checkReusable has read it already. */
  known?: ImageManifest
): Promise<ImageResult> {
  const digest = detail.imageDigest as string
  const manifest = await manifestOf(ctx.ecr, ref(ctx.repo), digest, known)
  const missing = tags.filter((t) => !(detail.imageTags ?? []).includes(t))
  const result = await withCommitTagAdvice(commit, () =>
    putImageTags(ctx.ecr, ref(ctx.repo), manifest, writeOrder(missing, commit?.full))
  )
  return {
    digest,
    mediaType: manifest.mediaType,
    tags,
    added: result.added,
    platformDigests: platformDigestsOf(manifest),
    sizeBytes: detail.imageSizeInBytes,
    buildSeconds: undefined
  }
}

/**
 * A conflict on a tag the action derived from the commit (not one from "tags") gets advice about the commit tags:
 * never "remove it from tags", which the user cannot do.
 */
async function withCommitTagAdvice<T>(
  commit: CommitTags | undefined,
  body: () => Promise<T>
): Promise<T> {
  try {
    return await body()
  } catch (error) {
    if (!(error instanceof TagConflictError) || !commit) throw error
    if (error.tag !== commit.short && error.tag !== commit.full) throw error
    const which = error.tag === commit.full ? 'full' : 'short'
    throw new ActionError(
      `The commit tag "${error.tag}" already names another image (${error.currentDigest ?? 'unknown digest'}) in the repository, so this image cannot be tagged for the commit`,
      which === 'short'
        ? 'Two commits share this short SHA, or an earlier run of this commit was interrupted before its full-SHA tag was written. Raise "short-sha-length", or set "tag-suffix" to give this build its own commit tags'
        : 'Another build of this commit holds the tag. Set "tag-suffix" to give this build its own commit tags, or push it to another repository',
      { cause: error }
    )
  }
}

/**
 * Checks that an image found under the commit tag was built from the same build inputs (the fingerprint label), so it
 * may be reused; otherwise fails naming the inputs that differ and the fix. Reads the label from the image config in ECR.
 * Returns the image's manifest (for tagExisting).
 */
export async function checkReusable(
  ctx: PublishContext,
  digest: string,
  commitTag: string,
  expected: Fingerprint
): Promise<ImageManifest> {
  const manifest = await getImageManifest(ctx.ecr, ref(ctx.repo), { imageDigest: digest })
  const configs = await getImageConfigs(ctx.ecr, ref(ctx.repo), digest, ctx.fetch, manifest)
  const labelText = configs.map((c) => c.labels[FINGERPRINT_LABEL]).find((l) => l !== undefined)
  const found = parseFingerprint(labelText)
  const image = `${ctx.repo.repositoryName}:${commitTag} (${digest})`
  const fix =
    'Set "tag-suffix" (e.g. the target or variant name) so each set of build inputs gets its own commit tags, or push this build to another repository'
  if (!found) {
    throw new ActionError(
      `${image} already exists but carries no ${FINGERPRINT_LABEL} label${labelText ? ' this version understands' : ''} (pushed by another tool or an older build-tag-push), so it cannot be reused safely: its build inputs are unknown`,
      `${fix}; or delete the tag (aws ecr batch-delete-image) and re-run to rebuild the commit`
    )
  }
  const differing = differingInputs(expected, found)
  if (differing.length) {
    throw new ActionError(
      `${image} was built from different build inputs: ${differing.map((d) => describeDifference(d, expected, found)).join(', ')} ${differing.length > 1 ? 'differ' : 'differs'}. Reusing it would deploy the wrong image`,
      fix
    )
  }
  return manifest
}

/** Promote: BatchGetImage from the source, PutImage into the target. Nothing is pulled or pushed. */
export async function promote(
  ctx: PublishContext,
  source: SourceImage,
  tags: string[]
): Promise<ImageResult> {
  const sourceRepo: RepoRef = {
    repositoryName: source.repositoryName,
    registryId: source.registryId ?? ctx.repo.registryId
  }
  const manifest = await getImageManifest(
    ctx.ecr,
    sourceRepo,
    source.digest ? { imageDigest: source.digest } : { imageTag: source.tag }
  )
  if (source.digest && manifest.digest !== source.digest) {
    throw new ActionError(
      `ECR returned ${manifest.digest} for ${source.text}`,
      'Check "source-image"'
    )
  }
  const result = await putImageTags(ctx.ecr, ref(ctx.repo), manifest, tags)
  const detail = await describeImage(ctx.ecr, ref(ctx.repo), { imageDigest: manifest.digest })
  return {
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    tags,
    added: result.added,
    platformDigests: platformDigestsOf(manifest),
    sizeBytes: detail?.imageSizeInBytes,
    buildSeconds: undefined
  }
}

export interface BuildContext extends PublishContext {
  exec: Exec
  docker: Docker
  runnerTemp: string
  hostPlatform: string
  allowRoot: boolean
  /** The commit tags; `full` identifies this build. */
  commit: CommitTags
  /** The fingerprint of this build's inputs (also in the labels). */
  fingerprint: Fingerprint
}

function rootMessage(user: string, where: string, uid?: number): string {
  const named = uid === undefined ? '' : `, UID ${uid} in the image's /etc/passwd`
  return `${where} runs as root (its config User is ${user ? `"${user}"` : 'empty'}${named})`
}

const ROOT_HINT =
  'Add a non-root user to the final stage of the Dockerfile, e.g. "USER 65532:65532" (or RUN adduser … then USER app), ' +
  'so that a container escape does not start as root; set "allow-root: true" only if the image must run as root'

/** Fails (or warns with allow-root) when the image runs as root; a named user is resolved in the image itself. */
async function checkUser(
  ctx: BuildContext,
  image: { image: string; user: string; platform?: string },
  where: string
): Promise<void> {
  let verdict: UserVerdict
  try {
    verdict = await imageUserIsRoot(ctx.docker, { ...image, where, tempDir: ctx.runnerTemp })
  } catch (error) {
    if (!ctx.allowRoot || !(error instanceof ActionError)) throw error
    core.warning(`${error.message}; allowed because "allow-root" is true`)
    return
  }
  if (!verdict.root) return
  const message = rootMessage(image.user, where, verdict.uid)
  if (!ctx.allowRoot) throw new ActionError(message, ROOT_HINT)
  core.warning(`${message}; allowed because "allow-root" is true. ${ROOT_HINT}.`)
}

/** Refuses inputs the engine builder cannot honour (never silently ignored). */
export function checkEngineSupport(
  build: BuildInputs,
  builder: Extract<Builder, { kind: 'engine' }>,
  hostPlatform: string
): void {
  const needBuildx = (what: string, input: string): never => {
    throw new ActionError(
      `"${input}" needs docker buildx (${what}), which this runner does not have (docker ${builder.clientVersion} without the buildx plugin)`,
      'Run on a GitHub-hosted runner or add docker/setup-buildx-action before this step, or remove the input'
    )
  }
  const others = build.platforms.filter((p) => !platformMatches(p, hostPlatform))
  if (others.length) needBuildx(`building ${others.join(', ')} on ${hostPlatform}`, 'platforms')
  if (build.provenance !== false) needBuildx('provenance attestations', 'provenance')
  if (build.sbom !== false) needBuildx('SBOM attestations', 'sbom')
  if (build.cacheTo.length) needBuildx('cache export', 'cache-to')
  if (build.secrets.length && !builder.buildkit) needBuildx('BuildKit secrets', 'secrets')
  const fromRefs = build.cacheFrom.filter(
    (c) => c.includes('type=') && !c.startsWith('type=registry')
  )
  if (fromRefs.length) needBuildx('cache backends other than registry images', 'cache-from')
  if (build.ecrCache) {
    core.warning(
      '"ecr-cache: true" is ignored: the engine builder cannot export a registry cache without buildx. Add docker/setup-buildx-action to use it.'
    )
  }
}

/** Builds, checks the non-root rule, pushes by the registry, tags with PutImage. */
export async function buildAndPush(
  ctx: BuildContext,
  build: BuildInputs,
  labels: Record<string, string>,
  tags: string[]
): Promise<ImageResult> {
  const repo = ctx.repo
  await withGroup('Log in to ECR', async () => {
    const creds = await getEcrLogin(ctx.ecr, repo.registryId)
    if (creds.registry !== repo.registry) {
      core.info(
        `ECR proxy endpoint ${creds.registry} differs from the repository host ${repo.registry}; logging in to both`
      )
    }
    await dockerLogin(ctx.docker, creds)
    if (creds.registry !== repo.registry)
      await dockerLogin(ctx.docker, { ...creds, registry: repo.registry })
    core.saveState('registry', repo.registry)
  })
  const builder = await detectBuilder(ctx.docker)
  const secretsDir = build.secrets.length
    ? mkdtempSync(join(ctx.runnerTemp, 'shipline-secrets-'))
    : undefined
  const started = ctx.now()
  try {
    const secretFiles = secretsDir ? writeSecretFiles(secretsDir, build.secrets) : []
    const cache = ecrCacheRefs(repo.repositoryUri)
    const spec = {
      context: build.context,
      dockerfile: build.dockerfile,
      buildArgs: build.buildArgs,
      labels,
      target: build.target,
      platforms: build.platforms,
      secretFiles,
      cacheFrom: [...build.cacheFrom, ...(build.ecrCache ? [cache.from] : [])],
      cacheTo: [...build.cacheTo, ...(build.ecrCache ? [cache.to] : [])]
    }
    let digest: string
    if (builder.kind === 'buildx') {
      const workDir = mkdtempSync(join(ctx.runnerTemp, 'shipline-buildx-'))
      const metadataFile = join(workDir, 'metadata.json')
      const args = buildxArgs({
        ...spec,
        repositoryUri: repo.repositoryUri,
        metadataFile,
        provenance: build.provenance,
        sbom: build.sbom
      })
      const result = await withGroup(`Build and push with buildx ${builder.version}`, () =>
        dockerRun(ctx.docker, args, { env: { BUILDX_METADATA_WARNINGS: 'true' } })
      )
      if (result.exitCode !== 0) throw buildFailure('docker buildx build', result)
      const metadata = parseBuildxMetadata(readFileSync(metadataFile, 'utf8'))
      removeDir(workDir)
      digest = metadata.digest
      const configs = await getImageConfigs(ctx.ecr, ref(repo), digest, ctx.fetch)
      for (const config of configs) {
        await checkUser(
          ctx,
          {
            image: `${repo.repositoryUri}@${config.digest}`,
            user: config.user,
            platform: config.platform || undefined
          },
          `The image ${repo.repositoryUri}@${config.digest}${config.platform ? ` (${config.platform})` : ''}`
        )
      }
    } else {
      checkEngineSupport(build, builder, ctx.hostPlatform)
      if (build.ecrCache) spec.cacheFrom = build.cacheFrom
      spec.cacheTo = []
      const localRef = `${repo.repositoryUri}:${ctx.commit.full}`
      const { args, env } = engineBuildArgs(spec, builder, localRef)
      const result = await withGroup(
        `Build with the engine's ${builder.buildkit ? 'BuildKit' : 'classic'} builder (no buildx)`,
        () => dockerRun(ctx.docker, args, { env })
      )
      if (result.exitCode !== 0) throw buildFailure('docker build', result)
      const image = await inspectLocalImage(ctx.docker, localRef)
      await checkUser(
        ctx,
        { image: localRef, user: image.user },
        `The image built from ${build.dockerfile}`
      )
      try {
        digest = await withGroup(`Push ${localRef}`, () =>
          dockerPush(ctx.docker, localRef, ctx.commit.full)
        )
      } catch (error) {
        // An IMMUTABLE commit tag that another build of this commit pushed meanwhile refuses our push.
        const reused = await reuseAfterRace(ctx, tags)
        if (reused) return reused
        throw error
      }
    }
    const buildSeconds = Math.round((ctx.now() - started) / 1000)
    const manifest = await getImageManifest(ctx.ecr, ref(repo), { imageDigest: digest })
    let result
    try {
      result = await withCommitTagAdvice(ctx.commit, () =>
        putImageTags(ctx.ecr, ref(repo), manifest, writeOrder(tags, ctx.commit.full))
      )
    } catch (error) {
      const conflict = error instanceof ActionError ? error.cause : undefined
      if (conflict instanceof TagConflictError && conflict.tag === ctx.commit.full) {
        const reused = await reuseAfterRace(ctx, tags)
        if (reused) return reused
      }
      throw error
    }
    const detail = await describeImage(ctx.ecr, ref(repo), { imageTag: ctx.commit.full })
    if (detail?.imageDigest !== digest) {
      throw new ActionError(
        `The pushed digest ${digest} differs from ECR's digest ${detail?.imageDigest ?? '(none)'} for ${repo.repositoryName}:${ctx.commit.full}`,
        'Another job may have pushed the same commit concurrently; re-run the job (it will reuse the image in ECR)'
      )
    }
    return {
      digest,
      mediaType: manifest.mediaType,
      tags,
      added:
        builder.kind === 'engine'
          ? [ctx.commit.full, ...result.added.filter((t) => t !== ctx.commit.full)]
          : result.added,
      platformDigests: platformDigestsOf(manifest),
      sizeBytes: detail.imageSizeInBytes,
      buildSeconds
    }
  } finally {
    if (secretsDir) removeDir(secretsDir)
  }
}

/**
 * Two builds of one commit at once (a push and a pull_request workflow): when the other build wrote the full commit
 * tag first, reuse its image, as a re-run would, provided its build inputs match. Undefined when the tag is absent.
 */
async function reuseAfterRace(ctx: BuildContext, tags: string[]): Promise<ImageResult | undefined> {
  const holder = await describeImage(ctx.ecr, ref(ctx.repo), { imageTag: ctx.commit.full })
  if (!holder?.imageDigest) return undefined
  const image = `${ctx.repo.repositoryName}:${ctx.commit.full}`
  core.info(
    `${image} was pushed by another build of this commit (${holder.imageDigest}) while this one was building; checking its build inputs`
  )
  const manifest = await checkReusable(ctx, holder.imageDigest, ctx.commit.full, ctx.fingerprint)
  const result = await tagExisting(ctx, holder, tags, ctx.commit, manifest)
  return {
    ...result,
    reusedBecause: `another build of this commit pushed ${image} first, from the same build inputs; this build was discarded`
  }
}
