/**
 * The `initializationOptions` the server receives, read from the `hplint.*`
 * settings. Does not import `vscode`.
 */

export type Severity = 'error' | 'warning' | 'info';
export type RunMode = 'onType' | 'onSave';

export interface InitializationOptions {
    select: string[];
    ignore: string[];
    severity: { [code: string]: Severity };
    run: RunMode;
}

/** The part of `vscode.WorkspaceConfiguration` used here. */
export interface ConfigurationLike {
    get<T>(section: string): T | undefined;
}

const SEVERITIES: ReadonlySet<string> = new Set(['error', 'warning', 'info']);

function stringList(value: unknown): string[] {
    if (!Array.isArray(value)) {
        return [];
    }
    return value.filter((item): item is string => typeof item === 'string').map((item) => item.trim()).filter((item) => item.length > 0);
}

function severityMap(value: unknown): { [code: string]: Severity } {
    const result: { [code: string]: Severity } = {};
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
        return result;
    }
    for (const [code, level] of Object.entries(value as Record<string, unknown>)) {
        if (typeof level !== 'string') {
            continue;
        }
        const normalised = level.trim().toLowerCase();
        if (SEVERITIES.has(normalised)) {
            result[code.trim()] = normalised as Severity;
        }
    }
    return result;
}

export function readInitializationOptions(config: ConfigurationLike): InitializationOptions {
    const run = config.get<unknown>('run');
    return {
        select: stringList(config.get<unknown>('select')),
        ignore: stringList(config.get<unknown>('ignore')),
        severity: severityMap(config.get<unknown>('severity')),
        run: run === 'onSave' ? 'onSave' : 'onType',
    };
}
