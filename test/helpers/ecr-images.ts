/**
 * A tiny non-root image (FROM scratch + busybox, USER 65532) built by the real Docker engine, logged in to the local
 * stack's ECR through a private DOCKER_CONFIG, and pushed into any repository: the set-up the scan-gate and
 * reliability suites share.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import type { SimStack } from '../../packages/sim/src/stack.js'
import { dockerOk, loginWithToken } from '../sim/docker-helpers.js'

export class EcrImages {
  readonly dockerConfig = mkdtempSync(join(tmpdir(), 'shipline-ecr-images-docker-'))

  /** `localImage` names the image this suite builds (give it the process id: suites run in parallel). */
  constructor(
    private readonly stack: SimStack,
    private readonly ecr: ECRClient,
    readonly localImage: string
  ) {}

  /** Checks the engine answers, builds the image and logs in to the stack's registry. */
  async prepare(): Promise<void> {
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' })
    } catch {
      throw new Error(
        'The Docker engine is not running: start dockerd (scripts/ensure-engine.sh) first'
      )
    }
    const context = mkdtempSync(join(tmpdir(), 'shipline-ecr-images-ctx-'))
    try {
      cpSync('/bin/busybox', join(context, 'busybox'))
      writeFileSync(
        join(context, 'Dockerfile'),
        'FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532\nENTRYPOINT ["/bin/busybox", "true"]\n'
      )
      await this.docker(['build', '--quiet', '-t', this.localImage, context])
    } finally {
      rmSync(context, { recursive: true, force: true })
    }
    const token = (await this.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
      ?.authorizationToken as string
    await loginWithToken(this.stack.registryHost, token, this.dockerConfig)
  }

  /** Runs docker with the private config (asynchronously: the registry proxy runs in this process). */
  docker(args: string[], input?: string): Promise<string> {
    return dockerOk(args, { input, config: this.dockerConfig })
  }

  /** Creates `repository`, pushes the image to it as `tag` and returns the digest ECR reports. */
  async push(repository: string, tag = 'v1'): Promise<string> {
    await this.ecr.send(new CreateRepositoryCommand({ repositoryName: repository }))
    const ref = `${this.stack.registryHost}/${repository}:${tag}`
    await this.docker(['tag', this.localImage, ref])
    await this.docker(['push', '--quiet', ref])
    await this.docker(['rmi', ref])
    const out = await this.ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] })
    )
    return out.imageDetails?.[0]?.imageDigest as string
  }

  async dispose(): Promise<void> {
    await this.docker(['rmi', '--force', this.localImage]).catch(() => undefined)
    rmSync(this.dockerConfig, { recursive: true, force: true })
  }
}
