// tsc compiles TypeScript only; the Lua scripts that sit beside the Redis store are copied
// into dist/ next to the compiled files that read them.
const { cpSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

function copyLua(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) copyLua(file);
    else if (name.endsWith('.lua')) cpSync(file, path.join('dist', file));
  }
}
copyLua('src');
