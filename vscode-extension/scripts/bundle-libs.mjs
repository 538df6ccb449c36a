// Opt-in: fills bundled/libs with hplint (this repository) and its server
// dependencies, `pip install --target`, so that `hplint.importStrategy:
// "useBundled"` needs only a Python. libcst (a hplint dependency) has a
// compiled extension: the .vsix built after this runs only on the platform and
// Python version that ran it (a per-platform .vsix: `vsce package --target`).
// PYTHON selects the interpreter (default python3).
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const target = join(here, '..', 'bundled', 'libs');
const python = process.env.PYTHON || 'python3';
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
console.log(`${python} -m pip install --target ${target} ${repo}[server]`);
execFileSync(python, ['-m', 'pip', 'install', '--no-compile', '--target', target, `${repo}[server]`], { stdio: 'inherit' });
