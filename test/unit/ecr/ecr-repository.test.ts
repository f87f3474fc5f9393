import { afterEach, describe, expect, it } from '@jest/globals'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  LifecyclePolicyNotFoundException,
  ListTagsForResourceCommand,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
  type Repository,
  RepositoryNotFoundException
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import {
  ensureRepository,
  isValidRepositoryName,
  keepLastPolicy,
  samePolicy,
  type RepositorySettings
} from '@shipline/ecr'

const ecrMock = mockClient(ECRClient)
const ecr = new ECRClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
})
const settings: RepositorySettings = {
  imageTagMutability: 'IMMUTABLE',
  scanOnPush: true,
  encryptionType: 'AES256'
}
const repo = (over: Partial<Repository> = {}): Repository => ({
  repositoryName: 'team/api',
  repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api',
  repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/team/api',
  registryId: '123456789012',
  imageTagMutability: 'IMMUTABLE',
  imageScanningConfiguration: { scanOnPush: true },
  encryptionConfiguration: { encryptionType: 'AES256' },
  ...over
})
const notFound = () =>
  new RepositoryNotFoundException({
    message: "The repository with name 'team/api' does not exist",
    $metadata: {}
  })

afterEach(() => {
  ecrMock.reset()
})

describe('ensureRepository', () => {
  it('uses an existing repository unchanged and reports how it differs from the inputs', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        repo({ imageTagMutability: 'MUTABLE', imageScanningConfiguration: { scanOnPush: false } })
      ]
    })
    const info = await ensureRepository(ecr, { repositoryName: 'team/api', create: true, settings })
    expect(info.created).toBe(false)
    expect(info.registry).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com')
    expect(info.differences).toEqual([
      'image-tag-mutability is MUTABLE, the inputs ask for IMMUTABLE',
      'scan-on-push is false, the inputs ask for true'
    ])
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
  })

  it('reports no differences when the settings match', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [repo()] })
    expect(
      (await ensureRepository(ecr, { repositoryName: 'team/api', create: true, settings }))
        .differences
    ).toEqual([])
  })

  it('compares the lifecycle policy of an existing repository without applying it', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [repo()] })
    ecrMock.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'team', Value: 'shop' }] })
    ecrMock
      .on(GetLifecyclePolicyCommand)
      .rejects(new LifecyclePolicyNotFoundException({ message: 'none', $metadata: {} }))
    const info = await ensureRepository(ecr, {
      repositoryName: 'team/api',
      create: true,
      settings,
      lifecyclePolicy: keepLastPolicy(10)
    })
    expect(info.differences).toEqual(['it has no lifecycle policy, the inputs give one'])
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0)
  })

  it('creates a missing repository with the requested settings and lifecycle policy', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound())
    ecrMock.on(CreateRepositoryCommand).resolves({ repository: repo() })
    ecrMock.on(PutLifecyclePolicyCommand).resolves({})
    const info = await ensureRepository(ecr, {
      repositoryName: 'team/api',
      registryId: '123456789012',
      create: true,
      settings: {
        imageTagMutability: 'IMMUTABLE',
        scanOnPush: false,
        encryptionType: 'KMS',
        kmsKey: 'alias/ecr'
      },
      lifecyclePolicy: keepLastPolicy(10)
    })
    expect(info.created).toBe(true)
    const create = ecrMock.commandCalls(CreateRepositoryCommand)[0]?.args[0].input
    expect(create).toMatchObject({
      tags: [{ Key: 'created-by', Value: 'shipline/build-tag-push' }],
      repositoryName: 'team/api',
      registryId: '123456789012',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/ecr' }
    })
    const policy =
      ecrMock.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input.lifecyclePolicyText ?? ''
    expect(JSON.parse(policy)).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: 'Keep the last 10 images',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
          action: { type: 'expire' }
        }
      ]
    })
  })

  it('issue 9 #9: applies the missing lifecycle policy to a repository this action created (its creation tag), never to others', async () => {
    const policyMissing = () =>
      ecrMock
        .on(GetLifecyclePolicyCommand)
        .rejects(new LifecyclePolicyNotFoundException({ message: 'none', $metadata: {} }))
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [repo()] })
    policyMissing()
    ecrMock.on(ListTagsForResourceCommand).resolves({
      tags: [
        { Key: 'team', Value: 'shop' },
        { Key: 'created-by', Value: 'shipline/build-tag-push' }
      ]
    })
    ecrMock.on(PutLifecyclePolicyCommand).resolves({})
    const ours = await ensureRepository(ecr, {
      repositoryName: 'team/api',
      create: true,
      settings,
      lifecyclePolicy: keepLastPolicy(5)
    })
    expect(ours.differences).toEqual([])
    expect(ours.notes).toEqual([
      expect.stringContaining('applied the lifecycle policy that was missing')
    ])
    expect(ecrMock.commandCalls(ListTagsForResourceCommand)[0]?.args[0].input).toEqual({
      resourceArn: 'arn:aws:ecr:us-east-1:123456789012:repository/team/api'
    })
    expect(
      ecrMock.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input.lifecyclePolicyText
    ).toBe(keepLastPolicy(5))

    ecrMock.reset()
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [repo()] })
    policyMissing()
    ecrMock.on(ListTagsForResourceCommand).rejects(
      Object.assign(new Error('not authorized to perform: ecr:ListTagsForResource'), {
        name: 'AccessDeniedException'
      })
    )
    const unknown = await ensureRepository(ecr, {
      repositoryName: 'team/api',
      create: true,
      settings,
      lifecyclePolicy: keepLastPolicy(5)
    })
    expect(unknown.differences).toEqual(['it has no lifecycle policy, the inputs give one'])
    expect(unknown.notes[0]).toContain('grant ecr:ListTagsForResource')
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0)
  })

  it('when PutLifecyclePolicy fails after CreateRepository, the error says a re-run applies it', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound())
    ecrMock.on(CreateRepositoryCommand).resolves({ repository: repo() })
    ecrMock.on(PutLifecyclePolicyCommand).rejects(
      Object.assign(new Error('not authorized to perform: ecr:PutLifecyclePolicy'), {
        name: 'AccessDeniedException'
      })
    )
    await expect(
      ensureRepository(ecr, {
        repositoryName: 'team/api',
        create: true,
        settings,
        lifecyclePolicy: keepLastPolicy(5)
      })
    ).rejects.toThrow(
      /^Created ECR repository "team\/api", but could not apply its lifecycle policy: .*ecr:PutLifecyclePolicy.*re-run applies the missing policy\.$/s
    )
  })

  it('fails naming the repository and the fix when it is missing and creation is off', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound())
    await expect(
      ensureRepository(ecr, { repositoryName: 'team/api', create: false, settings })
    ).rejects.toThrow(
      /ECR repository "team\/api" does not exist and "create-repository" is false\. Create it first \(aws ecr create-repository --repository-name team\/api/
    )
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
  })

  it('uses the repository another job created concurrently', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(notFound())
      .resolves({ repositories: [repo()] })
    ecrMock
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }))
    const info = await ensureRepository(ecr, { repositoryName: 'team/api', create: true, settings })
    expect(info.created).toBe(false)
    expect(info.repositoryUri).toMatch(/team\/api$/)
  })

  it('names the IAM action on AccessDenied', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:sts::123456789012:assumed-role/ci/s is not authorized to perform: ecr:DescribeRepositories'
          ),
          { name: 'AccessDeniedException' }
        )
      )
    await expect(
      ensureRepository(ecr, { repositoryName: 'team/api', create: true, settings })
    ).rejects.toThrow(/"ecr:DescribeRepositories"/)
  })
})

describe('ensureRepository: the KMS key of an existing repository', () => {
  const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
  const kmsRepo = () => repo({ encryptionConfiguration: { encryptionType: 'KMS', kmsKey: KEY } })
  const kmsSettings = (kmsKey: string): RepositorySettings => ({
    ...settings,
    encryptionType: 'KMS',
    kmsKey
  })
  const ensure = (kmsKey: string, resolveKmsKey?: (id: string) => Promise<string | undefined>) => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [kmsRepo()] })
    return ensureRepository(ecr, {
      repositoryName: 'team/api',
      create: true,
      settings: kmsSettings(kmsKey),
      resolveKmsKey
    })
  }

  it('compares a key ID or key ARN directly', async () => {
    expect((await ensure('1234abcd-12ab-34cd-56ef-1234567890ab')).differences).toEqual([])
    expect((await ensure(KEY)).differences).toEqual([])
    expect((await ensure('ffffffff-12ab-34cd-56ef-1234567890ab')).differences).toEqual([
      `the KMS key is ${KEY}, the inputs ask for ffffffff-12ab-34cd-56ef-1234567890ab`
    ])
  })

  it('resolves an alias with kms:DescribeKey: the same key is no difference, another key is', async () => {
    const asked: string[] = []
    const same = await ensure('alias/shop', (id) => {
      asked.push(id)
      return Promise.resolve(KEY)
    })
    expect(asked).toEqual(['alias/shop'])
    expect(same.differences).toEqual([])
    expect(same.notes).toEqual([])
    const other = await ensure('alias/other', () =>
      Promise.resolve(KEY.replace('1234abcd', 'ffffffff'))
    )
    expect(other.differences).toEqual([
      `the KMS key is ${KEY}, the inputs ask for alias/other (${KEY.replace('1234abcd', 'ffffffff')})`
    ])
  })

  it('says the comparison was skipped when the alias cannot be resolved, instead of reporting a difference', async () => {
    const denied = await ensure('alias/shop', () =>
      Promise.reject(
        Object.assign(new Error('not authorized to perform: kms:DescribeKey'), {
          name: 'AccessDeniedException'
        })
      )
    )
    expect(denied.differences).toEqual([])
    expect(denied.notes).toEqual([
      `the KMS key comparison was skipped: ECR reports the key ARN ${KEY}, and "alias/shop" could not be resolved (AccessDeniedException: grant kms:DescribeKey on the key to compare)`
    ])
    const none = await ensure('arn:aws:kms:us-east-1:123456789012:alias/shop')
    expect(none.differences).toEqual([])
    expect(none.notes[0]).toContain('the KMS key comparison was skipped')
  })
})

describe('repository helpers', () => {
  it.each([
    ['team/api', true],
    ['api', true],
    ['Team/api', false],
    ['a', false],
    ['api:1', false],
    ['team//api', false]
  ])('isValidRepositoryName(%s) = %s', (name, valid) => {
    expect(isValidRepositoryName(name)).toBe(valid)
  })

  it('compares policies as JSON', () => {
    expect(samePolicy('{"rules":[{"a":1,"b":2}]}', '{ "rules": [ { "b": 2, "a": 1 } ] }')).toBe(
      true
    )
    expect(samePolicy('{"rules":[{"a":1}]}', '{"rules":[{"a":2}]}')).toBe(false)
  })
})
