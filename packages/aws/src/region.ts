import { InputError } from '@shipline/action-kit'

/** AWS region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`. */
export const REGION_PATTERN = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/

/**
 * The region every client uses: the `aws-region` input, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
 * Errors name the `aws-region` input even when the bad value came from the environment.
 */
export function resolveRegion(
  input: string | undefined,
  env: NodeJS.ProcessEnv = process.env
): string {
  const candidates: [string, string | undefined][] = [
    ['input "aws-region"', input],
    ['AWS_REGION', env['AWS_REGION']],
    ['AWS_DEFAULT_REGION', env['AWS_DEFAULT_REGION']]
  ]
  for (const [source, raw] of candidates) {
    const value = raw?.trim()
    if (!value) continue
    validateRegion(value, source)
    return value
  }
  throw new InputError(
    'aws-region',
    'no AWS region is set',
    'Set "aws-region" in the step\'s with: block (for example us-east-1), or set AWS_REGION in the job environment.'
  )
}

export function validateRegion(value: string, source = 'input "aws-region"'): void {
  if (REGION_PATTERN.test(value)) return
  const fromEnv = source === 'input "aws-region"' ? '' : ` (from ${source})`
  let hint = 'Use a region code such as us-east-1 or eu-west-2.'
  if (/^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}[a-z]$/.test(value)) {
    hint = `"${value}" is an availability zone; use its region "${value.slice(0, -1)}".`
  } else if (REGION_PATTERN.test(value.toLowerCase())) {
    hint = `Region codes are lower-case: use "${value.toLowerCase()}".`
  }
  throw new InputError('aws-region', `"${value}"${fromEnv} is not an AWS region code`, hint)
}
