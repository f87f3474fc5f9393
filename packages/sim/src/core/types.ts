/**
 * The contract between the simulator's HTTP core (protocols, SigV4 auth, IAM allow-lists, faults,
 * request log, admin API) and its service models (STS, ECR, ECS, CodeDeploy, EKS).
 *
 * The simulator never imports product code (actions/, packages/{action-kit,aws,k8s}) and the product
 * never imports it: it answers from the AWS API models, not from what our actions happen to send.
 */

/** An AWS error with the code and HTTP status AWS uses, so SDK exception classes and retry classification work. */
export class AwsError extends Error {
  readonly code: string
  readonly status: number
  /** Extra members serialised next to the message (e.g. ECS `reason`). */
  readonly extra: Record<string, unknown>

  constructor(code: string, message: string, status = 400, extra: Record<string, unknown> = {}) {
    super(message)
    this.name = code
    this.code = code
    this.status = status
    this.extra = extra
  }
}

/** Who signed the request (resolved by the core from the SigV4 access key). */
export interface Caller {
  accessKeyId: string
  accountId: string
  /** e.g. arn:aws:sts::123456789012:assumed-role/deploy/session */
  arn: string
  userId: string
  roleArn?: string
  /** IAM actions this caller may perform, e.g. ["ecr:*", "ecs:DescribeServices"]; undefined = all. */
  allowedActions?: string[]
  /** ms since epoch (simulated clock) when the credentials expire; undefined = never. */
  expiresAt?: number
}

export interface RequestContext {
  /** undefined only for operations a service declares as unsigned (STS AssumeRoleWithWebIdentity). */
  caller: Caller | undefined
  region: string
  /** The account that owns resources in this simulator. */
  accountId: string
  /** The request id returned in x-amzn-RequestId. */
  requestId: string
  clock: Clock
}

export type Handler = (input: Record<string, unknown>, ctx: RequestContext) => unknown

export interface RestRoute {
  method: string
  /** Matched against the URL path (no query string). */
  path: RegExp
  operation: string
  /** Builds the handler input from the path match, the parsed JSON body and the query string. */
  input: (
    match: RegExpExecArray,
    body: Record<string, unknown>,
    query: URLSearchParams
  ) => Record<string, unknown>
  /** HTTP status of a success (default 200). */
  successStatus?: number
}

export type AdminHandler = (body: Record<string, unknown>, query: URLSearchParams) => unknown

export interface ServiceModule {
  /** SigV4 signing name = IAM action prefix: 'sts' | 'ecr' | 'ecs' | 'codedeploy' | 'eks'. */
  signingName: string
  protocol: 'json1.1' | 'rest-json' | 'query'
  /** json1.1: the X-Amz-Target prefix, e.g. 'AmazonEC2ContainerServiceV20141113'. */
  targetPrefix?: string
  /** query: the API version, e.g. '2011-06-15'; also the XML namespace suffix. */
  apiVersion?: string
  /** Operation name → handler. For json1.1/query the operation is the target/Action name. */
  handlers: Record<string, Handler>
  /** rest-json: how URLs map to operations. */
  routes?: RestRoute[]
  /** Operations AWS accepts without a signature. */
  unsignedOperations?: string[]
  /** Mounted at POST/GET /_sim/<signingName>/<name>; used by tests, the demo and the CLI to seed state and scenarios. */
  admin?: Record<string, AdminHandler>
  /** Called by the core on shutdown. */
  close?: () => void | Promise<void>
  /** query: the XML namespace of responses (default `https://<signingName>.amazonaws.com/doc/<apiVersion>/`). */
  xmlNamespace?: string
  /** The resource ARN named in AccessDeniedException messages (default `*`). */
  resourceArn?: (
    operation: string,
    input: Record<string, unknown>,
    ctx: RequestContext
  ) => string | undefined
}

/**
 * The simulated clock. `now()` runs faster than real time by `speed` (default 1), so deployments that take
 * minutes on AWS settle in seconds here; `advance(ms)` jumps forward (tests of expiry and timeouts).
 */
export interface Clock {
  now(): number
  speed: number
  advance(ms: number): void
  /** Resolves after `simulatedMs` of simulated time. */
  sleep(simulatedMs: number): Promise<void>
}

/** What the ECS model needs to know about the registry: does an image reference resolve? */
export interface RegistryView {
  /** Host (host:port) of the local registry as clients address it, e.g. 127.0.0.1:5001. */
  host: string
  /**
   * Resolves `image` (host/repo:tag or host/repo@sha256:…) against what was pushed.
   * Returns the digest, or undefined when the image does not exist. Images on other hosts → undefined.
   */
  resolve(image: string): Promise<string | undefined>
  /** The image config's Labels (for scenario labels), or undefined if unknown. */
  labels(image: string): Promise<Record<string, string> | undefined>
}
