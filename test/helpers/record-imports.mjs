// `node --import <this file>`: appends the URL of every ES module the process loads to the file named by
// SHIPLINE_RECORD_IMPORTS, one per line. Tests use it to see which dist/_shared chunks an action run loaded.
import { register } from 'node:module'

const file = process.env['SHIPLINE_RECORD_IMPORTS']
if (file) register('./record-imports-hooks.mjs', import.meta.url, { data: { file } })
