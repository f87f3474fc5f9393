import { run } from '../_shared/index.js'
await run('build-tag-push')
