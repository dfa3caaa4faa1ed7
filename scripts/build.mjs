// Compiles src/ to dist/ with swc (well under a second) and copies the assets the service reads at run time.
// Type checking is separate: `npm run typecheck`.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(join(root, 'node_modules/.bin/swc'), ['src', '-d', 'dist', '--strip-leading-paths', '--quiet', '--ignore', '**/*.spec.ts'], {
  cwd: root,
  stdio: 'inherit',
});

const assetPattern = /\.(ya?ml|html|css|svg)$/;
function copyAssets(dir) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) copyAssets(rel);
    // Files under an assets/ folder are served to browsers as they are (the console's script and styles).
    else if (assetPattern.test(name) || rel.split('/').includes('assets')) cpSync(join(root, rel), join(root, 'dist', rel.slice('src/'.length)));
  }
}
copyAssets('src');
