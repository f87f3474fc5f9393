import { describe, expect, it } from '@jest/globals'
import { diffTaskDefinitions, normaliseForDiff } from '../../../../packages/ecs/src/deploy/diff.js'

const rendered = {
  family: 'web',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '1 vCPU',
  memory: '2 GB',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  containerDefinitions: [
    {
      name: 'web',
      image: 'repo/web:v2',
      portMappings: [{ containerPort: 8080 }],
      environment: [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' }
      ],
      secrets: [{ name: 'DB', valueFrom: '/db' }]
    }
  ]
}

// What DescribeTaskDefinition returns for the same registration.
const described = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
  revision: 7,
  status: 'ACTIVE',
  compatibilities: ['EC2', 'FARGATE'],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
  registeredAt: new Date(0),
  registeredBy: 'arn:aws:sts::123456789012:assumed-role/deploy/x',
  family: 'web',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '1024',
  memory: '2048',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  volumes: [],
  placementConstraints: [],
  containerDefinitions: [
    {
      name: 'web',
      image: 'repo/web:v2',
      cpu: 0,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      environment: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' }
      ],
      secrets: [{ name: 'DB', valueFrom: '/db' }],
      mountPoints: [],
      volumesFrom: [],
      systemControls: []
    }
  ]
}

describe('diffTaskDefinitions', () => {
  it('finds no change between a rendered file and the revision ECS stored from it', () => {
    expect(diffTaskDefinitions(described, rendered)).toEqual([])
    expect(normaliseForDiff(described)).toEqual(normaliseForDiff(rendered))
  })

  it('ignores the fields ECS sets on a revision being deleted or deregistered', () => {
    // Timestamps as `aws ecs describe-task-definition` prints them: strings, which would count as changes if kept.
    const deleting = {
      ...described,
      status: 'DELETE_IN_PROGRESS',
      deregisteredAt: '2026-12-01T10:00:00.000Z',
      deleteRequestedAt: '2026-12-02T10:00:00.000Z'
    }
    expect(diffTaskDefinitions(deleting, rendered)).toEqual([])
  })

  it('names each changed field by container and variable, and never prints secret or env values', () => {
    const next = structuredClone(rendered)
    const web = next.containerDefinitions[0]!
    web.image = 'repo/web:v3'
    web.environment = [
      { name: 'A', value: 'changed-value' },
      { name: 'C', value: '3' }
    ]
    web.secrets = [{ name: 'DB', valueFrom: '/db-2' }]
    next.memory = '4096'
    const changes = diffTaskDefinitions(described, next)
    expect(changes).toEqual(
      expect.arrayContaining([
        { path: 'containerDefinitions[web].image', from: 'repo/web:v2', to: 'repo/web:v3' },
        { path: 'memory', from: '2048', to: '4096' },
        { path: 'containerDefinitions[web].environment[B]', from: '(set)', to: '(none)' }
      ])
    )
    const printed = JSON.stringify(changes)
    expect(printed).not.toContain('changed-value')
    expect(printed).not.toContain('/db-2')
    expect(printed).toContain('containerDefinitions[web].environment[C]')
    expect(printed).toContain('containerDefinitions[web].secrets[DB]')
  })

  it('treats a new service (nothing described) as every field changed', () => {
    expect(diffTaskDefinitions(undefined, rendered).length).toBeGreaterThan(0)
  })

  it('sees an explicit non-default container cpu and an essential: false as changes', () => {
    const next = structuredClone(rendered) as typeof rendered & {
      containerDefinitions: Record<string, unknown>[]
    }
    next.containerDefinitions[0]!['cpu'] = 128
    next.containerDefinitions[0]!['essential'] = false
    const paths = diffTaskDefinitions(described, next).map((c) => c.path)
    expect(paths).toEqual(['containerDefinitions[web].cpu', 'containerDefinitions[web].essential'])
  })
})
