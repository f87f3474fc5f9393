/**
 * OCI platforms (`os/arch[/variant]`) compared the way containerd normalises them: lower case, architecture
 * aliases (`aarch64` → `arm64`, `x86_64` → `amd64`), and the default variants that indexes usually leave out
 * (`arm64/v8`, `amd64/v1`) dropped, so `linux/arm64/v8` and an index entry `linux/arm64` are the same platform.
 */

const ARCH_ALIASES: Record<string, [string, string?]> = {
  aarch64: ['arm64'],
  x86_64: ['amd64'],
  'x86-64': ['amd64'],
  i386: ['386'],
  i686: ['386'],
  x86: ['386'],
  armhf: ['arm', 'v7'],
  armel: ['arm', 'v6']
}

/** The variant each architecture has when none is written. */
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', amd64: 'v1', arm: 'v7' }

export interface Platform {
  os: string
  architecture: string
  /** '' when it is the architecture's default (arm64/v8, amd64/v1, arm/v7) or absent. */
  variant: string
}

/** Parses and normalises `os/arch[/variant]`; `variant` is '' for the architecture's default variant. */
export function normalizePlatform(platform: string): Platform {
  const [os = '', rawArch = '', rawVariant = ''] = platform.trim().toLowerCase().split('/')
  const alias = ARCH_ALIASES[rawArch]
  const architecture = alias?.[0] ?? rawArch
  let variant = rawVariant || alias?.[1] || ''
  if (variant === '8' && architecture === 'arm64') variant = 'v8'
  if (/^[5-7]$/.test(variant) && architecture === 'arm') variant = `v${variant}`
  if (variant === DEFAULT_VARIANT[architecture]) variant = ''
  return { os: os === 'macos' ? 'darwin' : os, architecture, variant }
}

/** `linux/arm64/v8` → `linux/arm64`; `linux/arm` → `linux/arm` (the default variant is left out). */
export function formatPlatform(platform: string): string {
  const p = normalizePlatform(platform)
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/**
 * Whether an image for `actual` (an index entry, the runner's platform) is what `wanted` asks for. A `wanted`
 * without a variant accepts every variant of its os/arch (`linux/arm64` matches `linux/arm64/v8`, `linux/arm`
 * matches `linux/arm/v6`); with a variant, the normalised variants must be equal (`linux/arm64/v8` matches
 * `linux/arm64` and `linux/arm64/v8`, not `linux/arm64/v9`).
 */
export function platformMatches(wanted: string, actual: string | undefined): boolean {
  if (!actual) return false
  const w = normalizePlatform(wanted)
  const a = normalizePlatform(actual)
  if (w.os !== a.os || w.architecture !== a.architecture) return false
  const parts = wanted.trim().toLowerCase().split('/')
  const explicitVariant = parts.length > 2 || ARCH_ALIASES[parts[1] ?? '']?.[1] !== undefined
  return !explicitVariant || w.variant === a.variant
}
