/** Running the chosen interpreter: the import check and `hplint rule`. Does not import `vscode`. */

import { execFile } from 'child_process';

export interface ExecResult {
    ok: boolean;
    stdout: string;
    stderr: string;
    /** Why it failed: exit code, signal, spawn error, timeout. */
    reason?: string;
}

export function runPython(python: string, args: string[], options: { timeoutMs: number; cwd?: string }): Promise<ExecResult> {
    return new Promise((resolve) => {
        try {
            execFile(
                python,
                args,
                { timeout: options.timeoutMs, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
                (error, stdout, stderr) => {
                    if (!error) {
                        resolve({ ok: true, stdout, stderr });
                        return;
                    }
                    // `code` is a string for spawn errors (ENOENT) and the exit status (a number) otherwise.
                    const err = error as Omit<NodeJS.ErrnoException, 'code'> & { killed?: boolean; signal?: string | null; code?: unknown };
                    let reason: string;
                    if (err.code === 'ENOENT') {
                        reason = `${python} was not found`;
                    } else if (err.killed || err.signal) {
                        reason = `timed out after ${options.timeoutMs} ms`;
                    } else if (typeof err.code === 'number') {
                        reason = `exit code ${err.code}`;
                    } else {
                        reason = err.message;
                    }
                    resolve({ ok: false, stdout: stdout ?? '', stderr: stderr ?? '', reason });
                },
            );
        } catch (error) {
            resolve({ ok: false, stdout: '', stderr: '', reason: error instanceof Error ? error.message : String(error) });
        }
    });
}

export const IMPORT_CHECK_ARGS = ['-c', 'import hplint'];

export function checkHplintImportable(python: string, options: { timeoutMs?: number; cwd?: string } = {}): Promise<ExecResult> {
    return runPython(python, IMPORT_CHECK_ARGS, { timeoutMs: options.timeoutMs ?? 20000, cwd: options.cwd });
}

export function serverArgs(): string[] {
    return ['-m', 'hplint', 'server'];
}

export function ruleArgs(code: string): string[] {
    return ['-m', 'hplint', 'rule', code];
}
