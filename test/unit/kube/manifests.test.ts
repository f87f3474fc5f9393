import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  applyOrder,
  conflictManagers,
  expandManifestPaths,
  globToRegExp,
  parseManifestText
} from '@shipline/kube'

describe('manifests', () => {
  it('parses multi-document YAML, flattens List and skips empty documents', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
  - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: shop}}
`
    const objects = parseManifestText('manifests', 'k8s/all.yaml', text)
    expect(objects.map((o) => `${o.object.kind}/${o.object.metadata.name}@${o.source}`)).toEqual([
      'Namespace/shop@k8s/all.yaml#1',
      'ConfigMap/a@k8s/all.yaml#3',
      'Service/b@k8s/all.yaml#3'
    ])
  })

  it('names the file, the document and the problem', () => {
    expect(() =>
      parseManifestText('manifests', 'x.yaml', 'kind: Service\nmetadata: {name: a}\n')
    ).toThrow(/input "manifests": "x.yaml" document 1 has no apiVersion/)
    expect(() =>
      parseManifestText(
        'manifests',
        'x.yaml',
        'apiVersion: v1\nkind: Pod\nmetadata: {generateName: a-}\n'
      )
    ).toThrow(/generateName cannot be applied/)
    expect(() => parseManifestText('manifests', 'x.yaml', 'a: [\n')).toThrow(/invalid YAML at line/)
  })

  it('applies Namespaces, then CRDs, then the rest in manifest order', () => {
    const kinds = [
      'Deployment',
      'CustomResourceDefinition',
      'Service',
      'Namespace',
      'Widget',
      'Namespace'
    ]
    const items = kinds.map((kind, i) => ({ object: { kind }, i }))
    expect(applyOrder(items).map((x) => `${x.object.kind}${x.i}`)).toEqual([
      'Namespace3',
      'Namespace5',
      'CustomResourceDefinition1',
      'Deployment0',
      'Service2',
      'Widget4'
    ])
  })

  it('converts globs', () => {
    expect(globToRegExp('k8s/**/*.yaml').test('k8s/a/b/c.yaml')).toBe(true)
    expect(globToRegExp('k8s/**/*.yaml').test('k8s/c.yaml')).toBe(true)
    expect(globToRegExp('k8s/*.yaml').test('k8s/a/c.yaml')).toBe(false)
    expect(globToRegExp('k8s/*.{yaml,yml}').test('k8s/c.yml')).toBe(true)
  })

  it('expands files, folders and globs inside the workspace only', () => {
    const ws = realpathSync(mkdtempSync(join(tmpdir(), 'eks-deploy-ws-')))
    mkdirSync(join(ws, 'k8s/base'), { recursive: true })
    writeFileSync(join(ws, 'k8s/base/a.yaml'), '')
    writeFileSync(join(ws, 'k8s/b.yml'), '')
    writeFileSync(join(ws, 'k8s/notes.txt'), '')
    const env = { GITHUB_WORKSPACE: ws }
    expect(expandManifestPaths('manifests', ['k8s'], env)).toEqual([
      join(ws, 'k8s/b.yml'),
      join(ws, 'k8s/base/a.yaml')
    ])
    expect(expandManifestPaths('manifests', ['k8s/**/*.yaml', 'k8s/base/a.yaml'], env)).toEqual([
      join(ws, 'k8s/base/a.yaml')
    ])
    expect(() => expandManifestPaths('manifests', ['k8s/*.json'], env)).toThrow(/matched no .yaml/)
    expect(() => expandManifestPaths('manifests', ['../*.yaml'], env)).toThrow(/may not contain/)
    expect(() => expandManifestPaths('manifests', ['/etc/hostname'], env)).toThrow(
      /outside the workspace/
    )
  })

  it('reads the other field managers out of an SSA conflict', () => {
    expect(
      conflictManagers(
        'Apply failed with 2 conflicts: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas\nconflict with "helm": .spec.template'
      )
    ).toEqual(['kubectl-client-side-apply', 'helm'])
  })
})
