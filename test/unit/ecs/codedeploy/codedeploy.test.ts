import { describe, expect, it } from '@jest/globals'
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy'
import {
  appSpecTargets,
  checkAppSpecTargets,
  generateAppSpec,
  parseAppSpec,
  parseHooks,
  withTaskDefinition
} from '../../../../packages/ecs/src/codedeploy/appspec.js'
import { trafficShiftMinutes, waitBudget } from '../../../../packages/ecs/src/codedeploy/budget.js'
import { checkDeploymentGroup } from '../../../../packages/ecs/src/codedeploy/group.js'

const MIN = 60_000

describe('waitBudget', () => {
  it('is finite when the group has no termination wait or ready option (the NaN case)', () => {
    for (const settings of [
      undefined,
      {},
      { deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT' } },
      { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE' } },
      {
        terminateBlueInstancesOnDeploymentSuccess: {
          terminationWaitTimeInMinutes: Number.NaN
        }
      }
    ]) {
      const b = waitBudget(settings, 'CodeDeployDefault.ECSAllAtOnce', 30 * MIN)
      expect(b.ms).toBe(15 * MIN)
      expect(b.derivedMs).toBe(15 * MIN)
      expect(b.source).toBe('deployment group')
      expect(b.explanation).not.toMatch(/NaN|Infinity/)
    }
  })

  it('adds the ready wait, traffic shift and termination wait, and is capped by wait-timeout', () => {
    const settings = {
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 10 },
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 20
      }
    }
    const b = waitBudget(
      settings,
      'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      6 * 60 * MIN
    )
    expect(b.ms).toBe((15 + 10 + 9 + 20) * MIN)
    const capped = waitBudget(settings, 'CodeDeployDefault.ECSCanary10Percent5Minutes', 30 * MIN)
    expect(capped.derivedMs).toBe((15 + 10 + 5 + 20) * MIN)
    expect(capped.ms).toBe(30 * MIN)
    expect(capped.source).toBe('wait-timeout')
    expect(capped.explanation).toContain('from wait-timeout')
    expect(waitBudget(settings, undefined, 6 * 60 * MIN, { includeTermination: false }).ms).toBe(
      (15 + 10) * MIN
    )
  })

  it('reads the predefined traffic-shift configurations', () => {
    expect(trafficShiftMinutes('CodeDeployDefault.ECSAllAtOnce')).toBe(0)
    expect(trafficShiftMinutes('CodeDeployDefault.ECSCanary10Percent15Minutes')).toBe(15)
    expect(trafficShiftMinutes('CodeDeployDefault.ECSLinear10PercentEvery3Minutes')).toBe(27)
    expect(trafficShiftMinutes('custom')).toBe(0)
  })
})

describe('AppSpec', () => {
  const td = {
    family: 'web',
    containerDefinitions: [{ name: 'web', portMappings: [{ containerPort: 8080 }] }]
  }

  it('generates one with hooks, and replaces every TaskDefinition of a provided one', () => {
    const generated = JSON.parse(
      generateAppSpec('arn:td:2', { containerName: 'web', containerPort: 8080 }, [
        { event: 'AfterAllowTraffic', functionName: 'smoke' }
      ])
    ) as Record<string, unknown>
    expect(generated).toMatchObject({
      Resources: [{ TargetService: { Properties: { TaskDefinition: 'arn:td:2' } } }],
      Hooks: [{ AfterAllowTraffic: 'smoke' }]
    })
    const doc = parseAppSpec(
      'codedeploy-appspec',
      'a.json',
      JSON.stringify({
        version: 0,
        Resources: [
          {
            A: {
              Type: 'AWS::ECS::Service',
              Properties: {
                TaskDefinition: 'old',
                LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 }
              }
            }
          }
        ]
      })
    )
    expect(appSpecTargets(doc)).toEqual([{ containerName: 'web', containerPort: 8080 }])
    expect(withTaskDefinition(doc, 'arn:td:3')).toContain('"TaskDefinition": "arn:td:3"')
    expect(JSON.stringify(doc)).toContain('"old"')
  })

  it('checks container names and ports against the task definition', () => {
    expect(() =>
      checkAppSpecTargets('codedeploy-appspec', [{ containerName: 'web', containerPort: 8080 }], td)
    ).not.toThrow()
    expect(() =>
      checkAppSpecTargets('codedeploy-appspec', [{ containerName: 'api', containerPort: 8080 }], td)
    ).toThrow(/input "codedeploy-appspec".*container "api"/)
    expect(() =>
      checkAppSpecTargets('codedeploy-appspec', [{ containerName: 'web', containerPort: 80 }], td)
    ).toThrow(/does not map port 80/)
  })

  it('parses hooks and refuses unknown events, duplicates and bad function names', () => {
    expect(
      parseHooks(
        'codedeploy-hooks',
        'BeforeInstall=a, AfterAllowTraffic=arn:aws:lambda:us-east-1:123456789012:function:b'
      )
    ).toEqual([
      { event: 'BeforeInstall', functionName: 'a' },
      {
        event: 'AfterAllowTraffic',
        functionName: 'arn:aws:lambda:us-east-1:123456789012:function:b'
      }
    ])
    expect(() => parseHooks('codedeploy-hooks', 'AllowTraffic=a')).toThrow(/not a hook event/)
    expect(() => parseHooks('codedeploy-hooks', 'BeforeInstall=a,BeforeInstall=b')).toThrow(/twice/)
    expect(() => parseHooks('codedeploy-hooks', 'BeforeInstall=a b')).toThrow(/Event=function/)
  })
})

describe('checkDeploymentGroup', () => {
  const client = (info: Record<string, unknown>): CodeDeployClient =>
    ({ send: () => Promise.resolve({ deploymentGroupInfo: info }) }) as unknown as CodeDeployClient
  const target = { application: 'app', group: 'dg', cluster: 'prod', service: 'web' }
  const good = {
    computePlatform: 'ECS',
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    blueGreenDeploymentConfiguration: {},
    ecsServices: [{ clusterName: 'prod', serviceName: 'web' }]
  }

  it('accepts a blue/green group with traffic control for this service', async () => {
    await expect(checkDeploymentGroup(client(good), target)).resolves.toEqual(good)
  })

  it('refuses a group without blue/green settings, without traffic control, or for another service', async () => {
    await expect(
      checkDeploymentGroup(
        client({
          ...good,
          deploymentStyle: {
            deploymentType: 'IN_PLACE',
            deploymentOption: 'WITHOUT_TRAFFIC_CONTROL'
          }
        }),
        target
      )
    ).rejects.toThrow(/not a blue\/green deployment with traffic control/)
    await expect(
      checkDeploymentGroup(client({ ...good, blueGreenDeploymentConfiguration: undefined }), target)
    ).rejects.toThrow(/no blue\/green settings/)
    await expect(
      checkDeploymentGroup(
        client({ ...good, ecsServices: [{ clusterName: 'prod', serviceName: 'api' }] }),
        target
      )
    ).rejects.toThrow(/deploys prod\/api, not prod\/web/)
  })
})
