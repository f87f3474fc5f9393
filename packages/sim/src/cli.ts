/**
 * `npm run sim [-- --env-file PATH] [--speed N] [--no-registry] [--port N] [--credential-ttl SECONDS]`
 *
 * tsx hoists node's own flags (`--env-file` is one) from anywhere on its command line, so the script
 * runs `tsx packages/sim/src/cli.ts --`: everything after that `--` reaches this parser.
 *
 * Starts the local stack, prints ONE JSON line with the endpoints, optionally writes the environment
 * (KEY=VALUE lines) that points the AWS SDK, @actions/core and every Shipline action at it, and shuts
 * down cleanly (registry process included) on SIGINT/SIGTERM.
 */
import { writeFileSync } from 'node:fs'
import { startStack, type StackOptions } from './stack.js'

interface CliArgs extends StackOptions {
  envFile?: string
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    const num = (): number => {
      const v = Number(value())
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`)
      return v
    }
    if (a === '--') continue
    if (a === '--env-file') args.envFile = value()
    else if (a.startsWith('--env-file=')) args.envFile = a.slice('--env-file='.length)
    else if (a === '--speed') args.speed = num()
    else if (a === '--port') args.port = num()
    else if (a === '--credential-ttl') args.credentialTtlSeconds = num()
    else if (a === '--no-registry') args.registry = false
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run sim -- [--env-file PATH] [--speed N] [--no-registry] [--port N] [--credential-ttl SECONDS]'
      )
      process.exit(0)
    } else throw new Error(`unknown argument ${a} (try --help)`)
  }
  return args
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const stack = await startStack(args)
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    console.error(`shipline-sim: ${signal}, shutting down`)
    stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      }
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  if (args.envFile) {
    const lines = Object.entries(stack.env).map(([k, v]) => `${k}=${v}`)
    writeFileSync(args.envFile, `${lines.join('\n')}\n`, { mode: 0o600 })
  }
  console.log(
    JSON.stringify({
      endpoint: stack.endpoint,
      registryHost: stack.registryHost,
      region: stack.region,
      accountId: stack.accountId,
      roleArn: stack.roleArn,
      adminUrl: `${stack.endpoint}/_sim`,
      oidcIssuer: stack.oidc.issuer,
      oidcDiscoveryUrl: stack.oidc.discoveryUrl,
      envFile: args.envFile,
      pid: process.pid,
      registryPid: stack.registryPid
    })
  )
}

main().catch((err: unknown) => {
  console.error(`shipline-sim: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
