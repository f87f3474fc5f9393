import {
  createElbv2Service,
  createIamService,
  createLogsService,
  createSecretsManagerService,
  createSsmService
} from './services/verify-resources.js'
import { SimClock } from './core/clock.js'
import { CredentialStore } from './core/iam.js'
import { SimServer, type RequestLogEntry } from './core/server.js'
import type { RegistryView, ServiceModule } from './core/types.js'
import { OidcIssuer } from './oidc.js'
import { createCodeDeployService } from './services/codedeploy.js'
import { createEcsService } from './services/ecs.js'
import { createLambdaService } from './services/lambda.js'
import { createEksService } from './services/eks.js'
import { BackendRegistry } from './registry/backend.js'
import { RegistryProxy } from './registry/proxy.js'
import { createEcrService, type EcrService, LAYER_URL_PREFIX } from './services/ecr.js'
import { KubeSim } from './kube/index.js'
import { mountGitHub, type GitHubSim } from './github.js'
import { createKmsService } from './services/kms.js'
import { createStsService, type StsService } from './services/sts.js'

export interface StackOptions {
  /** Simulated-clock speed (default 1). */
  speed?: number
  /** Lifetime of STS credentials in simulated seconds (default: the requested DurationSeconds). */
  credentialTtlSeconds?: number
  /** Start the OCI registry + ECR proxy (default true). Tests that need none start faster. */
  registry?: boolean
  accountId?: string
  region?: string
  /** Port of the AWS endpoint (default: a free one). */
  port?: number
  /** Kubernetes API simulators over TLS with a generated CA (default true; false = plain HTTP). */
  kubeTls?: boolean
}

export interface SimStack {
  /** AWS endpoint for every service: `http://127.0.0.1:<port>`. */
  endpoint: string
  /** `127.0.0.1:<port>` of the ECR registry proxy ('' when the registry is off). */
  registryHost: string
  region: string
  accountId: string
  /** The ready-made role: trusts `repo:*`, every action allowed. */
  roleArn: string
  /** Environment that points the AWS SDK, @actions/core getIDToken() and our actions at the stack. */
  env: Record<string, string>
  /** SDK client config for the stack with the bootstrap credentials: `new ECSClient({ ...stack.clientConfig })`. */
  clientConfig: {
    endpoint: string
    region: string
    credentials: { accessKeyId: string; secretAccessKey: string }
  }
  clock: SimClock
  server: SimServer
  oidc: OidcIssuer
  sts: StsService
  registry: RegistryView
  ecr: EcrService
  /** The Kubernetes API simulators (one per EKS cluster seeded without an endpoint). */
  kube: KubeSim
  /** The GitHub REST stand-in (pull requests) at `<endpoint>/api/v3`. */
  github: GitHubSim
  /** The docker-registry process id (undefined when the registry is off). */
  registryPid?: number
  admin: {
    get<T = unknown>(path: string): Promise<T>
    post<T = unknown>(path: string, body?: unknown): Promise<T>
    delete<T = unknown>(path: string): Promise<T>
  }
  /**
   * Every secret the stack handed out so far: secret access keys, session tokens, ECR passwords and authorization
   * tokens, OIDC tokens, the runner's OIDC request token. Tests assert none of them appears in an action's output.
   */
  knownSecrets(): string[]
  requestLog(filter?: {
    service?: string
    operation?: string
    kind?: string
    sinceId?: number
  }): RequestLogEntry[]
  stop(): Promise<void>
}

/** A RegistryView that knows no images (registry off). */
const emptyRegistry = (host: string): RegistryView => ({
  host,
  resolve: () => Promise.resolve(undefined),
  labels: () => Promise.resolve(undefined)
})

export async function startStack(options: StackOptions = {}): Promise<SimStack> {
  const accountId = options.accountId ?? '123456789012'
  const region = options.region ?? 'us-east-1'
  const clock = new SimClock({ speed: options.speed ?? 1 })
  const credentials = new CredentialStore()
  const server = new SimServer({ clock, accountId, region, credentials })
  const cleanups: Array<() => Promise<void> | void> = []
  try {
    await server.start(options.port ?? 0)
    cleanups.push(() => server.close())

    const oidc = new OidcIssuer(clock)
    oidc.mount(server)
    const sts = createStsService({
      clock,
      accountId,
      credentials,
      credentialTtlSeconds: options.credentialTtlSeconds
    })
    sts.addProvider({
      url: oidc.issuer,
      clientIds: ['sts.amazonaws.com'],
      jwks: () => oidc.jwks(),
      isRevoked: (jti) => oidc.isRevoked(jti)
    })
    const roleArn = `arn:aws:iam::${accountId}:role/shipline-sim`
    sts.addRole({
      roleArn,
      trust: { sub: ['repo:*'], aud: 'sts.amazonaws.com' },
      maxSessionDuration: 43200
    })
    server.register(sts)

    const bootstrap = credentials.issue({
      accountId,
      arn: `arn:aws:iam::${accountId}:user/shipline-sim-bootstrap`,
      userId: 'AIDASHIPLINESIMBOOT'
    })

    let backend: BackendRegistry | undefined
    if (options.registry !== false) {
      const started = new BackendRegistry()
      cleanups.push(() => started.stop())
      await started.start()
      backend = started
    }
    let proxy: RegistryProxy | undefined
    const kms = createKmsService({ clock, accountId, region })
    server.register(kms)
    const ecr = createEcrService({
      clock,
      accountId,
      region,
      backend,
      registryHost: () => proxy?.host ?? '',
      kms,
      layerUrlBase: () => server.url
    })
    server.register(ecr)
    server.addRawRoute(LAYER_URL_PREFIX, (req, res, url) => ecr.serveLayer(req, res, url))
    if (backend) {
      const p = new RegistryProxy(backend, server, ecr.hooks, accountId)
      cleanups.push(() => p.close())
      await p.start()
      proxy = p
    }
    const registry: RegistryView = backend ? ecr.registryView : emptyRegistry('')

    const modules: ServiceModule[] = []
    // ---- SIM-2: the ECS / CodeDeploy / EKS models
    const lambda = createLambdaService({ clock, accountId, region })
    modules.push(lambda)
    const ecs = createEcsService({ clock, registry, accountId, region, lambda })
    modules.push(ecs)
    modules.push(createCodeDeployService({ clock, registry, accountId, region, ecs, lambda }))
    const kube = new KubeSim({ clock, sim: server, registry, tls: options.kubeTls })
    cleanups.push(() => kube.stop())
    modules.push(createEksService({ clock, registry, accountId, region, kube }))
    const github = mountGitHub(server)
    const resources = { clock, accountId, region }
    modules.push(
      createIamService(resources),
      createSecretsManagerService(resources),
      createSsmService(resources),
      createLogsService(resources),
      createElbv2Service(resources)
    )
    // ---- end SIM-2
    for (const m of modules) server.register(m)

    const endpoint = server.url
    const registryHost = registry.host
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: bootstrap.accessKeyId,
      AWS_SECRET_ACCESS_KEY: bootstrap.secretAccessKey,
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
      SHIPLINE_SIM_ROLE_ARN: roleArn,
      SHIPLINE_SIM_REGISTRY: registryHost,
      SHIPLINE_SIM_ADMIN_URL: `${endpoint}/_sim`,
      SHIPLINE_SIM_GITHUB_API_URL: github.apiUrl,
      SHIPLINE_SIM_GITHUB_TOKEN: github.defaultToken
    }

    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(
        `${endpoint}/_sim/${path.replace(/^\/+/, '').replace(/^_sim\//, '')}`,
        {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body)
        }
      )
      const text = await res.text()
      const parsed = text ? (JSON.parse(text) as unknown) : undefined
      if (!res.ok) throw new Error(`admin ${method} ${path} → ${res.status}: ${text}`)
      return parsed as T
    }

    const knownSecrets = (): string[] => [
      ...credentials.secrets(),
      ...ecr.issuedSecrets(),
      ...oidc.minted,
      oidc.requestToken
    ]
    server.addAdmin('secrets', () => ({ secrets: knownSecrets() }))

    let stopped = false
    return {
      endpoint,
      registryHost,
      region,
      accountId,
      roleArn,
      env,
      clientConfig: {
        endpoint,
        region,
        credentials: {
          accessKeyId: bootstrap.accessKeyId,
          secretAccessKey: bootstrap.secretAccessKey
        }
      },
      clock,
      server,
      oidc,
      sts,
      registry,
      ecr,
      kube,
      github,
      registryPid: backend?.pid,
      admin: {
        get: (path) => call('GET', path),
        post: (path, body) => call('POST', path, body ?? {}),
        delete: (path) => call('DELETE', path)
      },
      knownSecrets,
      requestLog: (filter) => server.requestLog(filter),
      stop: async () => {
        if (stopped) return
        stopped = true
        clock.wakeAll()
        for (const c of cleanups.reverse()) await c()
      }
    }
  } catch (err) {
    for (const c of cleanups.reverse()) await c()
    throw err
  }
}
