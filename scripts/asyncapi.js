// Writes docs/asyncapi.yaml, the AsyncAPI document of every topic, from the compiled contracts (libs/contracts).
//   npm run asyncapi        (builds first; or `node scripts/asyncapi.js` after `npm run -s build`)
// The unit tests fail while the committed file differs from what this writes.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const contracts = path.join(root, 'dist', 'libs', 'contracts', 'src', 'index.js');
if (!fs.existsSync(contracts)) {
  console.error('asyncapi: dist/libs/contracts is missing: run `npm run -s build` first (or `npm run asyncapi`)');
  process.exit(1);
}
const { asyncApiYaml } = require(contracts);
const target = path.join(root, 'docs', 'asyncapi.yaml');
const yaml = asyncApiYaml();
const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
fs.writeFileSync(target, yaml);
console.log(`asyncapi: ${path.relative(root, target)} ${before === yaml ? 'unchanged' : 'written'}`);
