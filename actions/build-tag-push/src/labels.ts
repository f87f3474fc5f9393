import type { Exec } from '@shipline/action-kit'

/**
 * The image's creation time: the COMMIT time (so that rebuilding a commit gives the same label), read with
 * `git log -1 --format=%cI <sha>` in the workspace; else SOURCE_DATE_EPOCH; else undefined (label omitted).
 */
export async function commitTime(
  exec: Exec,
  workspace: string,
  sha: string,
  env: NodeJS.ProcessEnv
): Promise<{ created: string | undefined; source: 'git' | 'SOURCE_DATE_EPOCH' | 'none' }> {
  try {
    const result = await exec('git', ['log', '-1', '--format=%cI', sha, '--'], {
      cwd: workspace,
      silent: true
    })
    const text = result.stdout.trim()
    if (result.exitCode === 0 && text && !Number.isNaN(Date.parse(text))) {
      return { created: new Date(text).toISOString().replace(/\.000Z$/, 'Z'), source: 'git' }
    }
  } catch {
    // not a git checkout, or git missing: fall through
  }
  const epoch = env['SOURCE_DATE_EPOCH']
  if (epoch && /^\d+$/.test(epoch)) {
    return {
      created: new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      source: 'SOURCE_DATE_EPOCH'
    }
  }
  return { created: undefined, source: 'none' }
}

/** The commit the workspace is checked out at, or undefined when it is not a git checkout. */
export async function workspaceHead(exec: Exec, workspace: string): Promise<string | undefined> {
  try {
    const result = await exec('git', ['rev-parse', 'HEAD'], { cwd: workspace, silent: true })
    const sha = result.stdout.trim()
    return result.exitCode === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined
  } catch {
    return undefined
  }
}

export interface OciLabelContext {
  serverUrl: string
  repository: string
  revision: string
  version: string
  created: string | undefined
}

/** OCI annotations as labels; user labels win over ours. */
export function ociLabels(
  context: OciLabelContext,
  userLabels: Record<string, string>
): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.revision': context.revision,
    'org.opencontainers.image.version': context.version
  }
  if (context.repository) {
    labels['org.opencontainers.image.source'] =
      `${context.serverUrl.replace(/\/+$/, '')}/${context.repository}`
  }
  if (context.created) labels['org.opencontainers.image.created'] = context.created
  return { ...labels, ...userLabels }
}
