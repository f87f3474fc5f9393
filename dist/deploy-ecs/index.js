import { run } from '../_shared/index.js'
await run('deploy-ecs')
