import { afterEach, describe, expect, it } from '@jest/globals'
import { DIGEST, ECR, render, resetEnv, workspace } from './harness.js'

afterEach(resetEnv)

const WEB = `${ECR}/shipline/web`
const base = { 'task-definition': 'web.json', 'container-name': 'web' }
const pinned = `${WEB}:v1@${DIGEST}`

/** [label, inputs, the input the error names, a fragment of the problem, a fragment of the fix, extra workspace files] */
type Case = [string, Record<string, string>, string, string, string, Record<string, string>?]
const CASES: Case[] = [
  [
    'no source at all',
    { 'container-name': 'web' },
    'task-definition',
    'is required (or "task-definition-family" or "task-definition-arn")',
    'Set exactly one'
  ],
  [
    'two sources',
    { ...base, 'task-definition-family': 'web' },
    'task-definition-family',
    'conflicts with "task-definition"',
    'Set exactly one'
  ],
  [
    'a missing file',
    { 'task-definition': 'nope.json' },
    'task-definition',
    'file "nope.json" does not exist',
    'actions/checkout'
  ],
  [
    'a revision without a family',
    { ...base, 'task-definition-revision': '3' },
    'task-definition-revision',
    'is set without "task-definition-family"',
    'Set "task-definition-family" too'
  ],
  [
    'a non-numeric revision',
    { 'task-definition-family': 'web', 'task-definition-revision': 'latest' },
    'task-definition-revision',
    '"latest" is not a revision number',
    'whole number'
  ],
  [
    'a bad family name',
    { 'task-definition-family': 'my web' },
    'task-definition-family',
    '"my web" is not a task definition family',
    'letters, digits'
  ],
  [
    'a bad ARN',
    { 'task-definition-arn': 'arn:aws:ecs:us-east-1:123:task/web' },
    'task-definition-arn',
    'is not a task definition ARN',
    'task-definition/<family>'
  ],
  [
    'image without container-name',
    { 'task-definition': 'web.json', image: pinned },
    'image',
    'needs "container-name"',
    'Set "container-name"'
  ],
  [
    'a bad container name',
    { 'task-definition': 'web.json', 'container-name': 'web!', image: pinned },
    'container-name',
    '"web!" is not a container name',
    'letters, digits'
  ],
  [
    'the latest tag',
    { ...base, image: `${WEB}:latest` },
    'image',
    'uses the "latest" tag',
    'allow-latest: true'
  ],
  [
    'an untagged image',
    { ...base, image: WEB },
    'image',
    'has no tag, which means "latest"',
    'allow-latest: true'
  ],
  [
    'an invalid image reference',
    { ...base, image: `${ECR}/Shipline/Web:v1` },
    'image',
    'is not a valid image reference',
    'registry/repository:tag'
  ],
  [
    'a malformed digest',
    { ...base, image: `${WEB}:v1`, 'image-digest': 'sha256:1234' },
    'image-digest',
    'is not a sha256 digest',
    'sha256:<64 lowercase hex>'
  ],
  [
    'image-digest without image',
    { ...base, 'image-digest': DIGEST },
    'image-digest',
    'is set but "image" is empty',
    'Set "image"'
  ],
  [
    'an environment line without "="',
    { ...base, 'environment-variables': 'LOG_LEVEL' },
    'environment-variables',
    'line 1 "LOG_LEVEL" is not KEY=VALUE',
    '"-NAME" removes NAME'
  ],
  [
    'environment without a container',
    { 'task-definition': 'web.json', 'environment-variables': 'A=1' },
    'environment-variables',
    'needs "container-name" (or "containers")',
    'Set "container-name"'
  ],
  [
    'a secret that is not a secret reference',
    { ...base, secrets: 'DB=arn:aws:s3:::bucket/key' },
    'secrets',
    'is not a Secrets Manager or SSM parameter reference',
    'arn:aws:secretsmanager:'
  ],
  [
    'an env file that is not an S3 ARN',
    { ...base, 'env-files': 's3://bucket/app.env' },
    'env-files',
    'is not an S3 object ARN',
    'arn:aws:s3:::<bucket>/<key>.env'
  ],
  [
    'an unknown log driver',
    { ...base, 'log-configuration-log-driver': 'cloudwatch' },
    'log-configuration-log-driver',
    '"cloudwatch" is not a log driver',
    'awslogs'
  ],
  [
    'a log option without "="',
    { ...base, 'log-configuration-options': 'awslogs-group' },
    'log-configuration-options',
    'is not KEY=VALUE',
    'one KEY=VALUE per line'
  ],
  [
    'a docker label with a space in its name',
    { ...base, 'docker-labels': 'my label=x' },
    'docker-labels',
    '"my label" is not a valid name',
    'cannot contain spaces'
  ],
  [
    'a command with an unterminated quote',
    { ...base, command: 'sh -c "echo hi' },
    'command',
    'unterminated double quote',
    'JSON array'
  ],
  [
    'a task role that is a user',
    { ...base, 'task-role-arn': 'arn:aws:iam::123456789012:user/bob' },
    'task-role-arn',
    'is not an IAM role ARN',
    'not a role'
  ],
  [
    'an execution role with a short account',
    { ...base, 'execution-role-arn': 'arn:aws:iam::12345:role/exec' },
    'execution-role-arn',
    'is not an IAM role ARN',
    'exactly 12 digits'
  ],
  [
    'a CPU value that is not one',
    { ...base, cpu: 'lots' },
    'cpu',
    '"lots" is not a task CPU value',
    'CPU units'
  ],
  [
    'a memory value that is not one',
    { ...base, memory: '1 PB' },
    'memory',
    '"1 PB" is not a task memory value',
    'MiB'
  ],
  [
    'a runtime platform without an architecture',
    { ...base, 'runtime-platform': 'linux' },
    'runtime-platform',
    'is not <operating system>/<cpu architecture>',
    'LINUX/ARM64'
  ],
  [
    'a non-boolean pin-digest',
    { ...base, 'pin-digest': 'yes' },
    'pin-digest',
    'expected true or false, got "yes"',
    ''
  ],
  [
    'containers that are a list',
    { 'task-definition': 'web.json', containers: '- web' },
    'containers',
    'must be a mapping of container name to image',
    'For example'
  ],
  [
    'a misspelled key in containers',
    { 'task-definition': 'web.json', containers: 'web: {image: x, enviroment: {A: b}}' },
    'containers',
    'containers.web.enviroment is not a valid key (did you mean "environment"?)',
    'Use image, image-digest'
  ],
  [
    'containers as invalid YAML',
    { 'task-definition': 'web.json', containers: 'web: [a' },
    'containers',
    'invalid YAML at line',
    'Fix the YAML syntax'
  ],
  [
    'a latest image in containers',
    { 'task-definition': 'web.json', containers: `web: ${WEB}:latest` },
    'containers',
    'containers.web.image: "',
    'allow-latest: true'
  ],
  [
    'a container that does not exist',
    { ...base, 'container-name': 'api', image: pinned },
    'container-name',
    'no container named "api"',
    'Use one of: "web", "worker"'
  ],
  [
    'a misspelled key in the file',
    { 'task-definition': 'typo.json' },
    'task-definition',
    'containerDefinitions[0].portMapings is not a valid ContainerDefinition key (did you mean "portMappings"?)',
    'ECS RegisterTaskDefinition API model',
    {
      'typo.json': JSON.stringify({
        family: 'x',
        containerDefinitions: [{ name: 'a', image: 'a:1', portMapings: [] }]
      })
    }
  ],
  [
    'a string where the model wants a number',
    { 'task-definition': 'type.yaml' },
    'task-definition',
    'containerDefinitions[0].portMappings[0].containerPort expected a number, got the string "8080"',
    'ECS RegisterTaskDefinition',
    {
      'type.yaml':
        'family: x\ncontainerDefinitions:\n  - name: a\n    image: a:1\n    portMappings:\n      - containerPort: "8080"\n'
    }
  ],
  [
    'invalid JSON in the file',
    { 'task-definition': 'broken.json' },
    'task-definition',
    'broken.json: invalid JSON at line 1, column 12: ValueExpected',
    'Fix the JSON syntax',
    { 'broken.json': '{"family": }' }
  ],
  [
    'a Fargate memory size that does not fit the CPU',
    { ...base, memory: '8192' },
    'memory',
    'memory "8192" is not valid with cpu 256 on Fargate',
    'use memory 512, 1024 or 2048'
  ],
  [
    'Fargate without cpu',
    { 'task-definition': 'nocpu.json' },
    'task-definition',
    'a FARGATE task definition needs task-level "cpu" and "memory" ("cpu" is missing)',
    'Set both',
    {
      'nocpu.json': JSON.stringify({
        family: 'x',
        requiresCompatibilities: ['FARGATE'],
        memory: '512',
        containerDefinitions: [{ name: 'a', image: 'a:1' }]
      })
    }
  ],
  [
    'secrets without an execution role',
    { 'task-definition': 'noexec.json', 'container-name': 'a', secrets: 'TOKEN=/app/token' },
    'execution-role-arn',
    'has secrets but the task definition has no executionRoleArn',
    'Set "execution-role-arn"',
    {
      'noexec.json': JSON.stringify({
        family: 'x',
        containerDefinitions: [{ name: 'a', image: 'a:1' }]
      })
    }
  ],
  [
    'no essential container',
    { 'task-definition': 'noess.json' },
    'task-definition',
    'no container is essential',
    '"essential": true',
    {
      'noess.json': JSON.stringify({
        family: 'x',
        containerDefinitions: [{ name: 'a', image: 'a:1', essential: false }]
      })
    }
  ],
  [
    'a bad aws-region when a digest lookup is needed',
    { ...base, image: `${WEB}:v1`, 'aws-region': 'us-east-1a' },
    'aws-region',
    'is not an AWS region code',
    'availability zone'
  ]
]

describe('render-task-def rejects bad inputs before touching AWS, and writes no file', () => {
  it('has at least 20 distinct cases', () => {
    expect(new Set(CASES.map(([label]) => label)).size).toBeGreaterThanOrEqual(20)
    expect(new Set(CASES.map(([, , input]) => input)).size).toBeGreaterThanOrEqual(20)
  })

  // A rest parameter keeps the function's arity at 0, so jest never mistakes the optional last column for `done`.
  it.each(CASES)('%s', async (...[, inputs, input, problem, fix, files]: Case) => {
    const r = await render(inputs, { workspace: workspace(files) })
    expect(r.exitCode).toBe(1)
    expect(r.errors).toHaveLength(1)
    const error = r.errors[0] as string
    expect(error.startsWith(`render-task-def: input "${input}"`)).toBe(true)
    expect(error).toContain(problem)
    expect(error).toContain(fix)
    expect(r.written.size).toBe(0)
    expect(r.auth).toEqual([])
    expect(r.describes).toEqual([])
    expect(r.lookups).toEqual([])
    expect(r.outputs).toEqual({})
  })
})
