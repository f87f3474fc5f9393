import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Run {
  code: number | null
  output: string
}

/** Runs docker asynchronously (the simulator answers the daemon from this process's event loop). */
export function docker(
  args: string[],
  options: { input?: string; config?: string } = {}
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      DOCKER_BUILDKIT: '0',
      ...(options.config ? { DOCKER_CONFIG: options.config } : {})
    }
    const child = spawn('docker', args, { env })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
    child.stdin.end(options.input ?? '')
  })
}

export async function dockerOk(
  args: string[],
  options: { input?: string; config?: string } = {}
): Promise<string> {
  const run = await docker(args, options)
  if (run.code !== 0)
    throw new Error(`docker ${args.join(' ')} exited ${String(run.code)}: ${run.output}`)
  return run.output
}

/** Builds a tiny FROM-scratch image holding busybox, with the given labels. */
export async function buildImage(tag: string, labels: Record<string, string> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-ctx-'))
  try {
    copyFileSync('/bin/busybox', join(dir, 'busybox'))
    const labelLines = Object.entries(labels).map(([k, v]) => `LABEL ${k}="${v}"\n`)
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM scratch\nCOPY busybox /bin/busybox\n${labelLines.join('')}CMD ["/bin/busybox", "true"]\n`
    )
    await dockerOk(['build', '-q', '-t', tag, dir])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function dockerConfigDir(): string {
  return mkdtempSync(join(tmpdir(), 'sim-docker-config-'))
}

/** `docker login` with an ECR authorization token (base64 `AWS:<password>`), password on stdin. */
export async function loginWithToken(
  registryHost: string,
  authorizationToken: string,
  config: string
): Promise<void> {
  const decoded = Buffer.from(authorizationToken, 'base64').toString('utf8')
  const password = decoded.slice(decoded.indexOf(':') + 1)
  await dockerOk(['login', registryHost, '-u', 'AWS', '--password-stdin'], {
    input: password,
    config
  })
}
