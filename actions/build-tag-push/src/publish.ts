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
  platformManifests,
  putImageTags,
  type RepoRef,
  type RepositoryInfo
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
import type { BuildInputs, SourceImage } from './inputs.js'

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

/** Adds the missing tags to an image that is already in the repository (PutImage, no pull). */
export async function tagExisting(
  ctx: PublishContext,
  detail: ImageDetail,
  tags: string[]
): Promise<ImageResult> {
  const digest = detail.imageDigest as string
  const manifest = await getImageManifest(ctx.ecr, ref(ctx.repo), { imageDigest: digest })
  const missing = tags.filter((t) => !(detail.imageTags ?? []).includes(t))
  const result = await putImageTags(ctx.ecr, ref(ctx.repo), manifest, missing)
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
  /** The commit tag that identifies this build (the full SHA). */
  commitTag: string
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
      const localRef = `${repo.repositoryUri}:${ctx.commitTag}`
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
      digest = await withGroup(`Push ${localRef}`, () =>
        dockerPush(ctx.docker, localRef, ctx.commitTag)
      )
    }
    const buildSeconds = Math.round((ctx.now() - started) / 1000)
    const manifest = await getImageManifest(ctx.ecr, ref(repo), { imageDigest: digest })
    const result = await putImageTags(ctx.ecr, ref(repo), manifest, tags)
    const detail = await describeImage(ctx.ecr, ref(repo), { imageTag: ctx.commitTag })
    if (detail?.imageDigest !== digest) {
      throw new ActionError(
        `The pushed digest ${digest} differs from ECR's digest ${detail?.imageDigest ?? '(none)'} for ${repo.repositoryName}:${ctx.commitTag}`,
        'Another job may have pushed the same commit concurrently; re-run the job (it will reuse the image in ECR)'
      )
    }
    return {
      digest,
      mediaType: manifest.mediaType,
      tags,
      added:
        builder.kind === 'engine'
          ? [ctx.commitTag, ...result.added.filter((t) => t !== ctx.commitTag)]
          : result.added,
      platformDigests: platformDigestsOf(manifest),
      sizeBytes: detail.imageSizeInBytes,
      buildSeconds
    }
  } finally {
    if (secretsDir) removeDir(secretsDir)
  }
}
