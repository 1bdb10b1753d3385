// `npm run tauri -- <args>`: the Tauri CLI (from @tauri-apps/cli, no cargo install) pointed at ../src-tauri.
// The CLI looks for tauri.conf.json below the current directory; the shell lives beside ui/, so say where it is.
// `beforeDevCommand`/`beforeBuildCommand` then run here, in ui/.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync('tauri', process.argv.slice(2), {
  cwd: uiDir,
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: {
    ...process.env,
    TAURI_APP_PATH: resolve(uiDir, '../src-tauri'),
    TAURI_FRONTEND_PATH: uiDir,
  },
});
process.exit(result.status ?? 1);
