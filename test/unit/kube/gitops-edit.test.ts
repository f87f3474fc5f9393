import { describe, expect, it } from '@jest/globals'
import { editGitopsFile, parseImageSpec } from '@shipline/kube'

const D = `sha256:${'c'.repeat(64)}`
const images = (...refs: string[]) => refs.map(parseImageSpec)

describe('GitOps edits keep the file byte for byte except the values', () => {
  it('plain manifests: the image of a container, comments and layout untouched', () => {
    const text = `# web deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the shop
spec:
  template:
    spec:
      containers:
      - name: web
        image: "127.0.0.1:5000/app:1"  # pinned by CI
      - name: proxy
        image: envoyproxy/envoy:v1
`
    const used = new Set<string>()
    const out = editGitopsFile('web.yaml', text, images(`127.0.0.1:5000/app@${D}`), [], used)
    expect(out.text).toBe(text.replace('"127.0.0.1:5000/app:1"', `"127.0.0.1:5000/app@${D}"`))
    expect(out.changes).toEqual([
      {
        file: 'web.yaml',
        where: 'Deployment/web containers[web]',
        from: '127.0.0.1:5000/app:1',
        to: `127.0.0.1:5000/app@${D}`
      }
    ])
    expect([...used]).toEqual([`127.0.0.1:5000/app@${D}`])
  })

  it('kustomization images: newTag quoted, digest added under the entry', () => {
    const text = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  # the app
  - name: app
    newName: 127.0.0.1:5000/app
    newTag: "1"
  - name: redis
    newTag: "7"
`
    const out = editGitopsFile(
      'overlays/prod/kustomization.yaml',
      text,
      images(`127.0.0.1:5000/app:1234567@${D}`),
      [],
      new Set()
    )
    expect(out.text).toBe(text.replace('newTag: "1"', `newTag: "1234567"\n    digest: "${D}"`))
  })

  it('Helm values: repository matched, numeric-looking tags written as quoted strings', () => {
    const text = `replicaCount: 2
image:
  repository: 127.0.0.1:5000/app   # set by CI
  tag: 1.0
  pullPolicy: IfNotPresent
other:
  image:
    repository: 127.0.0.1:5000/other
    tag: "3"
`
    const out = editGitopsFile(
      'values.yaml',
      text,
      images('127.0.0.1:5000/app:1e5'),
      ['image', 'other.image'],
      new Set()
    )
    expect(out.text).toBe(text.replace('tag: 1.0', 'tag: "1e5"'))
  })

  it('marker comments work in files of any shape, including field markers', () => {
    const text = `app:
  ref: 127.0.0.1:5000/app:1 # shipline-image: 127.0.0.1:5000/app
  onlyTag: '1' # shipline-image: 127.0.0.1:5000/app:tag
  onlyDigest: "" # shipline-image: 127.0.0.1:5000/app:digest
`
    const out = editGitopsFile('x.yaml', text, images(`127.0.0.1:5000/app:2@${D}`), [], new Set())
    expect(out.text).toBe(`app:
  ref: 127.0.0.1:5000/app:2@${D} # shipline-image: 127.0.0.1:5000/app
  onlyTag: '2' # shipline-image: 127.0.0.1:5000/app:tag
  onlyDigest: "${D}" # shipline-image: 127.0.0.1:5000/app:digest
`)
  })

  it('is a no-op when the file already has the image', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: r.io/a:2}]\n'
    const used = new Set<string>()
    const out = editGitopsFile('p.yaml', text, images('r.io/a:2'), [], used)
    expect(out.text).toBe(text)
    expect(out.changes).toEqual([])
    expect(used.size).toBe(1)
  })
})
