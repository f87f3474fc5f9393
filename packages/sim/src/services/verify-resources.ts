/**
 * The resources a deployment refers to, as the services that own them describe them: IAM roles (GetRole,
 * awsQuery), Secrets Manager secrets (DescribeSecret), SSM parameters (GetParameters), CloudWatch Logs log groups
 * (DescribeLogGroups) and ELBv2 target groups (DescribeTargetGroups, awsQuery). Read-only models seeded through
 * the admin API (`POST /_sim/<service>/seed`); shapes and error codes follow each service's API reference.
 */
import { AwsError, type AdminHandler, type Clock, type ServiceModule } from '../core/types.js'

export interface VerifyResourceDeps {
  clock: Clock
  accountId: string
  region: string
}

interface Role {
  name: string
  path: string
  arn: string
  roleId: string
  created: Date
  trust: unknown
}

interface Secret {
  name: string
  arn: string
}

interface Parameter {
  name: string
  arn: string
  type: string
  value: string
  version: number
}

interface LogGroup {
  name: string
  arn: string
  created: number
}

interface TargetGroup {
  name: string
  arn: string
  protocol: string
  port: number
  targetType: string
  healthCheckPath: string
  vpcId: string
}

function list(body: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = body[key]
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw new AwsError('InvalidParameterException', `${key} must be a list.`)
  return value as Record<string, unknown>[]
}

function str(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback
}

function suffix(length: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  let out = ''
  for (let i = 0; i < length; i++) out += chars[Math.floor(Math.random() * chars.length)]
  return out
}

/** The trust policy every ECS task and execution role needs. */
export const ECS_TASKS_TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }
  ]
}

export function createIamService(
  deps: VerifyResourceDeps
): ServiceModule & { roles: Map<string, Role> } {
  const roles = new Map<string, Role>()
  const admin: Record<string, AdminHandler> = {
    /** {roles: [{name, path?, trust? (policy document; default: ecs-tasks.amazonaws.com)}]} */
    seed: (body) => {
      const out: string[] = []
      for (const raw of list(body, 'roles')) {
        const name = str(raw['name'], '')
        if (!/^[\w+=,.@-]{1,64}$/.test(name))
          throw new AwsError('ValidationError', `bad role name ${name}`)
        const path = typeof raw['path'] === 'string' ? raw['path'] : '/'
        const role: Role = {
          name,
          path,
          arn: `arn:aws:iam::${deps.accountId}:role${path}${name}`,
          roleId: `AROA${suffix(17)}`,
          created: new Date(deps.clock.now()),
          trust: raw['trust'] ?? ECS_TASKS_TRUST
        }
        roles.set(name, role)
        out.push(role.arn)
      }
      return { roles: out }
    }
  }
  return {
    signingName: 'iam',
    protocol: 'query',
    apiVersion: '2010-05-08',
    roles,
    admin,
    resourceArn: (_op, input) =>
      `arn:aws:iam::${deps.accountId}:role/${str(input['RoleName'], '*')}`,
    handlers: {
      GetRole: (input) => {
        const name = str(input['RoleName'], '')
        if (!name)
          throw new AwsError(
            'ValidationError',
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
          )
        const role = roles.get(name)
        if (!role)
          throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404)
        return {
          Role: {
            Path: role.path,
            RoleName: role.name,
            RoleId: role.roleId,
            Arn: role.arn,
            CreateDate: role.created,
            // IAM returns the trust policy URL-encoded (RFC 3986).
            AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(role.trust)),
            MaxSessionDuration: 3600
          }
        }
      }
    }
  }
}

export function createSecretsManagerService(deps: VerifyResourceDeps): ServiceModule {
  const secrets = new Map<string, Secret>()
  const find = (id: string): Secret | undefined =>
    secrets.get(id) ??
    [...secrets.values()].find((s) => s.arn === id || id.startsWith(`${s.arn.slice(0, -7)}`))
  return {
    signingName: 'secretsmanager',
    protocol: 'json1.1',
    targetPrefix: 'secretsmanager',
    admin: {
      /** {secrets: [{name}]} */
      seed: (body) => {
        const out: string[] = []
        for (const raw of list(body, 'secrets')) {
          const name = str(raw['name'], '')
          const arn = `arn:aws:secretsmanager:${deps.region}:${deps.accountId}:secret:${name}-${suffix(6)}`
          secrets.set(name, { name, arn })
          out.push(arn)
        }
        return { secrets: out }
      }
    },
    handlers: {
      DescribeSecret: (input) => {
        const id = str(input['SecretId'], '')
        const secret = find(id)
        if (!secret)
          throw new AwsError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret."
          )
        return { ARN: secret.arn, Name: secret.name, CreatedDate: new Date(deps.clock.now()) }
      }
    }
  }
}

export function createSsmService(deps: VerifyResourceDeps): ServiceModule {
  const parameters = new Map<string, Parameter>()
  const arnOf = (name: string): string =>
    `arn:aws:ssm:${deps.region}:${deps.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`
  return {
    signingName: 'ssm',
    protocol: 'json1.1',
    targetPrefix: 'AmazonSSM',
    admin: {
      /** {parameters: [{name, type?, value?}]} */
      seed: (body) => {
        const out: string[] = []
        for (const raw of list(body, 'parameters')) {
          const name = str(raw['name'], '')
          const p: Parameter = {
            name,
            arn: arnOf(name),
            type: str(raw['type'], 'SecureString'),
            value: str(raw['value'], 'sim-value'),
            version: 1
          }
          parameters.set(name, p)
          out.push(p.arn)
        }
        return { parameters: out }
      }
    },
    handlers: {
      GetParameters: (input) => {
        const names = (input['Names'] as unknown[] | undefined) ?? []
        if (!Array.isArray(names) || names.length === 0 || names.length > 10) {
          throw new AwsError(
            'ValidationException',
            `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10`
          )
        }
        const found: Record<string, unknown>[] = []
        const invalid: string[] = []
        for (const raw of names) {
          const name = String(raw)
          const p = parameters.get(name) ?? [...parameters.values()].find((x) => x.arn === name)
          if (!p) invalid.push(name)
          else
            found.push({
              Name: p.name,
              Type: p.type,
              // Without WithDecryption a SecureString comes back encrypted; the model returns a placeholder.
              Value:
                p.type === 'SecureString' && input['WithDecryption'] !== true
                  ? 'AQICAH…encrypted'
                  : p.value,
              Version: p.version,
              ARN: p.arn,
              DataType: 'text'
            })
        }
        return { Parameters: found, InvalidParameters: invalid }
      }
    }
  }
}

export function createLogsService(deps: VerifyResourceDeps): ServiceModule {
  const groups = new Map<string, LogGroup>()
  return {
    signingName: 'logs',
    protocol: 'json1.1',
    targetPrefix: 'Logs_20140328',
    admin: {
      /** {logGroups: [{name}]} */
      seed: (body) => {
        for (const raw of list(body, 'logGroups')) {
          const name = str(raw['name'], '')
          groups.set(name, {
            name,
            arn: `arn:aws:logs:${deps.region}:${deps.accountId}:log-group:${name}`,
            created: deps.clock.now()
          })
        }
        return { logGroups: [...groups.keys()] }
      }
    },
    handlers: {
      DescribeLogGroups: (input) => {
        const prefix =
          typeof input['logGroupNamePrefix'] === 'string' ? input['logGroupNamePrefix'] : ''
        const limit = typeof input['limit'] === 'number' ? input['limit'] : 50
        if (limit < 1 || limit > 50)
          throw new AwsError(
            'InvalidParameterException',
            '1 validation error detected: limit must be between 1 and 50'
          )
        const start = typeof input['nextToken'] === 'string' ? Number(input['nextToken']) : 0
        const matching = [...groups.values()]
          .filter((g) => g.name.startsWith(prefix))
          .sort((a, b) => a.name.localeCompare(b.name))
        const page = matching.slice(start, start + limit)
        return {
          logGroups: page.map((g) => ({
            logGroupName: g.name,
            arn: `${g.arn}:*`,
            logGroupArn: g.arn,
            creationTime: g.created,
            storedBytes: 0
          })),
          nextToken: start + limit < matching.length ? String(start + limit) : undefined
        }
      }
    }
  }
}

export function createElbv2Service(deps: VerifyResourceDeps): ServiceModule {
  const groups = new Map<string, TargetGroup>()
  return {
    signingName: 'elasticloadbalancing',
    protocol: 'query',
    apiVersion: '2015-12-01',
    xmlNamespace: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
    admin: {
      /** {targetGroups: [{name, port, protocol?, targetType?, healthCheckPath?}]} */
      seed: (body) => {
        const out: string[] = []
        for (const raw of list(body, 'targetGroups')) {
          const name = str(raw['name'], '')
          const tg: TargetGroup = {
            name,
            arn: `arn:aws:elasticloadbalancing:${deps.region}:${deps.accountId}:targetgroup/${name}/${suffix(16).toLowerCase()}`,
            protocol: str(raw['protocol'], 'HTTP'),
            port: Number(raw['port'] ?? 80),
            targetType: str(raw['targetType'], 'ip'),
            healthCheckPath: str(raw['healthCheckPath'], '/'),
            vpcId: 'vpc-0sim'
          }
          groups.set(tg.arn, tg)
          out.push(tg.arn)
        }
        return { targetGroups: out }
      }
    },
    handlers: {
      DescribeTargetGroups: (input) => {
        const arns = (input['TargetGroupArns'] as string[] | undefined) ?? []
        const names = (input['Names'] as string[] | undefined) ?? []
        let selected = [...groups.values()]
        if (arns.length) {
          selected = arns.map((arn) => {
            const tg = groups.get(arn)
            if (!tg)
              throw new AwsError('TargetGroupNotFound', `One or more target groups not found`)
            return tg
          })
        } else if (names.length) {
          selected = names.map((name) => {
            const tg = [...groups.values()].find((g) => g.name === name)
            if (!tg)
              throw new AwsError('TargetGroupNotFound', `One or more target groups not found`)
            return tg
          })
        }
        return {
          TargetGroups: selected.map((tg) => ({
            TargetGroupArn: tg.arn,
            TargetGroupName: tg.name,
            Protocol: tg.protocol,
            Port: tg.port,
            VpcId: tg.vpcId,
            HealthCheckProtocol: tg.protocol,
            HealthCheckPath: tg.healthCheckPath,
            TargetType: tg.targetType,
            LoadBalancerArns: []
          }))
        }
      }
    }
  }
}
