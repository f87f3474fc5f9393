/** The ECR registry cache shorthand (`ecr-cache: true`). */
export function ecrCacheRefs(repositoryUri: string): { from: string; to: string } {
  const ref = `${repositoryUri}:buildcache`
  return {
    from: `type=registry,ref=${ref}`,
    to: `type=registry,ref=${ref},mode=max,image-manifest=true,oci-mediatypes=true`
  }
}
