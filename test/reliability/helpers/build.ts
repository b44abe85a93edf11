// Global set-up of the reliability project: compile the server once (`npm run build`), as `npm start` does, so the
// crash and restart tests run the very server a deployment runs.
import { execSync } from 'node:child_process';
import { packageRoot } from '../../../server/paths.js';

export default function setup(): void {
  execSync('npm run build', { cwd: packageRoot, stdio: 'inherit' });
}
