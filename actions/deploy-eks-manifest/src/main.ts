import {
  DescribeClusterCommand,
  EKSClient,
  ListAccessEntriesCommand,
  type Cluster
} from '@aws-sdk/client-eks'
import {
  ActionError,
  core,
  errorMessage,
  execCommand,
  githubContext,
  InputError,
  loadYamlParser,
  maskSecret,
  runAction,
  setOutputs,
  withGroup
} from '@shipline/action-kit'
import { type AwsSession, createAwsClients, describeAwsError } from '@shipline/aws'
import {
  ANNOTATION_PREFIX,
  authDiagnosis,
  HttpsKubeApi,
  createEksToken,
  type DeployReport,
  deployManifests,
  DeployError,
  type EksToken,
  expandManifestPaths,
  githubPullRequestApi,
  gitopsUpdate,
  imageMap,
  loadManifests,
  substituteImages
} from '@shipline/kube'
import { realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import {
  ACTION_NAME,
  type ApplyModeInputs,
  type DeployEksManifestInputs,
  getInputs,
  type GitopsModeInputs
} from './inputs.js'
import { writeApplySummary, writeAuthSummary, writeGitopsSummary } from './summary.js'

export interface DeployEksManifestDeps {
  getInputs(): DeployEksManifestInputs
  session(inputs: ApplyModeInputs): Promise<AwsSession>
}

export function defaultDeps(): DeployEksManifestDeps {
  return { getInputs, session: (inputs) => createAwsClients(inputs.auth) }
}

function runUrl(): string {
  const ctx = githubContext()
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}`
}

async function describeCluster(eks: EKSClient, name: string): Promise<Cluster> {
  let cluster: Cluster | undefined
  try {
    cluster = (await eks.send(new DescribeClusterCommand({ name }))).cluster
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
      throw new InputError(
        'cluster-name',
        `EKS cluster "${name}" does not exist in this account and region`,
        'Check the cluster name and "aws-region".'
      )
    }
    throw describeAwsError(error, { action: 'eks:DescribeCluster', resource: name })
  }
  if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
    throw new ActionError(
      `EKS cluster "${name}" has no endpoint yet (status ${cluster?.status ?? 'unknown'})`,
      'Wait until the cluster is ACTIVE, then re-run the job.'
    )
  }
  return cluster
}

async function runApply(deps: DeployEksManifestDeps, inputs: ApplyModeInputs): Promise<void> {
  const workspace = realpathSync(process.env['GITHUB_WORKSPACE'] || process.cwd())
  const files = expandManifestPaths('manifests', inputs.manifests)
  const objects = loadManifests('manifests', files, workspace)
  if (!objects.length) {
    throw new InputError('manifests', 'the files hold no Kubernetes object', 'Check the paths.')
  }
  const substitution = substituteImages(
    objects.map((o) => ({ object: o.object, id: `${o.object.kind}/${o.object.metadata.name}` })),
    inputs.images
  )
  if (substitution.unmatched.length) {
    const text = `${substitution.unmatched.map((u) => `"${u}"`).join(', ')} matched no container image in the manifests (${files.length} file(s))`
    if (!inputs.allowUnmatchedImages) {
      throw new InputError(
        'images',
        text,
        'An entry replaces the containers whose image has the same registry (port included) and repository; check both, or set "allow-unmatched-images: true" to only warn.'
      )
    }
    core.warning(`images: ${text}`)
  }
  for (const s of substitution.substitutions)
    core.info(`${s.object} ${s.container}: ${s.from} → ${s.to}`)

  const session = await withGroup('Authenticate', () => deps.session(inputs))
  const eks = session.client(EKSClient)
  const cluster = await describeCluster(eks, inputs.clusterName)
  const credentials = eks.config.credentials
  let current: EksToken | undefined
  const token = async (renew = false): Promise<string> => {
    if (renew || !current || Date.now() >= current.renewAt) {
      current = await createEksToken({
        clusterName: inputs.clusterName,
        region: session.region,
        credentials
      })
      maskSecret(current.token)
    }
    return current.token
  }
  const api = new HttpsKubeApi({
    server: cluster.endpoint as string,
    caData: cluster.certificateAuthority?.data as string,
    token
  })
  core.info(
    `EKS cluster ${inputs.clusterName}: ${cluster.endpoint ?? ''} (Kubernetes ${cluster.version ?? '?'}, authentication mode ${cluster.accessConfig?.authenticationMode ?? 'unknown'})`
  )

  const onAuthError = async (status: number, message: string): Promise<Error> => {
    let entries: string[] | undefined
    let listError: string | undefined
    try {
      entries = []
      let nextToken: string | undefined
      do {
        const page = await eks.send(
          new ListAccessEntriesCommand({ clusterName: inputs.clusterName, nextToken })
        )
        entries.push(...(page.accessEntries ?? []))
        nextToken = page.nextToken
      } while (nextToken)
    } catch (error) {
      entries = undefined
      listError = errorMessage(error)
    }
    const d = authDiagnosis({
      status,
      clusterName: inputs.clusterName,
      region: session.region,
      callerArn: session.identity.arn,
      authenticationMode: cluster.accessConfig?.authenticationMode,
      accessEntries: entries,
      ...(listError ? { listError } : {}),
      serverMessage: message
    })
    for (const line of d.lines) core.error(line)
    await writeAuthSummary(inputs.clusterName, d.lines, d.hint)
    return new ActionError(d.message, d.hint)
  }

  const ctx = githubContext()
  let report: DeployReport
  try {
    report = await withGroup('Apply and roll out', () =>
      deployManifests(
        {
          api,
          now: () => Date.now(),
          info: (m) => core.info(m),
          warning: (m) => core.warning(m),
          onAuthError
        },
        {
          objects,
          namespace: inputs.namespace,
          forceConflicts: inputs.forceConflicts,
          dryRun: inputs.dryRun,
          respectHpa: inputs.respectHpa,
          timeoutMs: inputs.rolloutTimeoutSeconds * 1000,
          rollbackOnFailure: inputs.rollbackOnFailure,
          annotations: {
            [`${ANNOTATION_PREFIX}commit`]: ctx.commitSha,
            [`${ANNOTATION_PREFIX}run-url`]: runUrl()
          }
        }
      )
    )
  } catch (error) {
    api.close()
    if (error instanceof DeployError) {
      setApplyOutputs(error.report, substitution.substitutions)
      await writeApplySummary(inputs.clusterName, error.report, substitution.substitutions)
    }
    throw error
  }
  api.close()
  setApplyOutputs(report, substitution.substitutions)
  await writeApplySummary(inputs.clusterName, report, substitution.substitutions)
  if (report.status !== 'SUCCESSFUL' && report.status !== 'DRY_RUN') {
    const problem = report.workloads.find((w) => w.problem)
    throw new ActionError(
      `${report.status}: ${report.message ?? 'the rollout failed'}`,
      problem
        ? `See the pod's reason and events above (kubectl describe pod ${problem.problem?.pod ?? ''} -n <namespace>); fix the image or its configuration and re-run.`
        : 'See the rollout status above; check the Deployment events (kubectl describe) and the progress deadline.'
    )
  }
}

function setApplyOutputs(report: DeployReport, substitutions: { from: string; to: string }[]) {
  setOutputs({
    status: report.status,
    applied: report.applied,
    images: imageMap(substitutions)
  })
}

async function runGitops(inputs: GitopsModeInputs): Promise<void> {
  const ctx = githubContext()
  const names = inputs.images.map((i) => i.ref.repository.split('/').pop() ?? i.ref.repository)
  const slug = names
    .join('-')
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 80)
  const short = ctx.commitSha.slice(0, 7)
  const subject = `deploy(${inputs.environment}): ${inputs.images.map((i) => i.input).join(', ')}${short ? ` from ${short}` : ''}`
  const body = [
    ...inputs.images.map((i) => `image: ${i.input}`),
    `source: ${ctx.repository}@${ctx.commitSha}`,
    `run: ${runUrl()}`,
    'Written by Shipline deploy-eks-manifest (gitops mode).'
  ].join('\n')
  const result = await withGroup('Update the GitOps repository', () =>
    gitopsUpdate(
      {
        exec: execCommand,
        info: (m) => core.info(m),
        warning: (m) => core.warning(m)
      },
      {
        url: inputs.repository.url,
        branch: inputs.branch,
        path: inputs.path,
        token: inputs.token,
        images: inputs.images,
        helmValuesKeys: inputs.helmValuesKeys,
        allowUnmatched: inputs.allowUnmatchedImages,
        pullRequest: inputs.pullRequest
          ? {
              branch: `shipline/${inputs.environment}/${slug}`,
              api: githubPullRequestApi(
                { owner: inputs.repository.owner, name: inputs.repository.name },
                inputs.token as string
              )
            }
          : undefined,
        subject,
        body,
        author: { name: 'shipline[bot]', email: 'shipline-bot@users.noreply.github.com' },
        tempDir: process.env['RUNNER_TEMP'] || tmpdir()
      }
    )
  )
  for (const c of result.changes)
    core.info(`${c.file} ${c.where}: ${c.from || '(new)'} → ${c.to || '(removed)'}`)
  setOutputs({
    status: result.status,
    images: imageMap(
      result.changes.filter((c) => c.from && c.to && !/\.(tag|newTag|digest)$/.test(c.where))
    ),
    'gitops-commit-sha': result.commitSha,
    'pull-request-url': result.pullRequestUrl
  })
  await writeGitopsSummary(inputs, result)
}

export async function run(deps: DeployEksManifestDeps = defaultDeps()): Promise<void> {
  await runAction(ACTION_NAME, async () => {
    const inputs = deps.getInputs()
    // Manifests and GitOps files are YAML: both modes read it.
    await loadYamlParser()
    if (inputs.mode === 'apply') await runApply(deps, inputs)
    else await runGitops(inputs)
  })
}
