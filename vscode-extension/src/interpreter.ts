/**
 * Which Python runs `python -m hplint server`.
 *
 * Order: the `hplint.interpreter` setting (when non-empty), else the Python
 * extension's active interpreter (when `ms-python.python` is installed and
 * answers), else `python3`. Every step that talks to the Python extension is
 * guarded: any error, missing API or timeout falls through to the next source.
 *
 * This module does not import `vscode`, so it can be unit-tested on its own.
 */

import * as os from 'os';
import * as path from 'path';

export const DEFAULT_PYTHON = 'python3';
export const PYTHON_EXTENSION_ID = 'ms-python.python';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface ResolvedInterpreter {
    python: string;
    source: InterpreterSource;
}

/** The part of `vscode.Extension` this module uses. */
export interface ExtensionLike {
    readonly isActive: boolean;
    readonly exports: unknown;
    activate(): Thenable<unknown>;
}

export interface InterpreterSources {
    /** The raw `hplint.interpreter` setting. */
    configured?: string | null;
    /** First workspace folder, for `${workspaceFolder}` and relative paths. */
    workspaceFolder?: string;
    /** `() => vscode.extensions.getExtension('ms-python.python')`. */
    getPythonExtension?: () => ExtensionLike | undefined;
    /** Resource (document / folder URI) passed to the Python extension API. */
    resource?: unknown;
    /** How long to wait for the Python extension, in milliseconds. */
    timeoutMs?: number;
    log?: (message: string) => void;
    /** Home directory for `~` expansion (tests). */
    home?: string;
}

/**
 * Expand `~`, `${workspaceFolder}`, `${userHome}` and `${env:NAME}` in a
 * configured interpreter path; a relative path containing a separator is
 * taken relative to the workspace folder. A bare command (`python3.11`) is
 * left for PATH lookup.
 */
export function expandInterpreterPath(value: string, workspaceFolder?: string, home: string = os.homedir()): string {
    let result = value.trim();
    result = result.replace(/\$\{userHome\}/g, home);
    result = result.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => process.env[name] ?? '');
    if (workspaceFolder !== undefined) {
        result = result.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
    }
    if (result === '~') {
        result = home;
    } else if (result.startsWith('~/') || result.startsWith('~\\')) {
        result = path.join(home, result.slice(2));
    }
    const hasSeparator = result.includes('/') || result.includes('\\');
    if (hasSeparator && !path.isAbsolute(result) && workspaceFolder !== undefined) {
        result = path.join(workspaceFolder, result);
    }
    return result;
}

function withTimeout<T>(promise: Thenable<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
        Promise.resolve(promise).then(
            (value) => {
                clearTimeout(timer);
                resolve(value);
            },
            (error: unknown) => {
                clearTimeout(timer);
                reject(error instanceof Error ? error : new Error(String(error)));
            },
        );
    });
}

interface PythonEnvironmentsApi {
    getActiveEnvironmentPath(resource?: unknown): { id?: string; path?: string } | undefined;
    resolveEnvironment(env: unknown): Thenable<{ executable?: { uri?: { fsPath?: string } } } | undefined>;
}

function environmentsApi(exports: unknown): PythonEnvironmentsApi | undefined {
    if (!exports || typeof exports !== 'object') {
        return undefined;
    }
    const environments = (exports as { environments?: unknown }).environments;
    if (!environments || typeof environments !== 'object') {
        return undefined;
    }
    const api = environments as Partial<PythonEnvironmentsApi>;
    if (typeof api.getActiveEnvironmentPath !== 'function' || typeof api.resolveEnvironment !== 'function') {
        return undefined;
    }
    return api as PythonEnvironmentsApi;
}

/** The Python extension's active interpreter, or undefined on any failure. */
export async function pythonExtensionInterpreter(sources: InterpreterSources): Promise<string | undefined> {
    const log = sources.log ?? (() => undefined);
    const timeoutMs = sources.timeoutMs ?? 10000;
    try {
        const extension = sources.getPythonExtension?.();
        if (!extension) {
            return undefined;
        }
        if (!extension.isActive) {
            await withTimeout(extension.activate(), timeoutMs, 'Activating the Python extension');
        }
        const api = environmentsApi(extension.exports);
        if (!api) {
            log('The Python extension has no environments API; not using it.');
            return undefined;
        }
        const active = api.getActiveEnvironmentPath(sources.resource);
        if (!active) {
            return undefined;
        }
        const resolved = await withTimeout(api.resolveEnvironment(active), timeoutMs, 'Resolving the Python environment');
        const fsPath = resolved?.executable?.uri?.fsPath;
        if (typeof fsPath === 'string' && fsPath.length > 0) {
            return fsPath;
        }
        log(`The Python extension did not resolve an executable for ${active.path ?? active.id ?? '?'}.`);
        return undefined;
    } catch (error) {
        log(`Could not ask the Python extension for its interpreter: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
    }
}

export async function resolveInterpreter(sources: InterpreterSources): Promise<ResolvedInterpreter> {
    const configured = typeof sources.configured === 'string' ? sources.configured.trim() : '';
    if (configured.length > 0) {
        return { python: expandInterpreterPath(configured, sources.workspaceFolder, sources.home), source: 'setting' };
    }
    const fromExtension = await pythonExtensionInterpreter(sources);
    if (fromExtension) {
        return { python: fromExtension, source: 'python-extension' };
    }
    return { python: DEFAULT_PYTHON, source: 'default' };
}
