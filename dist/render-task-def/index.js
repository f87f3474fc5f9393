import { run } from '../_shared/index.js'
await run('render-task-def')
