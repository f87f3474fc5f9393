/** IAM, Secrets Manager, SSM, CloudWatch Logs and ELBv2 as deploy verification reads them, through the real SDK clients. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam'
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import { startStack, type SimStack } from '../../packages/sim/src/stack.js'

let stack: SimStack

beforeAll(async () => {
  stack = await startStack({ registry: false })
  await stack.admin.post('iam/seed', {
    roles: [
      { name: 'web-exec', path: '/service/' },
      {
        name: 'lambda-role',
        trust: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole'
            }
          ]
        }
      }
    ]
  })
  await stack.admin.post('secretsmanager/seed', { secrets: [{ name: 'prod/db' }] })
  await stack.admin.post('ssm/seed', { parameters: [{ name: '/web/api-key' }] })
  await stack.admin.post('logs/seed', {
    logGroups: [{ name: '/ecs/web' }, { name: '/ecs/worker' }]
  })
  await stack.admin.post('elasticloadbalancing/seed', {
    targetGroups: [{ name: 'web-tg', port: 8080 }]
  })
})
afterAll(async () => {
  await stack?.stop()
})

describe('IAM GetRole (awsQuery)', () => {
  it('returns the role with its URL-encoded trust policy', async () => {
    const iam = new IAMClient({ ...stack.clientConfig, region: 'us-east-1' })
    const out = await iam.send(new GetRoleCommand({ RoleName: 'web-exec' }))
    expect(out.Role?.Arn).toBe(`arn:aws:iam::${stack.accountId}:role/service/web-exec`)
    const trust = JSON.parse(decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? '')) as {
      Statement: { Principal: { Service: string } }[]
    }
    expect(trust.Statement[0]?.Principal.Service).toBe('ecs-tasks.amazonaws.com')
  })

  it('answers NoSuchEntity for a missing role', async () => {
    const iam = new IAMClient({ ...stack.clientConfig })
    await expect(iam.send(new GetRoleCommand({ RoleName: 'nope' }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
      $metadata: { httpStatusCode: 404 }
    })
  })

  it('denies a caller without iam:GetRole', async () => {
    const creds = await stack.admin.post<{ accessKeyId: string; secretAccessKey: string }>(
      'credentials',
      {
        name: 'no-iam',
        allowedActions: ['ecs:*']
      }
    )
    const iam = new IAMClient({ ...stack.clientConfig, credentials: creds })
    await expect(iam.send(new GetRoleCommand({ RoleName: 'web-exec' }))).rejects.toMatchObject({
      name: 'AccessDenied'
    })
  })
})

describe('Secrets Manager, SSM, Logs, ELBv2', () => {
  it('describes a secret by name and by ARN, and reports a missing one', async () => {
    const sm = new SecretsManagerClient({ ...stack.clientConfig })
    const byName = await sm.send(new DescribeSecretCommand({ SecretId: 'prod/db' }))
    expect(byName.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:${stack.accountId}:secret:prod/db-\\w{6}$`)
    )
    const byArn = await sm.send(new DescribeSecretCommand({ SecretId: byName.ARN }))
    expect(byArn.Name).toBe('prod/db')
    await expect(
      sm.send(new DescribeSecretCommand({ SecretId: 'prod/none' }))
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException'
    })
  })

  it('returns found and invalid SSM parameters', async () => {
    const ssm = new SSMClient({ ...stack.clientConfig })
    const out = await ssm.send(
      new GetParametersCommand({ Names: ['/web/api-key', '/web/missing'] })
    )
    expect(out.Parameters?.map((p) => p.Name)).toEqual(['/web/api-key'])
    expect(out.InvalidParameters).toEqual(['/web/missing'])
  })

  it('lists log groups by prefix', async () => {
    const logs = new CloudWatchLogsClient({ ...stack.clientConfig })
    const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/w' }))
    expect(out.logGroups?.map((g) => g.logGroupName)).toEqual(['/ecs/web', '/ecs/worker'])
  })

  it('describes target groups by ARN and fails on an unknown one', async () => {
    const elb = new ElasticLoadBalancingV2Client({ ...stack.clientConfig })
    const all = await elb.send(new DescribeTargetGroupsCommand({ Names: ['web-tg'] }))
    const arn = all.TargetGroups?.[0]?.TargetGroupArn as string
    expect(all.TargetGroups?.[0]).toMatchObject({ Port: 8080, TargetType: 'ip' })
    const one = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))
    expect(one.TargetGroups?.[0]?.TargetGroupName).toBe('web-tg')
    await expect(
      elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [`${arn.slice(0, -4)}dead`] }))
    ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' })
  })
})
