/**
 * Pushes a tiny synthetic image (one config blob, one layer blob, an OCI manifest, optionally wrapped in an OCI
 * index) straight through the OCI distribution API: no Docker engine, no pulled base image.
 */
import { createHash, randomBytes } from 'node:crypto'

const sha = (body: Buffer): string => `sha256:${createHash('sha256').update(body).digest('hex')}`

async function pushBlob(
  base: string,
  repo: string,
  body: Buffer,
  headers: Record<string, string>
): Promise<string> {
  const digest = sha(body)
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers })
  await start.arrayBuffer()
  if (start.status !== 202) throw new Error(`blob upload start → ${start.status}`)
  const location = new URL(start.headers.get('location') as string, base)
  location.searchParams.set('digest', digest)
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body
  })
  await put.arrayBuffer()
  if (put.status !== 201) throw new Error(`blob upload → ${put.status}`)
  return digest
}

/** Pushes `repo:tag` to the registry at `base` (http://host:port); returns the digest the tag resolves to. */
export async function pushSyntheticImage(
  base: string,
  repo: string,
  tag: string,
  options: { authorization?: string; index?: boolean } = {}
): Promise<string> {
  const headers: Record<string, string> = options.authorization
    ? { authorization: options.authorization }
    : {}
  const layer = randomBytes(64)
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { User: '1000' },
      rootfs: { type: 'layers', diff_ids: [sha(layer)] }
    })
  )
  const configDigest = await pushBlob(base, repo, config, headers)
  const layerDigest = await pushBlob(base, repo, layer, headers)
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: layerDigest,
          size: layer.length
        }
      ]
    })
  )
  const put = async (ref: string, body: Buffer, mediaType: string): Promise<string> => {
    const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': mediaType },
      body
    })
    const text = await res.text()
    if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${ref} → ${res.status}: ${text}`)
    return sha(body)
  }
  if (!options.index) return put(tag, manifest, 'application/vnd.oci.image.manifest.v1+json')
  const manifestDigest = await put(
    sha(manifest),
    manifest,
    'application/vnd.oci.image.manifest.v1+json'
  )
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' }
        }
      ]
    })
  )
  return put(tag, index, 'application/vnd.oci.image.index.v1+json')
}
