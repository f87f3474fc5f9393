import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, getInputs, INPUT_NAMES } from '../../../../actions/build-tag-push/src/inputs.js'

let workspace: string
const saved = { ...process.env }

function setInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'btp-ws-'))
  mkdirSync(join(workspace, 'app'))
  writeFileSync(join(workspace, 'app', 'Dockerfile'), 'FROM scratch\n')
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n')
  writeFileSync(
    join(workspace, 'policy.json'),
    '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}'
  )
  process.env['GITHUB_WORKSPACE'] = workspace
  process.env['AWS_REGION'] = 'us-east-1'
})

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
})

describe('build-tag-push inputs', () => {
  it('applies the defaults', () => {
    setInputs({ repository: 'team/api' })
    const inputs = getInputs()
    expect(inputs).toMatchObject({
      repository: 'team/api',
      createRepository: true,
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      encryption: 'AES256',
      shortShaLength: 7,
      extraTags: [],
      allowLatest: false,
      allowRoot: false,
      lifecyclePolicy: undefined,
      sourceImage: undefined,
      containerName: 'api'
    })
    expect(inputs.build).toMatchObject({
      context: workspace,
      dockerfile: join(workspace, 'Dockerfile'),
      provenance: false,
      sbom: false,
      ecrCache: false,
      buildArgs: [],
      secrets: []
    })
    expect(inputs.auth.region).toBe('us-east-1')
  })

  it('declares the auth inputs and their defaults', () => {
    expect(INPUT_NAMES).toEqual(
      expect.arrayContaining(['role-to-assume', 'aws-region', 'audience', 'max-attempts'])
    )
    expect(DEFAULTS).toMatchObject({ audience: 'sts.amazonaws.com', 'short-sha-length': 7 })
  })

  it('parses build inputs', () => {
    setInputs({
      repository: 'api',
      context: 'app',
      'build-args': 'A=1\nURL=x=y\n# comment',
      labels: 'org.example.team=pay',
      secrets: 'npm_token=abc-123-secret',
      platforms: 'linux/amd64, linux/arm64',
      tags: 'v1.2.3\nrelease',
      'cache-from': 'type=registry,ref=x/y:cache',
      provenance: 'mode=max',
      sbom: 'true',
      'lifecycle-policy': 'keep-last: 10'
    })
    const inputs = getInputs()
    expect(inputs.build).toMatchObject({
      context: join(workspace, 'app'),
      dockerfile: join(workspace, 'app', 'Dockerfile'),
      buildArgs: [
        { key: 'A', value: '1' },
        { key: 'URL', value: 'x=y' }
      ],
      labels: { 'org.example.team': 'pay' },
      secrets: [{ id: 'npm_token', value: 'abc-123-secret' }],
      platforms: ['linux/amd64', 'linux/arm64'],
      cacheFrom: ['type=registry,ref=x/y:cache'],
      provenance: 'mode=max',
      sbom: 'true'
    })
    expect(inputs.extraTags).toEqual(['v1.2.3', 'release'])
    expect(JSON.parse(inputs.lifecyclePolicy ?? '')).toMatchObject({
      rules: [{ selection: { countNumber: 10, tagStatus: 'any' } }]
    })
  })

  it('reads a lifecycle policy file', () => {
    setInputs({ repository: 'api', 'lifecycle-policy': 'policy.json' })
    expect(JSON.parse(getInputs().lifecyclePolicy ?? '')).toMatchObject({
      rules: [{ rulePriority: 1 }]
    })
  })

  it('parses promote mode', () => {
    setInputs({
      repository: 'prod/api',
      'source-image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:abc1234',
      tags: 'v2'
    })
    expect(getInputs().sourceImage).toEqual({
      text: '123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:abc1234',
      repositoryName: 'dev/api',
      registryId: '123456789012',
      tag: 'abc1234',
      digest: undefined
    })
  })

  it.each([
    [{ repository: '' }, /input "repository" is required/],
    [
      { repository: 'Team/API' },
      /input "repository": "Team\/API" is not a valid ECR repository name/
    ],
    [
      { repository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/api' },
      /includes the registry host.*Give only the repository name \(e\.g\. "api"\)/
    ],
    [{ repository: 'api', tags: 'v1 beta' }, /input "tags": "v1 beta" is not a valid image tag/],
    [{ repository: 'api', tags: '-bad' }, /input "tags": "-bad" is not a valid image tag/],
    [{ repository: 'api', tags: 'latest' }, /input "tags": contains "latest".*allow-latest: true/],
    [{ repository: 'api', context: 'nope' }, /input "context": directory "nope" does not exist/],
    [
      { repository: 'api', dockerfile: 'missing/Dockerfile' },
      /input "dockerfile": no Dockerfile at "missing\/Dockerfile"/
    ],
    [
      { repository: 'api', 'build-args': 'JUSTAKEY' },
      /input "build-args": line 1 "JUSTAKEY" is not KEY=VALUE/
    ],
    [
      { repository: 'api', 'build-args': '--build-arg=X' },
      /input "build-args": line 1: "--build-arg" is not a valid build-arg name/
    ],
    [
      { repository: 'api', 'short-sha-length': '2' },
      /input "short-sha-length": expected a number between 4 and 40/
    ],
    [
      { repository: 'api', 'kms-key': 'alias/x' },
      /input "kms-key" is set but "encryption" is not KMS/
    ],
    [
      { repository: 'api', 'image-tag-mutability': 'sometimes' },
      /input "image-tag-mutability": expected one of IMMUTABLE, MUTABLE/
    ],
    [{ repository: 'api', platforms: 'amd64' }, /input "platforms": "amd64" is not os\/arch/],
    [
      { repository: 'api', provenance: 'yes' },
      /input "provenance": expected true, false or attributes/
    ],
    [{ repository: 'api', 'lifecycle-policy': 'keep-last: many' }, /keep-last expects a number/],
    [
      { repository: 'api', 'lifecycle-policy': 'nope.json' },
      /input "lifecycle-policy": file "nope.json" does not exist/
    ],
    [
      { repository: 'api', 'registry-id': '1234' },
      /input "registry-id": "1234" is not a 12-digit AWS account ID/
    ],
    [
      { repository: 'api', 'source-image': 'dev/api' },
      /input "source-image": "dev\/api" names no tag or digest/
    ],
    [
      { repository: 'api', 'source-image': 'dev/api:v1' },
      /input "tags" is required with "source-image"/
    ],
    [
      { repository: 'api', 'source-image': 'dev/api:v1', tags: 'v2', 'build-args': 'A=1' },
      /input "build-args": conflicts with "source-image"/
    ],
    [
      { repository: 'api', 'role-to-assume': 'deploy' },
      /input "role-to-assume": "deploy" is not an IAM role ARN/
    ],
    [
      { repository: 'api', 'tag-suffix': '-worker' },
      /input "tag-suffix": "-worker" cannot end an image tag/
    ],
    [
      { repository: 'api', 'tag-suffix': 'a/b' },
      /input "tag-suffix": "a\/b" cannot end an image tag/
    ],
    [
      { repository: 'api', 'tag-suffix': 'x'.repeat(88) },
      /input "tag-suffix": "x+" cannot end an image tag/
    ],
    [
      { repository: 'api', 'commit-sha': 'main' },
      /input "commit-sha": "main" is not a full 40-character lowercase git SHA/
    ],
    [
      { repository: 'api', 'source-image': 'dev/api:v1', tags: 'v2', 'tag-suffix': 'w' },
      /input "tag-suffix": conflicts with "source-image"/
    ]
  ])('rejects %j', (inputs, message) => {
    setInputs(inputs)
    expect(() => getInputs()).toThrow(message)
  })

  it('reads tag-suffix and commit-sha', () => {
    const sha = 'a'.repeat(40)
    setInputs({ repository: 'api', 'tag-suffix': 'worker.v2', 'commit-sha': sha })
    expect(getInputs()).toMatchObject({ tagSuffix: 'worker.v2', commitSha: sha })
  })

  it('never echoes a malformed secret line', () => {
    setInputs({ repository: 'api', secrets: 'no-equals-sign-but-secret-text' })
    let message = ''
    try {
      getInputs()
    } catch (error) {
      message = String(error)
    }
    expect(message).toMatch(/input "secrets": line 1 is not id=value/)
    expect(message).not.toContain('no-equals-sign-but-secret-text')
  })
})
