import { ECRClient } from '@aws-sdk/client-ecr'
import { ECSClient } from '@aws-sdk/client-ecs'
import { ActionError, core, runAction, setOutputs, withGroup } from '@shipline/action-kit'
import { type AwsSession, createAwsClients, patientClient } from '@shipline/aws'
import { endpointRegistryHost } from '@shipline/ecr'
import {
  consoleUrl,
  type DeployDeps,
  type DeployReport,
  deployToEcs,
  sleepUnlessAborted
} from '@shipline/ecs'
import { ACTION_NAME, type DeployEcsInputs, getInputs } from './inputs.js'
import { writeDeploySummary } from './summary.js'

export interface DeployEcsDeps {
  getInputs(): DeployEcsInputs
  session(inputs: DeployEcsInputs): Promise<AwsSession>
}

export function defaultDeps(): DeployEcsDeps {
  return { getInputs, session: (inputs) => createAwsClients(inputs.auth) }
}

/** A client's `send` that creates the client (and loads its SDK package) on its first call. */
function lazyClient<C extends { send(...args: never[]): Promise<unknown> }>(
  create: () => Promise<C>
): Pick<C, 'send'> {
  let client: Promise<C> | undefined
  const send = async (...args: Parameters<C['send']>): Promise<unknown> =>
    (await (client ??= create())).send(...args)
  return { send }
}

function cancellation(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const onSignal = (name: string) => () => {
    core.warning(`${name} received: stopping the wait and rolling the deployment back`)
    controller.abort()
  }
  const term = onSignal('SIGTERM')
  const int = onSignal('SIGINT')
  process.on('SIGTERM', term)
  process.on('SIGINT', int)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGTERM', term)
      process.off('SIGINT', int)
    }
  }
}

function outputsOf(report: DeployReport, region: string): Record<string, string | undefined> {
  return {
    'task-definition-arn': report.taskDefinitionArn,
    changed: String(report.changed),
    'deployment-id': report.deploymentId,
    status: report.status,
    'service-url': consoleUrl(region, report.cluster, report.service),
    'codedeploy-deployment-id': report.codeDeploy?.deploymentId
  }
}

export async function run(deps: DeployEcsDeps = defaultDeps()): Promise<void> {
  await runAction(ACTION_NAME, async () => {
    const inputs = deps.getInputs()
    const session = await withGroup('Authenticate', () => deps.session(inputs))
    const ecrClients = new Map<string, ECRClient>()
    const ecrFor = (region: string): ECRClient => {
      let client = ecrClients.get(region)
      if (!client) {
        client = new ECRClient({ ...session.config, region })
        ecrClients.set(region, client)
      }
      return client
    }
    const cancel = cancellation()
    // A throttling storm that outlasts the SDK's few attempts slows a call down (up to a minute) instead of failing
    // the deployment before it starts; the wait loop has its own backoff on top.
    const ecs = patientClient(session.client(ECSClient), { budgetMs: 60_000 })
    // The clients verification and CodeDeploy use load their SDK packages on their first call: most runs need
    // only some of them.
    const deployDeps: DeployDeps = {
      clients: {
        ecs,
        ecr: ecrFor,
        iam: lazyClient(async () => {
          const { IAMClient } = await import('@aws-sdk/client-iam')
          return new IAMClient({ ...session.config, region: 'us-east-1' })
        }),
        secrets: lazyClient(async () =>
          session.client((await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient)
        ),
        ssm: lazyClient(async () =>
          session.client((await import('@aws-sdk/client-ssm')).SSMClient)
        ),
        logs: lazyClient(async () =>
          session.client((await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient)
        ),
        elbv2: lazyClient(async () =>
          session.client(
            (await import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client
          )
        ),
        // Only a CODE_DEPLOY service sends anything to CodeDeploy: every other deploy never loads its SDK.
        codedeploy: lazyClient(async () =>
          session.client((await import('@aws-sdk/client-codedeploy')).CodeDeployClient)
        )
      },
      accountId: session.identity.accountId,
      region: session.region,
      localEcrHost: await endpointRegistryHost(ecrFor(session.region)),
      now: () => Date.now(),
      sleep: sleepUnlessAborted,
      info: (m) => core.info(m),
      warning: (m) => core.warning(m),
      group: withGroup,
      // The client memoizes credentials by their expiration on our clock; forcing a refresh through the client
      // replaces its copy too (a service may call them expired before our clock does).
      refreshCredentials: async () => {
        await ecs.config.credentials({ forceRefresh: true })
      },
      cancel: cancel.signal
    }
    let report: DeployReport
    try {
      report = await deployToEcs(deployDeps, {
        cluster: inputs.cluster,
        service: inputs.service,
        source: inputs.source,
        waitUntil: inputs.waitUntil,
        timeoutMs: inputs.waitTimeoutSeconds * 1000,
        desiredCount: inputs.desiredCount,
        forceNewDeployment: inputs.forceNewDeployment,
        enableEcsManagedTags: inputs.enableEcsManagedTags,
        propagateTags: inputs.propagateTags,
        rollbackOnFailure: inputs.rollbackOnFailure,
        maxFailedTasks: inputs.maxFailedTasks,
        verify: inputs.verify,
        runTaskBefore: inputs.runTaskBefore,
        createServiceSpec: inputs.createServiceSpec,
        strategy: inputs.strategy,
        continueDeployment: inputs.continueDeployment,
        codeDeploy: inputs.codeDeploy
      })
    } catch (error) {
      const partial = (error as { report?: DeployReport }).report
      if (partial) {
        setOutputs(outputsOf(partial, session.region))
        await writeDeploySummary(partial, session.region)
      }
      throw error
    } finally {
      cancel.dispose()
    }
    setOutputs(outputsOf(report, session.region))
    await writeDeploySummary(report, session.region)
    if (report.status === 'PAUSED') core.notice(`deployment paused: ${report.reason ?? ''}`)
    const requestedRollback =
      inputs.continueDeployment === 'rollback' && report.status === 'ROLLED_BACK'
    if (
      report.status !== 'SUCCESSFUL' &&
      report.status !== 'NOT_WAITED' &&
      report.status !== 'PAUSED' &&
      !requestedRollback
    ) {
      const stopped = report.track?.stopped ?? []
      const detail = stopped
        .slice(0, 3)
        .map(
          (g) =>
            ` ${g.count} task(s): ${g.reason}${g.containers.length ? ` (${g.containers.join('; ')})` : ''}.`
        )
        .join('')
      const hint = stopped.find((g) => g.hint)?.hint
      throw new ActionError(
        `deployment ${report.deploymentId ?? ''} of ${report.taskDefinitionArn ?? '?'} to service "${inputs.service}" in cluster "${inputs.cluster}" ended ${report.status}: ${report.reason ?? ''}.${detail}`,
        hint ??
          'See the service events and stopped tasks above, and the service in the console (output "service-url").'
      )
    }
  })
}
