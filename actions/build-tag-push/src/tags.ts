import { InputError } from '@shipline/action-kit'
import { isValidTag } from '@shipline/oci'

/** Throws an InputError for a tag outside the OCI/ECR grammar, or `latest` without allow-latest. */
export function validateTags(input: string, tags: string[], allowLatest: boolean): void {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new InputError(
        input,
        `"${tag}" is not a valid image tag`,
        'Tags are 1-128 characters from letters, digits, _ . - and cannot start with . or -; list tags without the repository (v1.2.3, not api:v1.2.3).'
      )
    }
    if (tag === 'latest' && !allowLatest) {
      throw new InputError(
        input,
        'contains "latest", which is not allowed by default',
        'Deploy by digest or commit tag; set "allow-latest: true" if you really want a moving latest tag.'
      )
    }
  }
}

export interface CommitTags {
  full: string
  short: string
}

/** The commit tags: the full 40-character SHA and its first `length` characters, each with `-<suffix>` if set. */
export function commitTags(sha: string, length: number, suffix?: string): CommitTags {
  const end = suffix ? `-${suffix}` : ''
  return { full: `${sha}${end}`, short: `${sha.slice(0, length)}${end}` }
}

/** The order tags are written in: the full commit tag first, so a half-tagged image never blocks a re-run. */
export function writeOrder(tags: string[], commitTag: string | undefined): string[] {
  return commitTag && tags.includes(commitTag)
    ? [commitTag, ...tags.filter((t) => t !== commitTag)]
    : tags
}

/** Commit tags first (short, full), then extra tags, without duplicates. */
export function allTags(commit: CommitTags | undefined, extra: string[]): string[] {
  const out: string[] = []
  for (const tag of [...(commit ? [commit.short, commit.full] : []), ...extra]) {
    if (!out.includes(tag)) out.push(tag)
  }
  return out
}
