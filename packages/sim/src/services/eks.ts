/**
 * Amazon EKS (restJson1): DescribeCluster, ListClusters, ListAccessEntries, DescribeAccessEntry and
 * ListAssociatedAccessPolicies over clusters seeded through the admin API (the seeder supplies the
 * endpoint and CA, since the Kubernetes API simulator is a separate component).
 */
import {
  AwsError,
  type AdminHandler,
  type Clock,
  type Handler,
  type RegistryView,
  type RestRoute,
  type ServiceModule
} from '../core/types.js'
import { compact, epoch, isObj, paginate, uuid, type Json, text } from './ecs-util.js'

export interface EksDeps {
  clock: Clock
  registry?: RegistryView
  accountId: string
  region: string
  /** Starts the Kubernetes API simulator of a cluster seeded without an endpoint (see ../kube). */
  kube?: {
    start(
      name: string,
      version: string,
      auth: () => EksCluster | undefined
    ): Promise<{ endpoint: string; caData: string }>
  }
}

interface AccessPolicy {
  policyArn: string
  accessScope: { type: string; namespaces?: string[] }
  associatedAt: number
}

interface AccessEntry {
  principalArn: string
  kubernetesGroups: string[]
  username: string
  type: string
  createdAt: number
  tags: Record<string, string>
  policies: AccessPolicy[]
}

export interface EksCluster {
  name: string
  arn: string
  endpoint: string
  certificateAuthority: string
  status: string
  version: string
  platformVersion: string
  authenticationMode: string
  roleArn: string
  createdAt: number
  tags: Record<string, string>
  oidcIssuer?: string
  entries: Map<string, AccessEntry>
}

const AUTH_MODES = ['API', 'API_AND_CONFIG_MAP', 'CONFIG_MAP']
const STATUSES = ['CREATING', 'ACTIVE', 'DELETING', 'FAILED', 'UPDATING', 'PENDING']

export interface EksServiceModule extends ServiceModule {
  clusters: Map<string, EksCluster>
}

export function createEksService(deps: EksDeps): EksServiceModule {
  const clusters = new Map<string, EksCluster>()

  const notFound = (name: string): AwsError =>
    new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404, {
      clusterName: name
    })

  const getCluster = (name: string): EksCluster => {
    const c = clusters.get(name)
    if (!c) throw notFound(name)
    return c
  }

  const requireApiAuth = (c: EksCluster): void => {
    if (c.authenticationMode === 'CONFIG_MAP') {
      throw new AwsError(
        'InvalidRequestException',
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        400,
        { clusterName: c.name }
      )
    }
  }

  const getEntry = (c: EksCluster, principalArn: string): AccessEntry => {
    const e = c.entries.get(principalArn)
    if (!e) {
      throw new AwsError(
        'ResourceNotFoundException',
        "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.",
        404,
        { clusterName: c.name }
      )
    }
    return e
  }

  const maxResults = (v: unknown): number | undefined => {
    if (v === undefined || v === null || v === '') return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw new AwsError('InvalidParameterException', 'maxResults must be between 1 and 100.', 400)
    }
    return n
  }

  const clusterOut = (c: EksCluster): Json =>
    compact({
      name: c.name,
      arn: c.arn,
      createdAt: epoch(c.createdAt),
      version: c.version,
      endpoint: c.status === 'CREATING' ? undefined : c.endpoint,
      roleArn: c.roleArn,
      resourcesVpcConfig: {
        subnetIds: [],
        securityGroupIds: [],
        vpcId: 'vpc-0sim',
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ['0.0.0.0/0']
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      identity: c.oidcIssuer ? { oidc: { issuer: c.oidcIssuer } } : undefined,
      status: c.status,
      certificateAuthority: c.status === 'CREATING' ? {} : { data: c.certificateAuthority },
      platformVersion: c.platformVersion,
      tags: c.tags,
      accessConfig: {
        authenticationMode: c.authenticationMode,
        bootstrapClusterCreatorAdminPermissions: true
      }
    })

  const entryOut = (c: EksCluster, e: AccessEntry): Json => ({
    clusterName: c.name,
    principalArn: e.principalArn,
    kubernetesGroups: e.kubernetesGroups,
    accessEntryArn: `arn:aws:eks:${deps.region}:${deps.accountId}:access-entry/${c.name}/${principalKind(e.principalArn)}/${deps.accountId}/${principalName(e.principalArn)}/${uuid()}`,
    createdAt: epoch(e.createdAt),
    modifiedAt: epoch(e.createdAt),
    tags: e.tags,
    username: e.username,
    type: e.type
  })

  const handlers: Record<string, Handler> = {
    ListClusters: (input) => {
      const names = [...clusters.keys()].sort()
      const { page, nextToken } = paginate(
        names,
        input.nextToken as string | undefined,
        maxResults(input.maxResults),
        {
          max: 100,
          salt: 'clusters',
          errorCode: 'InvalidParameterException'
        }
      )
      return compact({ clusters: page, nextToken })
    },
    DescribeCluster: (input) => ({ cluster: clusterOut(getCluster(String(input.name))) }),
    ListAccessEntries: (input) => {
      const c = getCluster(String(input.clusterName))
      requireApiAuth(c)
      const policy = input.associatedPolicyArn as string | undefined
      const arns = [...c.entries.values()]
        .filter((e) => policy === undefined || e.policies.some((p) => p.policyArn === policy))
        .map((e) => e.principalArn)
      const { page, nextToken } = paginate(
        arns,
        input.nextToken as string | undefined,
        maxResults(input.maxResults),
        {
          max: 100,
          salt: `entries:${c.name}:${policy ?? ''}`,
          errorCode: 'InvalidParameterException'
        }
      )
      return compact({ accessEntries: page, nextToken })
    },
    DescribeAccessEntry: (input) => {
      const c = getCluster(String(input.clusterName))
      requireApiAuth(c)
      return { accessEntry: entryOut(c, getEntry(c, String(input.principalArn))) }
    },
    ListAssociatedAccessPolicies: (input) => {
      const c = getCluster(String(input.clusterName))
      requireApiAuth(c)
      const e = getEntry(c, String(input.principalArn))
      const { page, nextToken } = paginate(
        e.policies,
        input.nextToken as string | undefined,
        maxResults(input.maxResults),
        {
          max: 100,
          salt: `policies:${c.name}:${e.principalArn}`,
          errorCode: 'InvalidParameterException'
        }
      )
      return compact({
        clusterName: c.name,
        principalArn: e.principalArn,
        associatedAccessPolicies: page.map((p) => ({
          policyArn: p.policyArn,
          accessScope: compact({ ...p.accessScope }),
          associatedAt: epoch(p.associatedAt),
          modifiedAt: epoch(p.associatedAt)
        })),
        nextToken
      })
    }
  }

  const seg = '([^/]+)'
  const dec = (s: string | undefined): string => decodeURIComponent(s ?? '')
  const routes: RestRoute[] = [
    {
      method: 'GET',
      path: /^\/clusters\/?$/,
      operation: 'ListClusters',
      input: (_m, _b, q) => ({
        maxResults: q.get('maxResults') ?? undefined,
        nextToken: q.get('nextToken') ?? undefined
      })
    },
    {
      method: 'GET',
      path: new RegExp(`^/clusters/${seg}/access-entries/${seg}/access-policies/?$`),
      operation: 'ListAssociatedAccessPolicies',
      input: (m, _b, q) => ({
        clusterName: dec(m[1]),
        principalArn: dec(m[2]),
        maxResults: q.get('maxResults') ?? undefined,
        nextToken: q.get('nextToken') ?? undefined
      })
    },
    {
      method: 'GET',
      path: new RegExp(`^/clusters/${seg}/access-entries/${seg}/?$`),
      operation: 'DescribeAccessEntry',
      input: (m) => ({ clusterName: dec(m[1]), principalArn: dec(m[2]) })
    },
    {
      method: 'GET',
      path: new RegExp(`^/clusters/${seg}/access-entries/?$`),
      operation: 'ListAccessEntries',
      input: (m, _b, q) => ({
        clusterName: dec(m[1]),
        associatedPolicyArn: q.get('associatedPolicyArn') ?? undefined,
        maxResults: q.get('maxResults') ?? undefined,
        nextToken: q.get('nextToken') ?? undefined
      })
    },
    {
      method: 'GET',
      path: new RegExp(`^/clusters/${seg}/?$`),
      operation: 'DescribeCluster',
      input: (m) => ({ name: dec(m[1]) })
    }
  ]

  const seedCluster = (raw: Json): EksCluster => {
    const name = raw.name
    if (typeof name !== 'string' || !/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(name)) {
      throw new AwsError(
        'InvalidParameterException',
        'name must match ^[0-9A-Za-z][A-Za-z0-9\\-_]*$ (1-100 characters).'
      )
    }
    const mode = text(raw.authenticationMode, 'API_AND_CONFIG_MAP')
    if (!AUTH_MODES.includes(mode))
      throw new AwsError(
        'InvalidParameterException',
        `authenticationMode must be one of ${AUTH_MODES.join(', ')}.`
      )
    const status = text(raw.status, 'ACTIVE')
    if (!STATUSES.includes(status))
      throw new AwsError(
        'InvalidParameterException',
        `status must be one of ${STATUSES.join(', ')}.`
      )
    const now = deps.clock.now()
    const c: EksCluster = {
      name,
      arn: `arn:aws:eks:${deps.region}:${deps.accountId}:cluster/${name}`,
      endpoint: text(raw.endpoint, `https://${name.toLowerCase()}.sim.eks.local`),
      certificateAuthority: text(raw.certificateAuthority ?? raw.caData, ''),
      status,
      version: text(raw.version, '1.33'),
      platformVersion: text(raw.platformVersion, 'eks.1'),
      authenticationMode: mode,
      roleArn: text(raw.roleArn, `arn:aws:iam::${deps.accountId}:role/eks-cluster-role`),
      createdAt: now,
      tags: isObj(raw.tags) ? (raw.tags as Record<string, string>) : {},
      oidcIssuer: typeof raw.oidcIssuer === 'string' ? raw.oidcIssuer : undefined,
      entries: new Map()
    }
    for (const e of (raw.accessEntries as unknown[] | undefined) ?? []) {
      if (!isObj(e) || typeof e.principalArn !== 'string') {
        throw new AwsError('InvalidParameterException', 'Each access entry needs a principalArn.')
      }
      c.entries.set(e.principalArn, {
        principalArn: e.principalArn,
        kubernetesGroups: (e.kubernetesGroups as string[] | undefined) ?? [],
        username: text(e.username, defaultUsername(e.principalArn)),
        type: text(e.type, 'STANDARD'),
        createdAt: now,
        tags: isObj(e.tags) ? (e.tags as Record<string, string>) : {},
        policies: (((e.policies ?? e.accessPolicies) as unknown[] | undefined) ?? []).map((p) => {
          const pj = isObj(p) ? p : { policyArn: String(p) }
          return {
            policyArn: String(pj.policyArn),
            accessScope: isObj(pj.accessScope)
              ? {
                  type: text(pj.accessScope.type, 'cluster'),
                  namespaces: pj.accessScope.namespaces as string[] | undefined
                }
              : { type: 'cluster' },
            associatedAt: now
          }
        })
      })
    }
    clusters.set(name, c)
    return c
  }

  const admin: Record<string, AdminHandler> = {
    /** {clusters: [{name, endpoint, certificateAuthority (base64 PEM), status, version, authenticationMode, accessEntries: [{principalArn, kubernetesGroups, username, type, policies: [{policyArn, accessScope}]}]}]} */
    seed: async (body) => {
      const out: string[] = []
      const details: Json[] = []
      for (const raw of (body.clusters as unknown[] | undefined) ?? []) {
        if (!isObj(raw))
          throw new AwsError('InvalidParameterException', 'clusters must be a list of objects.')
        // no endpoint given: serve the cluster's Kubernetes API from the simulator (kubeApi: false opts out)
        if (raw.endpoint === undefined && raw.kubeApi !== false && deps.kube) {
          const name = String(raw.name)
          const started = await deps.kube.start(name, text(raw.version, '1.33'), () =>
            clusters.get(name)
          )
          raw.endpoint = started.endpoint
          raw.certificateAuthority ??= started.caData
        }
        const c = seedCluster(raw)
        out.push(c.arn)
        details.push({
          name: c.name,
          endpoint: c.endpoint,
          certificateAuthority: c.certificateAuthority
        })
      }
      return { clusters: out, details }
    }
  }

  return { signingName: 'eks', protocol: 'rest-json', handlers, routes, admin, clusters }
}

function principalKind(arn: string): string {
  return arn.includes(':role/') ? 'role' : 'user'
}

function principalName(arn: string): string {
  return arn.split('/').pop() ?? arn
}

/** EKS's default username for an access entry. */
function defaultUsername(arn: string): string {
  return arn.includes(':role/')
    ? `${arn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/{{SessionName}}`
    : arn
}
