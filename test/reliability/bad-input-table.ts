/** One bad input: the action, what is wrong, the inputs (plus workspace files), and the input the error must name. */
export interface BadInput {
  action: string
  label: string
  inputs: Record<string, string>
  files?: Record<string, string | Buffer>
  /** Symlinks to create in the workspace: name → target. */
  symlinks?: Record<string, string>
  /** The input name the error message must quote. */
  names: string
  /** A fragment the message must also contain, where the problem has a specific wording. */
  mentions?: RegExp
}

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const DIGEST = `sha256:${'a'.repeat(64)}`
const TASK_DEF = JSON.stringify({
  family: 'web',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  containerDefinitions: [{ name: 'web', image: `${ECR}/web:1`, essential: true }]
})
const aliasBomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
for (let i = 1; i < 12; i++) {
  const prev = String.fromCharCode(96 + i)
  const next = String.fromCharCode(97 + i)
  aliasBomb.push(
    `${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`
  )
}
const ALIAS_BOMB = aliasBomb.join('\n') + '\n'

function rows(
  action: string,
  base: Record<string, string>,
  list: Omit<BadInput, 'action'>[]
): BadInput[] {
  return list.map((row) => ({ ...row, action, inputs: { ...base, ...row.inputs } }))
}

const build = rows('build-tag-push', { repository: 'shop/api' }, [
  { label: 'no repository', inputs: { repository: '' }, names: 'repository' },
  { label: 'upper-case repository', inputs: { repository: 'Shop/API' }, names: 'repository' },
  { label: 'repository with a tag', inputs: { repository: 'shop/api:v1' }, names: 'repository' },
  {
    label: 'repository with a registry host',
    inputs: { repository: `${ECR}/shop/api` },
    names: 'repository'
  },
  {
    label: 'unknown tag mutability',
    inputs: { 'image-tag-mutability': 'SOMETIMES' },
    names: 'image-tag-mutability'
  },
  { label: 'unknown encryption', inputs: { encryption: 'RSA' }, names: 'encryption' },
  {
    label: 'keep-last of zero',
    inputs: { 'lifecycle-policy': 'keep-last: 0' },
    names: 'lifecycle-policy'
  },
  {
    label: 'keep-last not a number',
    inputs: { 'lifecycle-policy': 'keep-last: ten' },
    names: 'lifecycle-policy'
  },
  {
    label: 'lifecycle policy file missing',
    inputs: { 'lifecycle-policy': 'policy.json' },
    names: 'lifecycle-policy'
  },
  {
    label: 'lifecycle policy not JSON',
    inputs: { 'lifecycle-policy': 'policy.json' },
    files: { 'policy.json': '{"rules": [' },
    names: 'lifecycle-policy'
  },
  { label: 'short SHA too short', inputs: { 'short-sha-length': '3' }, names: 'short-sha-length' },
  { label: 'short SHA too long', inputs: { 'short-sha-length': '41' }, names: 'short-sha-length' },
  { label: 'tag suffix starting with -', inputs: { 'tag-suffix': '-x' }, names: 'tag-suffix' },
  { label: 'commit SHA that is a branch', inputs: { 'commit-sha': 'main' }, names: 'commit-sha' },
  {
    label: 'short SHA not a number',
    inputs: { 'short-sha-length': 'seven' },
    names: 'short-sha-length'
  },
  { label: 'invalid extra tag', inputs: { tags: 'v1.0, bad tag!' }, names: 'tags' },
  { label: 'latest without allow-latest', inputs: { tags: 'latest' }, names: 'tags' },
  { label: 'allow-latest not a boolean', inputs: { 'allow-latest': 'yes' }, names: 'allow-latest' },
  { label: 'context directory missing', inputs: { context: 'services/api' }, names: 'context' },
  {
    label: 'Dockerfile missing',
    inputs: { dockerfile: 'docker/Dockerfile.prod' },
    names: 'dockerfile'
  },
  { label: 'build-arg without =', inputs: { 'build-args': 'VERSION' }, names: 'build-args' },
  { label: 'platform without an architecture', inputs: { platforms: 'linux' }, names: 'platforms' },
  { label: 'label without =', inputs: { labels: 'team' }, names: 'labels' },
  { label: 'secret without a value', inputs: { secrets: 'npm_token' }, names: 'secrets' },
  { label: 'ecr-cache not a boolean', inputs: { 'ecr-cache': 'maybe' }, names: 'ecr-cache' },
  { label: 'allow-root not a boolean', inputs: { 'allow-root': 'nah' }, names: 'allow-root' },
  {
    label: 'create-repository not a boolean',
    inputs: { 'create-repository': 'nope' },
    names: 'create-repository'
  },
  {
    label: 'scan-on-push not a boolean',
    inputs: { 'scan-on-push': 'Yes please' },
    names: 'scan-on-push'
  },
  { label: 'registry id not an account', inputs: { 'registry-id': '12345' }, names: 'registry-id' },
  {
    label: 'source image not a reference',
    inputs: { 'source-image': 'not a ref!!' },
    names: 'source-image'
  },
  {
    label: 'role ARN malformed',
    inputs: { 'role-to-assume': 'deploy-role' },
    names: 'role-to-assume'
  },
  {
    label: 'role ARN with a short account',
    inputs: { 'role-to-assume': 'arn:aws:iam::123:role/x' },
    names: 'role-to-assume'
  },
  { label: 'region malformed', inputs: { 'aws-region': 'mars' }, names: 'aws-region' },
  {
    label: 'session name too short',
    inputs: { 'role-session-name': 'a' },
    names: 'role-session-name'
  },
  {
    label: 'role duration below the minimum',
    inputs: { 'role-duration-seconds': '100' },
    names: 'role-duration-seconds'
  },
  {
    label: 'role duration above the maximum',
    inputs: { 'role-duration-seconds': '50000' },
    names: 'role-duration-seconds'
  },
  {
    label: 'role duration not a number',
    inputs: { 'role-duration-seconds': 'an hour' },
    names: 'role-duration-seconds'
  },
  { label: 'max-attempts zero', inputs: { 'max-attempts': '0' }, names: 'max-attempts' },
  { label: 'max-attempts huge', inputs: { 'max-attempts': '1000' }, names: 'max-attempts' },
  {
    label: 'role-chaining not a boolean',
    inputs: { 'role-chaining': 'perhaps' },
    names: 'role-chaining'
  }
])

const scan = rows('scan-gate', { image: `${ECR}/shop/api@${DIGEST}` }, [
  { label: 'no image', inputs: { image: '' }, names: 'image' },
  { label: 'image not a reference', inputs: { image: 'not an image!!' }, names: 'image' },
  {
    label: 'image with a malformed digest',
    inputs: { image: `${ECR}/shop/api@sha256:abc` },
    names: 'image'
  },
  { label: 'image outside ECR', inputs: { image: 'docker.io/library/nginx:1.27' }, names: 'image' },
  { label: 'platform without an architecture', inputs: { platform: 'linux' }, names: 'platform' },
  {
    label: 'unknown severity',
    inputs: { 'severity-threshold': 'SEVERE' },
    names: 'severity-threshold'
  },
  {
    label: 'ignore-unfixed not a boolean',
    inputs: { 'ignore-unfixed': 'sometimes' },
    names: 'ignore-unfixed'
  },
  {
    label: 'fail-on-scan-error not a boolean',
    inputs: { 'fail-on-scan-error': 'x' },
    names: 'fail-on-scan-error'
  },
  { label: 'timeout not a duration', inputs: { timeout: 'ten minutes' }, names: 'timeout' },
  { label: 'negative timeout', inputs: { timeout: '-5m' }, names: 'timeout' },
  { label: 'settle-time not a duration', inputs: { 'settle-time': 'soon' }, names: 'settle-time' },
  {
    label: 'settle-time not shorter than timeout',
    inputs: { timeout: '60s', 'settle-time': '60s' },
    names: 'settle-time'
  },
  {
    label: 'max-scan-age under ECR 24 h scan quota',
    inputs: { 'max-scan-age': '12h' },
    names: 'max-scan-age'
  },
  { label: 'allowlist file missing', inputs: { allowlist: 'allow.yaml' }, names: 'allowlist' },
  {
    label: 'allowlist not YAML',
    inputs: { allowlist: 'allow.yaml' },
    files: { 'allow.yaml': '- id: CVE-1\n  reason: [unclosed\n' },
    names: 'allowlist',
    mentions: /line \d+/
  },
  {
    label: 'allowlist entry without a reason',
    inputs: { allowlist: 'allow.yaml' },
    files: { 'allow.yaml': '- id: CVE-2024-1\n  expires: 2099-01-01\n' },
    names: 'allowlist'
  },
  {
    label: 'allowlist expiry not a date',
    inputs: { allowlist: 'allow.yaml' },
    files: {
      'allow.yaml': '- id: CVE-2024-1\n  reason: vendor fix pending\n  expires: tomorrow\n'
    },
    names: 'allowlist'
  },
  {
    label: 'allowlist YAML alias bomb',
    inputs: { allowlist: 'allow.yaml' },
    files: { 'allow.yaml': ALIAS_BOMB },
    names: 'allowlist',
    mentions: /alias/
  },
  {
    label: 'allowlist not UTF-8',
    inputs: { allowlist: 'allow.yaml' },
    files: { 'allow.yaml': Buffer.from([0x2d, 0x20, 0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) },
    names: 'allowlist',
    mentions: /UTF-8/
  },
  {
    label: 'allowlist over 1 MiB',
    inputs: { allowlist: 'allow.yaml' },
    files: { 'allow.yaml': `# ${'x'.repeat(1_100_000)}\n[]\n` },
    names: 'allowlist',
    mentions: /1 MiB/
  },
  {
    label: 'role ARN malformed',
    inputs: { 'role-to-assume': 'arn:aws:iam::123456789012:user/ci' },
    names: 'role-to-assume'
  },
  { label: 'max-attempts not a number', inputs: { 'max-attempts': 'many' }, names: 'max-attempts' }
])

const render = rows(
  'render-task-def',
  { 'task-definition': 'td.json', 'container-name': 'web', image: `${ECR}/web@${DIGEST}` },
  [
    {
      label: 'no task definition source',
      inputs: { 'task-definition': '' },
      names: 'task-definition'
    },
    {
      label: 'file and ARN together',
      inputs: { 'task-definition-arn': 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3' },
      files: { 'td.json': TASK_DEF },
      names: 'task-definition-arn'
    },
    { label: 'task definition file missing', inputs: {}, names: 'task-definition' },
    {
      label: 'malformed JSON',
      inputs: {},
      files: { 'td.json': '{\n  "family": "web",\n  "containerDefinitions": [\n}' },
      names: 'task-definition',
      mentions: /line \d+/
    },
    {
      label: 'YAML alias bomb',
      inputs: { 'task-definition': 'td.yaml' },
      files: { 'td.yaml': ALIAS_BOMB },
      names: 'task-definition',
      mentions: /alias/
    },
    {
      label: 'document over 1 MiB',
      inputs: {},
      files: {
        'td.json': JSON.stringify({
          family: 'web',
          containerDefinitions: [],
          x: 'y'.repeat(1_100_000)
        })
      },
      names: 'task-definition',
      mentions: /1 MiB/
    },
    {
      label: 'non-UTF-8 bytes',
      inputs: {},
      files: {
        'td.json': Buffer.concat([
          Buffer.from('{"family": "'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}')
        ])
      },
      names: 'task-definition',
      mentions: /UTF-8/
    },
    {
      label: 'unknown key',
      inputs: {},
      files: { 'td.json': TASK_DEF.replace('"containerDefinitions"', '"containerDefinitons"') },
      names: 'task-definition',
      mentions: /containerDefinitons/
    },
    {
      label: 'wrong type',
      inputs: {},
      files: { 'td.json': TASK_DEF.replace('"essential":true', '"essential":"yes"') },
      names: 'task-definition'
    },
    {
      label: 'container not in the definition',
      inputs: { 'container-name': 'api' },
      files: { 'td.json': TASK_DEF },
      names: 'container-name'
    },
    {
      label: 'image not a reference',
      inputs: { image: 'UPPER/Case:tag' },
      files: { 'td.json': TASK_DEF },
      names: 'image'
    },
    {
      label: 'image tagged latest',
      inputs: { image: `${ECR}/web:latest` },
      files: { 'td.json': TASK_DEF },
      names: 'image'
    },
    {
      label: 'malformed image digest',
      inputs: { image: `${ECR}/web:1`, 'image-digest': 'sha256:xyz' },
      files: { 'td.json': TASK_DEF },
      names: 'image-digest'
    },
    {
      label: 'environment variable without =',
      inputs: { 'environment-variables': 'LOG_LEVEL' },
      files: { 'td.json': TASK_DEF },
      names: 'environment-variables'
    },
    {
      label: 'secret without a source',
      inputs: { secrets: 'DB_PASSWORD' },
      files: { 'td.json': TASK_DEF },
      names: 'secrets'
    },
    {
      label: 'unknown log driver',
      inputs: { 'log-configuration-log-driver': 'syslogx' },
      files: { 'td.json': TASK_DEF },
      names: 'log-configuration-log-driver'
    },
    {
      label: 'docker label without =',
      inputs: { 'docker-labels': 'team' },
      files: { 'td.json': TASK_DEF },
      names: 'docker-labels'
    },
    {
      label: 'cpu not a size',
      inputs: { cpu: 'lots' },
      files: { 'td.json': TASK_DEF },
      names: 'cpu'
    },
    {
      label: 'memory not a size',
      inputs: { memory: 'plenty' },
      files: { 'td.json': TASK_DEF },
      names: 'memory'
    },
    {
      label: 'runtime platform malformed',
      inputs: { 'runtime-platform': 'amiga' },
      files: { 'td.json': TASK_DEF },
      names: 'runtime-platform'
    },
    {
      label: 'task role not a role ARN',
      inputs: { 'task-role-arn': 'arn:aws:iam::123456789012:user/app' },
      files: { 'td.json': TASK_DEF },
      names: 'task-role-arn'
    },
    {
      label: 'execution role malformed',
      inputs: { 'execution-role-arn': 'exec-role' },
      files: { 'td.json': TASK_DEF },
      names: 'execution-role-arn'
    },
    {
      label: 'task definition ARN malformed',
      inputs: {
        'task-definition': '',
        'task-definition-arn': 'arn:aws:ecs:us-east-1:123:task/web'
      },
      names: 'task-definition-arn'
    },
    {
      label: 'revision without a family',
      inputs: { 'task-definition-revision': '3' },
      files: { 'td.json': TASK_DEF },
      names: 'task-definition-revision'
    },
    {
      label: 'pin-digest not a boolean',
      inputs: { 'pin-digest': 'maybe' },
      files: { 'td.json': TASK_DEF },
      names: 'pin-digest'
    },
    {
      label: 'containers list not YAML',
      inputs: { 'container-name': '', image: '', containers: '- name: web\n  image: [' },
      files: { 'td.json': TASK_DEF },
      names: 'containers'
    },
    {
      label: 'command not splittable',
      inputs: { command: 'echo "unterminated' },
      files: { 'td.json': TASK_DEF },
      names: 'command'
    }
  ]
)

const deployEcs = rows(
  'deploy-ecs',
  { service: 'web', cluster: 'main', 'task-definition': 'td.json' },
  [
    {
      label: 'no service',
      inputs: { service: '' },
      files: { 'td.json': TASK_DEF },
      names: 'service'
    },
    {
      label: 'service name with a slash',
      inputs: { service: 'team/web' },
      files: { 'td.json': TASK_DEF },
      names: 'service'
    },
    {
      label: 'cluster ARN of another service',
      inputs: { cluster: 'arn:aws:eks:us-east-1:123456789012:cluster/main' },
      files: { 'td.json': TASK_DEF },
      names: 'cluster'
    },
    { label: 'no task definition', inputs: { 'task-definition': '' }, names: 'task-definition' },
    {
      label: 'both a file and an ARN',
      inputs: {
        'task-definition-arn': 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3'
      },
      files: { 'td.json': TASK_DEF },
      names: 'task-definition-arn'
    },
    {
      label: 'task definition ARN without a revision',
      inputs: {
        'task-definition': '',
        'task-definition-arn': 'arn:aws:ecs:us-east-1:123456789012:task-definition/web'
      },
      names: 'task-definition-arn'
    },
    {
      label: 'task definition file missing',
      inputs: { 'task-definition': 'rendered.json' },
      names: 'task-definition'
    },
    {
      label: 'task definition outside the workspace',
      inputs: { 'task-definition': '../../etc/passwd' },
      names: 'task-definition'
    },
    {
      label: 'task definition not JSON',
      files: { 'td.json': '{"family": "web",' },
      inputs: {},
      names: 'task-definition'
    },
    {
      label: 'task definition without containers',
      files: { 'td.json': JSON.stringify({ family: 'web', containerDefinitions: [] }) },
      inputs: {},
      names: 'task-definition'
    },
    {
      label: 'unknown wait-until',
      inputs: { 'wait-until': 'healthy' },
      files: { 'td.json': TASK_DEF },
      names: 'wait-until'
    },
    {
      label: 'wait-until conflicting with wait-for-service-stability',
      inputs: { 'wait-until': 'stable', 'wait-for-service-stability': 'false' },
      files: { 'td.json': TASK_DEF },
      names: 'wait-until'
    },
    {
      label: 'unknown strategy',
      inputs: { strategy: 'blue_green_fast' },
      files: { 'td.json': TASK_DEF },
      names: 'strategy'
    },
    {
      label: 'canary-percent above 100',
      inputs: { strategy: 'canary', 'canary-percent': '150' },
      files: { 'td.json': TASK_DEF },
      names: 'canary-percent',
      mentions: /between 0.1 and 100/
    },
    {
      label: 'canary-percent not a multiple of 0.1',
      inputs: { strategy: 'canary', 'canary-percent': '5.25' },
      files: { 'td.json': TASK_DEF },
      names: 'canary-percent'
    },
    {
      label: 'linear-step-percent below 3',
      inputs: { strategy: 'linear', 'linear-step-percent': '2' },
      files: { 'td.json': TASK_DEF },
      names: 'linear-step-percent',
      mentions: /between 3 and 100/
    },
    {
      label: 'canary-interval not a duration',
      inputs: { strategy: 'canary', 'canary-interval': 'soon' },
      files: { 'td.json': TASK_DEF },
      names: 'canary-interval'
    },
    {
      label: 'linear-interval beyond 24 hours',
      inputs: { strategy: 'linear', 'linear-interval': '25h' },
      files: { 'td.json': TASK_DEF },
      names: 'linear-interval'
    },
    {
      label: 'bake-time in seconds',
      inputs: { strategy: 'blue-green', 'bake-time': '90s' },
      files: { 'td.json': TASK_DEF },
      names: 'bake-time',
      mentions: /whole number of minutes/
    },
    {
      label: 'canary options with linear',
      inputs: { strategy: 'linear', 'canary-percent': '10' },
      files: { 'td.json': TASK_DEF },
      names: 'canary-percent',
      mentions: /strategy/
    },
    {
      label: 'linear options with canary',
      inputs: { strategy: 'canary', 'linear-interval': '5m' },
      files: { 'td.json': TASK_DEF },
      names: 'linear-interval',
      mentions: /strategy/
    },
    {
      label: 'bake-time without a strategy',
      inputs: { 'bake-time': '5m' },
      files: { 'td.json': TASK_DEF },
      names: 'bake-time'
    },
    {
      label: 'wait-until a stage with rolling',
      inputs: { strategy: 'rolling', 'wait-until': 'POST_SCALE_UP' },
      files: { 'td.json': TASK_DEF },
      names: 'wait-until',
      mentions: /lifecycle stage/
    },
    {
      label: 'continue-deployment not true or rollback',
      inputs: { 'continue-deployment': 'yes please' },
      files: { 'td.json': TASK_DEF },
      names: 'continue-deployment'
    },
    {
      label: 'continue-deployment with a strategy',
      inputs: { 'continue-deployment': 'true', strategy: 'canary' },
      files: { 'td.json': TASK_DEF },
      names: 'continue-deployment'
    },
    {
      label: 'wait-timeout not a duration',
      inputs: { 'wait-timeout': 'forever' },
      files: { 'td.json': TASK_DEF },
      names: 'wait-timeout'
    },
    {
      label: 'wait-timeout beyond six hours',
      inputs: { 'wait-timeout': '7h' },
      files: { 'td.json': TASK_DEF },
      names: 'wait-timeout'
    },
    {
      label: 'negative desired-count',
      inputs: { 'desired-count': '-1' },
      files: { 'td.json': TASK_DEF },
      names: 'desired-count'
    },
    {
      label: 'max-failed-tasks of zero',
      inputs: { 'max-failed-tasks': '0' },
      files: { 'td.json': TASK_DEF },
      names: 'max-failed-tasks'
    },
    {
      label: 'unknown propagate-tags',
      inputs: { 'propagate-tags': 'EVERYWHERE' },
      files: { 'td.json': TASK_DEF },
      names: 'propagate-tags'
    },
    {
      label: 'verify not a boolean',
      inputs: { verify: 'sometimes' },
      files: { 'td.json': TASK_DEF },
      names: 'verify'
    },
    {
      label: 'run-task-container without run-task-before',
      inputs: { 'run-task-container': 'migrate' },
      files: { 'td.json': TASK_DEF },
      names: 'run-task-container'
    },
    {
      label: 'run-task-before not splittable',
      inputs: { 'run-task-before': 'npm run "migrate' },
      files: { 'td.json': TASK_DEF },
      names: 'run-task-before'
    },
    {
      label: 'service-spec without create-service-if-missing',
      inputs: { 'service-spec': 'service.yml' },
      files: { 'td.json': TASK_DEF, 'service.yml': 'launchType: FARGATE\n' },
      names: 'service-spec'
    },
    {
      label: 'create-service-if-missing without a spec',
      inputs: { 'create-service-if-missing': 'true' },
      files: { 'td.json': TASK_DEF },
      names: 'service-spec'
    },
    {
      label: 'service-spec that sets the task definition',
      inputs: { 'create-service-if-missing': 'true', 'service-spec': 'service.yml' },
      files: { 'td.json': TASK_DEF, 'service.yml': 'taskDefinition: web:1\nlaunchType: FARGATE\n' },
      names: 'service-spec'
    },
    {
      label: 'service-spec alias bomb',
      inputs: { 'create-service-if-missing': 'true', 'service-spec': 'service.yml' },
      files: { 'td.json': TASK_DEF, 'service.yml': ALIAS_BOMB },
      names: 'service-spec'
    }
  ]
)

/**
 * deploy-ecs on CodeDeploy services. bad-inputs.test.ts seeds cluster "cd-bad" with "web-ecs" (ECS controller) and
 * "web-cd" (CODE_DEPLOY, load balancer on web:8080), both running CD_TASK_DEF's family.
 */
export const CD_TASK_DEF = {
  family: 'web-cd',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    {
      name: 'web',
      image: 'public.example/web:1',
      essential: true,
      portMappings: [{ containerPort: 8080 }]
    }
  ]
}
const cdAppSpec = (container: string, port: number): string =>
  [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    '        TaskDefinition: "x"',
    '        LoadBalancerInfo:',
    `          ContainerName: "${container}"`,
    `          ContainerPort: ${port}`
  ].join('\n')
const CD_FILES = { 'td.json': JSON.stringify(CD_TASK_DEF) }
const CD_GROUP = { 'codedeploy-application': 'web-cd', 'codedeploy-deployment-group': 'web-cd-dg' }

const deployEcsCodeDeploy = rows(
  'deploy-ecs',
  { service: 'web-cd', cluster: 'cd-bad', 'task-definition': 'td.json', verify: 'false' },
  [
    {
      label: 'codedeploy-appspec neither YAML nor JSON',
      inputs: { ...CD_GROUP, 'codedeploy-appspec': 'appspec.yaml' },
      files: { ...CD_FILES, 'appspec.yaml': '{"version": 0.0, "Resources": [' },
      names: 'codedeploy-appspec',
      mentions: /neither YAML nor JSON/
    },
    {
      label: 'codedeploy-appspec not an ECS AppSpec',
      inputs: { ...CD_GROUP, 'codedeploy-appspec': 'appspec.yaml' },
      files: {
        ...CD_FILES,
        'appspec.yaml': 'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n'
      },
      names: 'codedeploy-appspec',
      mentions: /not an ECS AppSpec/
    },
    {
      label: 'codedeploy-appspec with a wrong container name',
      inputs: { ...CD_GROUP, 'codedeploy-appspec': 'appspec.yaml' },
      files: { ...CD_FILES, 'appspec.yaml': cdAppSpec('api', 8080) },
      names: 'codedeploy-appspec',
      mentions: /container "api" is not in the task definition/
    },
    {
      label: 'codedeploy-appspec with a wrong container port',
      inputs: { ...CD_GROUP, 'codedeploy-appspec': 'appspec.yaml' },
      files: { ...CD_FILES, 'appspec.yaml': cdAppSpec('web', 9090) },
      names: 'codedeploy-appspec',
      mentions: /does not map port 9090/
    },
    {
      label: 'codedeploy-hooks with an unknown hook event',
      inputs: { ...CD_GROUP, 'codedeploy-hooks': 'Install=smoke' },
      files: CD_FILES,
      names: 'codedeploy-hooks',
      mentions: /not a hook event/
    },
    {
      label: 'codedeploy-hooks together with codedeploy-appspec',
      inputs: {
        ...CD_GROUP,
        'codedeploy-hooks': 'AfterAllowTraffic=smoke',
        'codedeploy-appspec': 'appspec.yaml'
      },
      files: { ...CD_FILES, 'appspec.yaml': cdAppSpec('web', 8080) },
      names: 'codedeploy-hooks'
    },
    {
      label: 'codedeploy-application without a deployment group',
      inputs: { 'codedeploy-application': 'web-cd' },
      files: CD_FILES,
      names: 'codedeploy-deployment-group'
    },
    {
      label: 'codedeploy-* for a service with the ECS deployment controller',
      inputs: { ...CD_GROUP, service: 'web-ecs' },
      files: CD_FILES,
      names: 'codedeploy-application',
      mentions: /not CODE_DEPLOY/
    },
    {
      label: 'no codedeploy-application for a CODE_DEPLOY service',
      inputs: {},
      files: CD_FILES,
      names: 'codedeploy-application',
      mentions: /CODE_DEPLOY deployment controller/
    }
  ]
)

const WEB_YAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: ${ECR}/web:1}]
`
const GITOPS = {
  'cluster-name': '',
  manifests: '',
  mode: 'gitops',
  'gitops-repository': 'acme/gitops',
  images: `${ECR}/web@${DIGEST}`
}

const eks = rows(
  'deploy-eks-manifest',
  { 'cluster-name': 'prod', manifests: 'web.yaml', images: `${ECR}/web@${DIGEST}` },
  [
    {
      label: 'no cluster-name',
      inputs: { 'cluster-name': '' },
      files: { 'web.yaml': WEB_YAML },
      names: 'cluster-name'
    },
    {
      label: 'cluster ARN instead of a name',
      inputs: { 'cluster-name': 'arn:aws:eks:us-east-1:123456789012:cluster/prod' },
      files: { 'web.yaml': WEB_YAML },
      names: 'cluster-name'
    },
    { label: 'no manifests', inputs: { manifests: '' }, names: 'manifests' },
    {
      label: 'missing manifest file',
      inputs: { manifests: 'nope.yaml' },
      names: 'manifests',
      mentions: /does not exist/
    },
    {
      label: 'manifest outside the workspace',
      inputs: { manifests: '/etc/hostname' },
      names: 'manifests',
      mentions: /outside the workspace/
    },
    {
      label: 'glob matching nothing',
      inputs: { manifests: 'k8s/**/*.yaml' },
      names: 'manifests',
      mentions: /matched no/
    },
    {
      label: 'manifest without kind',
      files: { 'web.yaml': 'apiVersion: v1\nmetadata: {name: x}\n' },
      inputs: {},
      names: 'manifests',
      mentions: /has no kind/
    },
    {
      label: 'image without tag or digest',
      inputs: { images: `${ECR}/web` },
      files: { 'web.yaml': WEB_YAML },
      names: 'images'
    },
    {
      label: 'upper-case image',
      inputs: { images: `${ECR}/Web:1` },
      files: { 'web.yaml': WEB_YAML },
      names: 'images'
    },
    {
      label: 'two images for one repository',
      inputs: { images: `${ECR}/web:1\n${ECR}/web:2` },
      files: { 'web.yaml': WEB_YAML },
      names: 'images'
    },
    {
      label: 'image that matches no container',
      inputs: { images: `${ECR}/api@${DIGEST}` },
      files: { 'web.yaml': WEB_YAML },
      names: 'images',
      mentions: /matched no container/
    },
    {
      label: 'unknown mode',
      inputs: { mode: 'helm' },
      files: { 'web.yaml': WEB_YAML },
      names: 'mode'
    },
    {
      label: 'invalid namespace',
      inputs: { namespace: 'Prod_NS' },
      files: { 'web.yaml': WEB_YAML },
      names: 'namespace'
    },
    {
      label: 'rollout-timeout not a duration',
      inputs: { 'rollout-timeout': 'soon' },
      files: { 'web.yaml': WEB_YAML },
      names: 'rollout-timeout'
    },
    {
      label: 'force-conflicts yes',
      inputs: { 'force-conflicts': 'yes' },
      files: { 'web.yaml': WEB_YAML },
      names: 'force-conflicts'
    },
    {
      label: 'gitops without repository',
      inputs: { ...GITOPS, 'gitops-repository': '' },
      names: 'gitops-repository'
    },
    {
      label: 'gitops-path leaving the repository',
      inputs: { ...GITOPS, 'gitops-path': '../other' },
      names: 'gitops-path'
    },
    {
      label: 'pull request without a token',
      inputs: { ...GITOPS, 'gitops-pull-request': 'true' },
      names: 'gitops-token'
    },
    {
      label: 'helm-values-key not a key path',
      inputs: { ...GITOPS, 'helm-values-key': 'image..tag' },
      names: 'helm-values-key'
    },
    {
      label: 'credentials in the GitOps URL',
      inputs: { ...GITOPS, 'gitops-repository': 'https://user:pw@github.com/acme/gitops.git' },
      names: 'gitops-repository'
    }
  ]
)

/** A file and a folder outside both GITHUB_WORKSPACE and RUNNER_TEMP that exist on every machine. */
const OUTSIDE_FILE = '/etc/passwd'
const OUTSIDE_DIR = '/tmp'
const ESCAPES = /outside the workspace and RUNNER_TEMP/

/** Path inputs: an absolute path outside, a relative one climbing out with "..", and a symlink leading out. */
function escapes(
  action: string,
  base: Record<string, string>,
  input: string,
  kind: 'file' | 'output'
): BadInput[] {
  const target = kind === 'file' ? OUTSIDE_FILE : `${OUTSIDE_DIR}/shipline-escape-${input}`
  const link = kind === 'file' ? OUTSIDE_FILE : OUTSIDE_DIR
  return rows(action, base, [
    {
      label: `${input}: an absolute path outside the workspace`,
      inputs: { [input]: target },
      names: input,
      mentions: ESCAPES
    },
    {
      label: `${input}: a relative path climbing out with ..`,
      inputs: { [input]: `../../..${target}` },
      names: input,
      mentions: ESCAPES
    },
    {
      label: `${input}: a symlink leading out of the workspace`,
      inputs: { [input]: kind === 'file' ? 'linked' : `linked/shipline-escape-${input}` },
      symlinks: { linked: link },
      names: input,
      mentions: ESCAPES
    }
  ])
}

const pathEscapes = [
  ...escapes(
    'render-task-def',
    { 'container-name': 'web', image: `${ECR}/web@${DIGEST}` },
    'task-definition',
    'file'
  ),
  ...escapes('build-tag-push', { repository: 'shop/api' }, 'lifecycle-policy', 'file'),
  ...escapes('build-tag-push', { repository: 'shop/api' }, 'codepipeline-artifacts', 'output'),
  ...escapes('scan-gate', { image: `${ECR}/shop/api@${DIGEST}` }, 'allowlist', 'file'),
  ...escapes('scan-gate', { image: `${ECR}/shop/api@${DIGEST}` }, 'sarif-file', 'output'),
  ...escapes('scan-gate', { image: `${ECR}/shop/api@${DIGEST}` }, 'report-file', 'output')
]

export const BAD_INPUTS: BadInput[] = [
  ...build,
  ...scan,
  ...render,
  ...pathEscapes,
  ...deployEcs,
  ...deployEcsCodeDeploy,
  ...eks
]
