export { startStack, type SimStack, type StackOptions } from './stack.js'
export { SimClock } from './core/clock.js'
export { SimServer, type RequestLogEntry, type FaultRule } from './core/server.js'
export { AwsError } from './core/types.js'
export type {
  Caller,
  Clock,
  RegistryView,
  RequestContext,
  ServiceModule,
  Handler,
  RestRoute
} from './core/types.js'
export { OidcIssuer, GITHUB_ISSUER } from './oidc.js'
export {
  PublicRegistry,
  type PublicRegistryOptions,
  type PublicRegistryRequest
} from './registry/public.js'
export { KubeSim, KubeCluster, TIMING as KUBE_TIMING, type ImageRule } from './kube/index.js'
export { mountGitHub, type GitHubSim } from './github.js'
