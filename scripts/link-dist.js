// After tsc: make the compiled libs resolvable as @sync-hub/<lib> (tsc keeps the path aliases as written) and give
// every app the entry point dist/apps/<app>/main.js that the docs and k8s manifests use.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const scope = path.join(dist, 'node_modules', '@sync-hub');
fs.mkdirSync(scope, { recursive: true });
for (const lib of fs.readdirSync(path.join(root, 'libs'))) {
  const link = path.join(scope, lib);
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(path.join('..', '..', 'libs', lib, 'src'), link, 'dir');
}
// Static assets (the dashboard) are copied beside the compiled code that serves them.
const assets = path.join(root, 'apps', 'gateway', 'src', 'dashboard', 'public');
fs.cpSync(assets, path.join(dist, 'apps', 'gateway', 'src', 'dashboard', 'public'), { recursive: true });
for (const app of fs.readdirSync(path.join(root, 'apps'))) {
  const entry = path.join(dist, 'apps', app, 'main.js');
  if (fs.existsSync(path.join(dist, 'apps', app, 'src', 'main.js'))) {
    fs.writeFileSync(entry, "require('./src/main.js');\n");
  }
}
