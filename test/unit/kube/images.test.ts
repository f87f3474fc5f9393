import { describe, expect, it } from '@jest/globals'
import { imageSlots, parseImageSpec, repositoryKey, substituteImages } from '@shipline/kube'
import { parseImageReference } from '@shipline/oci'

const D1 = `sha256:${'a'.repeat(64)}`
const D2 = `sha256:${'b'.repeat(64)}`

function deployment(images: { containers?: string[]; init?: string[]; ephemeral?: string[] }) {
  const list = (xs: string[] | undefined, prefix: string) =>
    (xs ?? []).map((image, i) => ({ name: `${prefix}${i}`, image }))
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        spec: {
          containers: list(images.containers, 'c'),
          initContainers: list(images.init, 'i'),
          ephemeralContainers: list(images.ephemeral, 'e')
        }
      }
    }
  }
}

function run(object: Record<string, unknown>, images: string[]) {
  return substituteImages([{ object, id: 'x' }], images.map(parseImageSpec))
}

describe('image substitution', () => {
  it('substitutes a registry with a port without touching other images of that registry', () => {
    const object = deployment({ containers: ['127.0.0.1:5000/app:1', '127.0.0.1:5000/sidecar:7'] })
    const result = run(object, [`127.0.0.1:5000/app@${D1}`])
    const containers = object.spec.template.spec.containers
    expect(containers[0]?.image).toBe(`127.0.0.1:5000/app@${D1}`)
    expect(containers[1]?.image).toBe('127.0.0.1:5000/sidecar:7')
    expect(result.substitutions).toEqual([
      {
        object: 'x',
        container: 'containers[c0]',
        from: '127.0.0.1:5000/app:1',
        to: `127.0.0.1:5000/app@${D1}`
      }
    ])
    expect(result.unmatched).toEqual([])
  })

  it('replaces a manifest image pinned by digest, and keeps tag+digest of the new reference', () => {
    const object = deployment({ containers: [`reg.example.com/team/api@${D2}`] })
    run(object, [`reg.example.com/team/api:v2@${D1}`])
    expect(object.spec.template.spec.containers[0]?.image).toBe(`reg.example.com/team/api:v2@${D1}`)
  })

  it('treats docker.io short names, library/ and index.docker.io as the same repository', () => {
    expect(repositoryKey(parseImageReference('nginx'))).toBe('docker.io/library/nginx')
    expect(repositoryKey(parseImageReference('docker.io/library/nginx:1'))).toBe(
      'docker.io/library/nginx'
    )
    expect(repositoryKey(parseImageReference('index.docker.io/library/nginx'))).toBe(
      'docker.io/library/nginx'
    )
    const object = deployment({ containers: ['nginx:1.25', 'team/nginx:1'] })
    run(object, ['docker.io/library/nginx:1.27'])
    expect(object.spec.template.spec.containers.map((c) => c.image)).toEqual([
      'docker.io/library/nginx:1.27',
      'team/nginx:1'
    ])
  })

  it('does not match a repository that only shares a prefix', () => {
    const object = deployment({ containers: ['reg.io/app-worker:1', 'reg.io/app/sub:1'] })
    const result = run(object, ['reg.io/app:2'])
    expect(result.substitutions).toEqual([])
    expect(result.unmatched).toEqual(['reg.io/app:2'])
  })

  it('covers init and ephemeral containers', () => {
    const object = deployment({ init: ['r.io/migrate:1'], ephemeral: ['r.io/debug:1'] })
    run(object, ['r.io/migrate:2', 'r.io/debug:2'])
    expect(object.spec.template.spec.initContainers[0]?.image).toBe('r.io/migrate:2')
    expect(object.spec.template.spec.ephemeralContainers[0]?.image).toBe('r.io/debug:2')
  })

  it('finds the containers of CronJobs, Jobs, Pods, StatefulSets and DaemonSets', () => {
    const podSpec = { containers: [{ name: 'a', image: 'r.io/a:1' }] }
    const cron = {
      kind: 'CronJob',
      spec: { jobTemplate: { spec: { template: { spec: podSpec } } } }
    }
    expect(imageSlots(cron).map((s) => s.path.join('.'))).toEqual([
      'spec.jobTemplate.spec.template.spec.containers.0.image'
    ])
    expect(imageSlots({ kind: 'Pod', spec: podSpec })[0]?.path.join('.')).toBe(
      'spec.containers.0.image'
    )
    for (const kind of ['Job', 'StatefulSet', 'DaemonSet']) {
      expect(imageSlots({ kind, spec: { template: { spec: podSpec } } })).toHaveLength(1)
    }
    expect(imageSlots({ kind: 'Service', spec: podSpec })).toEqual([])
  })

  it('refuses references without a tag or digest', () => {
    expect(() => parseImageSpec('r.io/app')).toThrow(/neither a tag nor a digest/)
    expect(() => parseImageSpec('R.io/App:1')).toThrow()
  })
})
