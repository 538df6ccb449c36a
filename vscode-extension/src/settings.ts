/**
 * The `initializationOptions` the server receives, read from the `hplint.*`
 * settings. Does not import `vscode`.
 */

export type Severity = 'error' | 'warning' | 'info';
export type RunMode = 'onType' | 'onSave';

export type ImportStrategy = 'useBundled' | 'fromEnvironment';
export type NotificationLevel = 'off' | 'onError' | 'onWarning' | 'always';

/** The command hovers link to ("Explain rule"); the server puts it in its hover text. */
export const EXPLAIN_COMMAND = 'hplint.explainRule';

export interface InitializationOptions {
    select: string[];
    ignore: string[];
    severity: { [code: string]: Severity };
    run: RunMode;
    /** A configuration file for every document (the command line's --config); null: the project's. */
    configuration: string | null;
    explainCommand: string;
}

/** Settings the extension itself acts on (not sent to the server). */
export interface ExtensionSettings {
    importStrategy: ImportStrategy;
    showNotifications: NotificationLevel;
    fixAll: boolean;
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

/**
 * `hplint.lint.run`, else the older `hplint.run` (deprecated, still read).
 * `expandPath` turns `hplint.configuration` into an absolute path
 * (`${workspaceFolder}`, `~`, relative to the workspace folder).
 */
export function readInitializationOptions(config: ConfigurationLike, expandPath: (value: string) => string = (v) => v): InitializationOptions {
    // VS Code answers a setting's default when it is unset: the deprecated
    // `hplint.run: "onSave"` counts while `hplint.lint.run` is at its default.
    const lintRun = config.get<unknown>('lint.run');
    const run = lintRun === 'onSave' ? lintRun : config.get<unknown>('run');
    const configuration = config.get<unknown>('configuration');
    return {
        select: stringList(config.get<unknown>('select')),
        ignore: stringList(config.get<unknown>('ignore')),
        severity: severityMap(config.get<unknown>('severity')),
        run: run === 'onSave' ? 'onSave' : 'onType',
        configuration: typeof configuration === 'string' && configuration.trim() ? expandPath(configuration.trim()) : null,
        explainCommand: EXPLAIN_COMMAND,
    };
}

const LEVELS: readonly NotificationLevel[] = ['off', 'onError', 'onWarning', 'always'];

export function readExtensionSettings(config: ConfigurationLike): ExtensionSettings {
    const strategy = config.get<unknown>('importStrategy');
    const level = config.get<unknown>('showNotifications');
    return {
        importStrategy: strategy === 'fromEnvironment' ? 'fromEnvironment' : 'useBundled',
        showNotifications: LEVELS.includes(level as NotificationLevel) ? (level as NotificationLevel) : 'off',
        fixAll: config.get<unknown>('fixAll') === true,
    };
}

/** LSP MessageType: 1 error, 2 warning, 3 info, 4 log. */
export function shouldNotify(level: NotificationLevel, messageType: number): boolean {
    switch (level) {
        case 'always':
            return messageType <= 3;
        case 'onWarning':
            return messageType <= 2;
        case 'onError':
            return messageType === 1;
        default:
            return false;
    }
}
