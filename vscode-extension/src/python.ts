/** Running the chosen interpreter: the server check, pip and `hplint rule`. Does not import `vscode`. */

import { execFile } from 'child_process';

export interface ExecResult {
    ok: boolean;
    stdout: string;
    stderr: string;
    /** Why it failed: exit code, signal, spawn error, timeout. */
    reason?: string;
}

export interface RunOptions {
    timeoutMs: number;
    cwd?: string;
    /** Extra environment variables (e.g. PYTHONPATH for the bundled hplint). */
    env?: { [name: string]: string };
}

export function runPython(python: string, args: string[], options: RunOptions): Promise<ExecResult> {
    return new Promise((resolve) => {
        try {
            execFile(
                python,
                args,
                {
                    timeout: options.timeoutMs,
                    cwd: options.cwd,
                    env: options.env ? { ...process.env, ...options.env } : undefined,
                    maxBuffer: 16 * 1024 * 1024,
                    windowsHide: true,
                    encoding: 'utf8',
                },
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

/**
 * What the interpreter lacks to run the server, found without starting it: a
 * few lines of Python that import hplint, pygls and lsprotocol and print one
 * `HPLINT_CHECK {json}` line. It works with any hplint version (or none), so
 * a missing `[server]` extra is told apart from a missing hplint and from a
 * crash before the language client ever starts the server.
 */
export const SERVER_CHECK_SCRIPT = [
    'import json, sys',
    'r = {"python": sys.version.split()[0], "executable": sys.executable, "missing": [], "errors": []}',
    'for name in ("hplint", "pygls", "lsprotocol"):',
    '    try:',
    '        m = __import__(name)',
    '        if name == "hplint": r["hplint"] = getattr(m, "__version__", "?"); r["location"] = getattr(m, "__file__", "?")',
    '    except Exception as e:',
    '        r["missing"].append(name); r["errors"].append("%s: %s" % (type(e).__name__, e))',
    'print("HPLINT_CHECK " + json.dumps(r))',
].join('\n');
export const SERVER_CHECK_ARGS = ['-c', SERVER_CHECK_SCRIPT];

export type ServerCheckKind = 'ok' | 'no-python' | 'no-hplint' | 'no-server-deps' | 'failed';

export interface ServerCheck {
    kind: ServerCheckKind;
    /** The modules that did not import (hplint, pygls, lsprotocol). */
    missing: string[];
    /** hplint's version when it imports. */
    version?: string;
    /** Where hplint was imported from. */
    location?: string;
    /** One line for the log: the import errors, or why the check itself failed. */
    detail: string;
}

export function parseServerCheck(result: ExecResult): ServerCheck {
    const line = result.stdout.split(/\r?\n/).find((l) => l.startsWith('HPLINT_CHECK '));
    if (!line) {
        const notFound = /was not found/.test(result.reason ?? '');
        return {
            kind: notFound ? 'no-python' : 'failed',
            missing: [],
            detail: [result.reason, result.stderr.trim()].filter((s) => s).join(': ') || 'no output',
        };
    }
    let data: { missing?: unknown; errors?: unknown; hplint?: unknown; location?: unknown };
    try {
        data = JSON.parse(line.slice('HPLINT_CHECK '.length)) as typeof data;
    } catch {
        return { kind: 'failed', missing: [], detail: `unreadable check output: ${line}` };
    }
    const missing = Array.isArray(data.missing) ? data.missing.filter((m): m is string => typeof m === 'string') : [];
    const errors = Array.isArray(data.errors) ? data.errors.filter((m): m is string => typeof m === 'string') : [];
    const kind: ServerCheckKind = missing.includes('hplint') ? 'no-hplint' : missing.length > 0 ? 'no-server-deps' : 'ok';
    return {
        kind,
        missing,
        version: typeof data.hplint === 'string' ? data.hplint : undefined,
        location: typeof data.location === 'string' ? data.location : undefined,
        detail: errors.join('; '),
    };
}

export async function checkServer(python: string, options: { timeoutMs?: number; cwd?: string; env?: { [name: string]: string } } = {}): Promise<ServerCheck> {
    const result = await runPython(python, SERVER_CHECK_ARGS, { timeoutMs: options.timeoutMs ?? 20000, cwd: options.cwd, env: options.env });
    return parseServerCheck(result);
}

/** The server's own dependencies (hplint's `[server]` extra), as pip arguments. */
export const SERVER_REQUIREMENTS = ['pygls>=2.0,<3', 'lsprotocol>=2023.0.1'];

export function installArgs(): string[] {
    return ['-m', 'pip', 'install', ...SERVER_REQUIREMENTS];
}

export function serverArgs(): string[] {
    return ['-m', 'hplint', 'server'];
}

export function ruleArgs(code: string): string[] {
    return ['-m', 'hplint', 'rule', code];
}
