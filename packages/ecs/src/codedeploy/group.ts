/** The deployment group must be an ECS blue/green group with traffic control for this cluster and service. */
import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy'
import type { CodeDeploySender } from '../sdk.js'
import { ActionError, InputError } from '@shipline/action-kit'
import { describeAwsError } from '@shipline/aws'
import { loadCodeDeploy } from '../sdk.js'

const nameOf = (nameOrArn: string): string =>
  nameOrArn.replace(/^arn:.*:(cluster|service)\/(?:[^/]+\/)?/, '')

export async function checkDeploymentGroup(
  codedeploy: CodeDeploySender,
  target: { application: string; group: string; cluster: string; service: string }
): Promise<DeploymentGroupInfo> {
  let info: DeploymentGroupInfo | undefined
  try {
    info = (
      await codedeploy.send(
        new (await loadCodeDeploy()).GetDeploymentGroupCommand({
          applicationName: target.application,
          deploymentGroupName: target.group
        })
      )
    ).deploymentGroupInfo
  } catch (error) {
    const name = (error as { name?: string }).name
    if (name === 'ApplicationDoesNotExistException') {
      throw new InputError(
        'codedeploy-application',
        `CodeDeploy application "${target.application}" does not exist in this account and region`,
        'Check the name (aws deploy list-applications).'
      )
    }
    if (name === 'DeploymentGroupDoesNotExistException') {
      throw new InputError(
        'codedeploy-deployment-group',
        `deployment group "${target.group}" does not exist in application "${target.application}"`,
        'Check the name (aws deploy list-deployment-groups).'
      )
    }
    throw describeAwsError(error, {
      action: 'codedeploy:GetDeploymentGroup',
      resource: `${target.application}/${target.group}`
    })
  }
  const where = `deployment group "${target.group}" of application "${target.application}"`
  if (!info) throw new ActionError(`CodeDeploy returned nothing for ${where}`, 'Re-run the job.')
  if (info.computePlatform && info.computePlatform !== 'ECS') {
    throw new ActionError(
      `${where} is for the ${info.computePlatform} compute platform, not ECS`,
      'Use a deployment group of an ECS application.'
    )
  }
  const style = info.deploymentStyle
  if (style?.deploymentType !== 'BLUE_GREEN' || style.deploymentOption !== 'WITH_TRAFFIC_CONTROL') {
    throw new ActionError(
      `${where} is not a blue/green deployment with traffic control (deploymentStyle ${style?.deploymentType ?? 'unset'}/${style?.deploymentOption ?? 'unset'})`,
      'Configure the group with deploymentStyle BLUE_GREEN + WITH_TRAFFIC_CONTROL, blue/green settings and a target group pair.'
    )
  }
  if (!info.blueGreenDeploymentConfiguration) {
    throw new ActionError(
      `${where} has no blue/green settings (blueGreenDeploymentConfiguration)`,
      'Set the ready and termination options of the deployment group.'
    )
  }
  const cluster = nameOf(target.cluster)
  const service = nameOf(target.service)
  const mapped = info.ecsServices ?? []
  if (
    !mapped.some(
      (s) => nameOf(s.clusterName ?? '') === cluster && nameOf(s.serviceName ?? '') === service
    )
  ) {
    throw new ActionError(
      `${where} deploys ${mapped.map((s) => `${s.clusterName}/${s.serviceName}`).join(', ') || 'no ECS service'}, not ${cluster}/${service}`,
      'Use the deployment group of this service ("codedeploy-deployment-group"), or check "cluster" and "service".'
    )
  }
  const last = info.lastAttemptedDeployment
  if (last?.deploymentId && ACTIVE.has(last.status ?? '')) {
    throw new ActionError(
      `${where} already has an active deployment ${last.deploymentId} (${last.status}); nothing was registered or deployed`,
      'Wait for it to end (it may be in its termination wait: "aws deploy continue-deployment --deployment-wait-type TERMINATION_WAIT" ends that), or stop it, then re-run.'
    )
  }
  return info
}

const ACTIVE = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready'])
