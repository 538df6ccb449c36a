import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    ErrorAction,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';

import { expandInterpreterPath, PYTHON_EXTENSION_ID, resolveInterpreter, ResolvedInterpreter } from './interpreter';
import { checkServer, installArgs, ruleArgs, runPython, ServerCheck, serverArgs, SERVER_REQUIREMENTS } from './python';
import { normaliseRuleCode, RULES } from './rules';
import { EXPLAIN_COMMAND, readExtensionSettings, readInitializationOptions, shouldNotify } from './settings';

export const CONFIG_SECTION = 'hplint';
export const COMMANDS = {
    restartServer: 'hplint.restartServer',
    showOutput: 'hplint.showOutput',
    explainRule: 'hplint.explainRule',
} as const;
export const RULE_SCHEME = 'hplint-rule';
export const FIX_ALL_KIND = 'source.fixAll.hplint';
export const ACTION_INSTALL = 'Install in the selected interpreter';
export const ACTION_SELECT_INTERPRETER = 'Select Interpreter';
export const ACTION_OPEN_DOCS = 'Open docs';
export const ACTION_SHOW_OUTPUT = 'Show Output';
/** Files whose presence means the workspace uses hplint (besides `[tool.hplint]` in pyproject.toml). */
export const CONFIG_FILES = ['hplint.toml', '.hplint.toml'];
/** The server may crash this many times in RESTART_WINDOW_MS before it stays down. */
export const MAX_RESTARTS = 2;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

const DOCUMENT_SELECTOR = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    // Python cells of Jupyter notebooks (the server syncs the notebook itself
    // through LSP 3.17 notebook documents and reports per cell).
    { notebook: 'jupyter-notebook', language: 'python' },
    // Sweep / search-space files (W&B, Hydra, NNI); the server ignores other YAML/JSON.
    { scheme: 'file', language: 'yaml' },
    { scheme: 'file', language: 'json' },
];

type StatusKind = 'starting' | 'running' | 'stopped' | 'error';

/** What `activate` returns: other extensions and the tests can wait on startup. */
export interface HplintApi {
    /** Settles when the latest start / restart has finished (successfully or not). */
    ready(): Promise<void>;
    /** The interpreter the server was (last) started with. */
    interpreter(): string | undefined;
}

function errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

class HplintController implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private resolved: ResolvedInterpreter | undefined;
    private queue: Promise<void> = Promise.resolve();
    private pythonEnvListener: vscode.Disposable | undefined;
    private readonly watcher: vscode.FileSystemWatcher;
    /** The user ran one of our commands: setup problems are worth a notification now. */
    private userAsked = false;
    /** Setup problems already shown (python + kind): one notification each, never a stream. */
    private readonly shownProblems = new Set<string>();
    private crashes: number[] = [];
    private serverEnv: { [name: string]: string } | undefined;
    readonly rules = new RuleDocuments((code) => this.ruleMarkdown(code));

    constructor(
        private readonly output: vscode.OutputChannel,
        private readonly status: vscode.StatusBarItem,
        private readonly extensionPath: string,
    ) {
        this.watcher = vscode.workspace.createFileSystemWatcher('**/pyproject.toml');
    }

    /** A command was run: from now on setup problems are shown, not only in the status bar. */
    markUserAsked(): void {
        this.userAsked = true;
    }

    log(message: string): void {
        this.output.appendLine(`[${new Date().toISOString()}] ${message}`);
    }

    get interpreter(): string | undefined {
        return this.resolved?.python;
    }

    ready(): Promise<void> {
        return this.queue;
    }

    private enqueue(operation: () => Promise<void>): Promise<void> {
        const run = async () => {
            try {
                await operation();
            } catch (error) {
                this.log(`Unexpected error: ${errorText(error)}`);
                this.setStatus('error', `hplint: ${errorText(error)}`);
            }
        };
        this.queue = this.queue.then(run, run);
        return this.queue;
    }

    start(): Promise<void> {
        return this.enqueue(() => this.doStart());
    }

    stop(): Promise<void> {
        return this.enqueue(() => this.doStop());
    }

    restart(): Promise<void> {
        return this.enqueue(async () => {
            this.log('Restarting the server.');
            await this.doStop();
            await this.doStart();
        });
    }

    private workspaceFolder(): string | undefined {
        return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    }

    private setStatus(kind: StatusKind, tooltip?: string): void {
        const icon = kind === 'running' ? '$(check)' : kind === 'starting' ? '$(sync~spin)' : '$(error)';
        this.status.text = `${icon} hplint`;
        const defaults: Record<StatusKind, string> = {
            starting: 'hplint: starting the server…',
            running: `hplint: running (${this.resolved?.python ?? '?'})`,
            stopped: 'hplint: the server is stopped',
            error: 'hplint: the server failed, see the output',
        };
        this.status.tooltip = `${tooltip ?? defaults[kind]}\nClick to show the output.`;
        this.status.backgroundColor =
            kind === 'error' || kind === 'stopped' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }

    private onClientState(state: State): void {
        if (state === State.Running) {
            this.setStatus('running');
        } else if (state === State.Starting) {
            this.setStatus('starting');
        } else {
            this.setStatus('stopped');
        }
    }

    /** `bundled/libs` inside the extension: hplint and its pure-Python dependencies, when this build ships them. */
    private bundledLibs(): string | undefined {
        const libs = path.join(this.extensionPath, 'bundled', 'libs');
        return fs.existsSync(path.join(libs, 'hplint', '__init__.py')) ? libs : undefined;
    }

    private async doStart(): Promise<void> {
        this.setStatus('starting');
        const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
        const workspaceFolder = this.workspaceFolder();
        const extensionSettings = readExtensionSettings(config);
        const resolved = await resolveInterpreter({
            configured: config.get<string>('interpreter'),
            workspaceFolder,
            getPythonExtension: () => vscode.extensions.getExtension(PYTHON_EXTENSION_ID),
            resource: vscode.workspace.workspaceFolders?.[0]?.uri,
            log: (message) => this.log(message),
        });
        this.resolved = resolved;
        this.log(`Interpreter: ${resolved.python} (from ${resolved.source}).`);
        this.watchPythonExtension();

        this.serverEnv = undefined;
        if (extensionSettings.importStrategy === 'useBundled') {
            const libs = this.bundledLibs();
            if (libs) {
                this.serverEnv = { PYTHONPATH: [libs, process.env.PYTHONPATH].filter((p) => p).join(path.delimiter) };
                this.log(`importStrategy useBundled: hplint from ${libs}, run by ${resolved.python}.`);
            } else {
                this.log('importStrategy useBundled: this build of the extension carries no bundled hplint; '
                    + `using the one installed in ${resolved.python} (as with fromEnvironment).`);
            }
        } else {
            this.log(`importStrategy fromEnvironment: hplint from ${resolved.python}.`);
        }

        const check = await checkServer(resolved.python, { cwd: workspaceFolder, env: this.serverEnv });
        if (check.kind !== 'ok') {
            this.log(`Server check with ${resolved.python} failed (${check.kind}): ${check.detail}`);
            this.setStatus('error', this.problemText(resolved.python, check));
            void this.reportSetupProblem(resolved.python, check);
            return;
        }
        this.log(`hplint ${check.version ?? '?'} from ${check.location ?? '?'}; pygls and lsprotocol import.`);

        const serverOptions: ServerOptions = {
            // No `transport`: languageclient would append `--stdio` to the arguments.
            command: resolved.python,
            args: serverArgs(),
            options: { cwd: workspaceFolder, env: this.serverEnv ? { ...process.env, ...this.serverEnv } : undefined },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            initializationOptions: readInitializationOptions(config, (value) => expandInterpreterPath(value, workspaceFolder)),
            // Settings changes are sent by sendSettings(): the same shape as the
            // initializationOptions (paths expanded), not the raw section.
            synchronize: {
                fileEvents: this.watcher,
            },
            outputChannel: this.output,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            // Hovers link "Explain rule" (a command: link, trusted for that command only).
            markdown: { isTrusted: { enabledCommands: [EXPLAIN_COMMAND] } },
            errorHandler: {
                error: () => ({ action: ErrorAction.Continue, handled: true }),
                closed: () => this.onServerClosed(),
            },
            initializationFailedHandler: (error: unknown) => {
                this.log(`The server failed to initialize: ${errorText(error)}`);
                return false;
            },
        };
        const client = new LanguageClient('hplint', 'hplint', serverOptions, clientOptions);
        this.client = client;
        this.crashes = [];
        client.onDidChangeState((event) => {
            if (this.client === client) {
                this.onClientState(event.newState);
            }
        });
        try {
            await client.start();
            this.log(`Server started: ${resolved.python} ${serverArgs().join(' ')}`);
            // The server's window/showMessage: shown as hplint.showNotifications says, always logged.
            client.onNotification('window/showMessage', (params: { type: number; message: string }) => this.serverMessage(params));
            if (this.client === client) {
                this.setStatus('running');
            }
        } catch (error) {
            this.log(`The server failed to start: ${errorText(error)}`);
            this.setStatus('error');
            this.notify(1, `hplint: the server failed to start (${resolved.python} -m hplint server).`);
        }
    }

    /** workspace/didChangeConfiguration with the settings as initializationOptions has them. */
    sendSettings(): void {
        const client = this.client;
        if (!client || client.state !== State.Running) {
            return;
        }
        const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
        const workspaceFolder = this.workspaceFolder();
        const settings = readInitializationOptions(config, (value) => expandInterpreterPath(value, workspaceFolder));
        void client.sendNotification('workspace/didChangeConfiguration', { settings: { [CONFIG_SECTION]: settings } });
    }

    private problemText(python: string, check: ServerCheck): string {
        switch (check.kind) {
            case 'no-python':
                return `hplint: the interpreter ${python} was not found`;
            case 'no-hplint':
                return `hplint is not installed in ${python}`;
            case 'no-server-deps':
                return `hplint's language server needs ${check.missing.join(' and ')}, missing in ${python}`;
            default:
                return `hplint: checking ${python} failed (${check.detail})`;
        }
    }

    /** Is hplint part of this workspace: a setting, hplint.toml, or `[tool.hplint]` in pyproject.toml? */
    workspaceConfiguresHplint(): boolean {
        const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
        const keys = ['interpreter', 'importStrategy', 'configuration', 'select', 'ignore', 'severity', 'lint.run', 'run', 'fixAll', 'showNotifications'];
        for (const key of keys) {
            const inspected = config.inspect?.(key);
            if (inspected && [inspected.globalValue, inspected.workspaceValue, inspected.workspaceFolderValue].some((v) => v !== undefined)) {
                return true;
            }
        }
        for (const folder of vscode.workspace.workspaceFolders ?? []) {
            const root = folder.uri.fsPath;
            if (CONFIG_FILES.some((name) => fs.existsSync(path.join(root, name)))) {
                return true;
            }
            try {
                if (/^\s*\[tool\.hplint[\].]/m.test(fs.readFileSync(path.join(root, 'pyproject.toml'), 'utf8'))) {
                    return true;
                }
            } catch {
                // no pyproject.toml
            }
        }
        return false;
    }

    /**
     * One notification per problem and interpreter, with the actions that fix
     * it; none at all (status bar only) in a workspace that does not use
     * hplint, until the user runs one of its commands.
     */
    private async reportSetupProblem(python: string, check: ServerCheck): Promise<void> {
        const key = `${python}\u0000${check.kind}`;
        if (this.shownProblems.has(key)) {
            this.log('(already shown once: not notifying again)');
            return;
        }
        if (!this.userAsked && !this.workspaceConfiguresHplint()) {
            this.log('This workspace does not configure hplint: no notification (the status bar shows the problem).');
            return;
        }
        this.shownProblems.add(key);
        const text = this.problemText(python, check);
        let message: string;
        let actions: string[];
        if (check.kind === 'no-server-deps') {
            message = `${text}. Install them there (pip install ${SERVER_REQUIREMENTS.map((r) => `'${r}'`).join(' ')}), or select an interpreter that has them.`;
            actions = [ACTION_INSTALL, ACTION_SELECT_INTERPRETER, ACTION_OPEN_DOCS];
        } else if (check.kind === 'no-hplint') {
            message = `${text}. Install it from a checkout of hplint (${python} -m pip install -e '/path/to/hplint[server]'), or select an interpreter that has it.`;
            actions = [ACTION_SELECT_INTERPRETER, ACTION_OPEN_DOCS];
        } else {
            message = `${text}.`;
            actions = [ACTION_SELECT_INTERPRETER, ACTION_SHOW_OUTPUT];
        }
        const choice = await vscode.window.showErrorMessage(message, ...actions);
        if (choice === ACTION_INSTALL) {
            await this.installServerDependencies(python);
        } else if (choice === ACTION_SELECT_INTERPRETER) {
            await this.selectInterpreter();
        } else if (choice === ACTION_OPEN_DOCS) {
            await this.openDocs();
        } else if (choice === ACTION_SHOW_OUTPUT) {
            this.output.show(true);
        }
    }

    /** `python -m pip install pygls lsprotocol`, logged to the output channel, then a restart. */
    async installServerDependencies(python: string): Promise<void> {
        this.markUserAsked();
        const args = installArgs();
        this.log(`Running: ${python} ${args.join(' ')}`);
        this.status.text = '$(sync~spin) hplint: installing';
        const result = await runPython(python, args, { timeoutMs: 10 * 60 * 1000, cwd: this.workspaceFolder() });
        for (const text of [result.stdout, result.stderr]) {
            if (text.trim()) {
                this.log(text.trim());
            }
        }
        if (!result.ok) {
            this.log(`pip failed (${result.reason ?? '?'}).`);
            this.setStatus('error', `hplint: installing the server's dependencies in ${python} failed`);
            const choice = await vscode.window.showErrorMessage(`hplint: pip could not install the server's dependencies in ${python}.`, ACTION_SHOW_OUTPUT);
            if (choice === ACTION_SHOW_OUTPUT) {
                this.output.show(true);
            }
            return;
        }
        this.shownProblems.clear();
        await this.restart();
    }

    private async openDocs(): Promise<void> {
        const readme = vscode.Uri.file(path.join(this.extensionPath, 'README.md'));
        try {
            await vscode.commands.executeCommand('markdown.showPreview', readme);
        } catch {
            await vscode.window.showTextDocument(readme);
        }
    }

    /**
     * The server process ended. A missing dependency (the interpreter changed
     * under us, pip uninstalled something) never restarts; a crash restarts
     * at most MAX_RESTARTS times in three minutes, then stays down with one
     * message, instead of languageclient's restart loop and its toasts.
     */
    private async onServerClosed(): Promise<CloseHandlerResult> {
        const python = this.resolved?.python;
        if (python) {
            const check = await checkServer(python, { cwd: this.workspaceFolder(), env: this.serverEnv });
            if (check.kind !== 'ok') {
                this.log(`The server exited: ${check.kind} (${check.detail}); not restarting.`);
                this.setStatus('error', this.problemText(python, check));
                void this.reportSetupProblem(python, check);
                return { action: CloseAction.DoNotRestart, handled: true };
            }
        }
        const now = Date.now();
        this.crashes = [...this.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.crashes.length <= MAX_RESTARTS) {
            this.log(`The server exited unexpectedly; restarting (${this.crashes.length} of ${MAX_RESTARTS}).`);
            return { action: CloseAction.Restart, handled: true };
        }
        this.log(`The server exited ${this.crashes.length} times in three minutes; not restarting. Run "hplint: Restart Server" after fixing the cause (see above).`);
        this.setStatus('error', 'hplint: the server keeps crashing, see the output');
        this.notify(1, 'hplint: the server keeps crashing and was stopped; see the output.');
        return { action: CloseAction.DoNotRestart, handled: true };
    }

    /** A notification as `hplint.showNotifications` allows (1 error, 2 warning, 3 info); always logged. */
    private notify(type: number, message: string): void {
        const level = readExtensionSettings(vscode.workspace.getConfiguration(CONFIG_SECTION)).showNotifications;
        if (!shouldNotify(level, type)) {
            return;
        }
        const show =
            type === 1 ? vscode.window.showErrorMessage : type === 2 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        void Promise.resolve(show(message, ACTION_SHOW_OUTPUT)).then((choice) => {
            if (choice === ACTION_SHOW_OUTPUT) {
                this.output.show(true);
            }
        });
    }

    private serverMessage(params: { type: number; message: string }): void {
        this.log(`server: ${params.message}`);
        this.notify(params.type, params.message);
    }

    /** `source.fixAll.hplint` edits for a document about to be saved (hplint.fixAll). */
    async fixAllEdits(document: vscode.TextDocument): Promise<vscode.TextEdit[]> {
        if (!this.client || this.client.state !== State.Running) {
            return [];
        }
        const whole = new vscode.Range(new vscode.Position(0, 0), document.lineAt(document.lineCount - 1).range.end);
        const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[] | undefined>(
            'vscode.executeCodeActionProvider', document.uri, whole, FIX_ALL_KIND);
        const edits: vscode.TextEdit[] = [];
        for (const action of actions ?? []) {
            const edit = (action as vscode.CodeAction).edit;
            const kind = (action as vscode.CodeAction).kind;
            if (edit && (!kind || kind.value === FIX_ALL_KIND)) {
                edits.push(...edit.get(document.uri));
                break; // one fix-all action covers the file
            }
        }
        if (edits.length) {
            this.log(`hplint.fixAll: ${edits.length} edit(s) on save of ${document.uri.toString()}`);
        }
        return edits;
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.stop(3000);
            } catch (error) {
                this.log(`Stopping the server: ${errorText(error)}`);
            }
        }
        this.setStatus('stopped');
    }

    /** Restart when the Python extension's interpreter changes and `hplint.interpreter` is unset. */
    private watchPythonExtension(): void {
        if (this.pythonEnvListener) {
            return;
        }
        try {
            const extension = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
            const environments = (extension?.isActive ? (extension.exports as { environments?: unknown }) : undefined)?.environments as
                | { onDidChangeActiveEnvironmentPath?: vscode.Event<unknown> }
                | undefined;
            if (typeof environments?.onDidChangeActiveEnvironmentPath !== 'function') {
                return;
            }
            this.pythonEnvListener = environments.onDidChangeActiveEnvironmentPath(() => {
                const configured = vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('interpreter');
                if (!configured || !configured.trim()) {
                    this.log('The Python extension switched interpreters.');
                    void this.restart();
                }
            });
        } catch (error) {
            this.log(`Could not watch the Python extension's interpreter: ${errorText(error)}`);
        }
    }

    private async selectInterpreter(): Promise<void> {
        const commands = await vscode.commands.getCommands(true);
        if (commands.includes('python.setInterpreter')) {
            await vscode.commands.executeCommand('python.setInterpreter');
            // The Python extension's change event (if any) restarts the server.
            return;
        }
        await vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.interpreter`);
    }

    /** `python -m hplint rule CODE`'s Markdown, or undefined (logged, and one error message). */
    private async ruleMarkdown(code: string): Promise<string | undefined> {
        const python =
            this.resolved?.python ??
            (
                await resolveInterpreter({
                    configured: vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('interpreter'),
                    workspaceFolder: this.workspaceFolder(),
                    getPythonExtension: () => vscode.extensions.getExtension(PYTHON_EXTENSION_ID),
                    log: (message) => this.log(message),
                })
            ).python;
        const result = await runPython(python, ruleArgs(code), { timeoutMs: 20000, cwd: this.workspaceFolder(), env: this.serverEnv });
        if (!result.ok || !result.stdout.trim()) {
            this.log(`"${python} ${ruleArgs(code).join(' ')}" failed (${result.reason ?? 'no output'}).`);
            if (result.stderr.trim()) {
                this.log(result.stderr.trim());
            }
            return undefined;
        }
        return result.stdout;
    }

    /** Opens the rule's documentation read-only: a `hplint-rule:` virtual document in the Markdown preview. */
    async explainRule(codeArgument?: unknown): Promise<void> {
        this.markUserAsked();
        let code = typeof codeArgument === 'string' ? normaliseRuleCode(codeArgument) : undefined;
        if (!code) {
            code = await this.pickRuleCode();
        }
        if (!code) {
            return;
        }
        const markdown = await this.rules.load(code);
        if (markdown === undefined) {
            const choice = await vscode.window.showErrorMessage(`hplint: could not explain ${code}.`, ACTION_SHOW_OUTPUT);
            if (choice === ACTION_SHOW_OUTPUT) {
                this.output.show(true);
            }
            return;
        }
        const uri = RuleDocuments.uri(code);
        try {
            await vscode.commands.executeCommand('markdown.showPreview', uri);
        } catch {
            const document = await vscode.workspace.openTextDocument(uri);
            await vscode.window.showTextDocument(document, { preview: true });
        }
    }

    private async pickRuleCode(): Promise<string | undefined> {
        const other = '$(edit) Other code…';
        const items: vscode.QuickPickItem[] = RULES.map((rule) => ({ label: rule.code, description: rule.name, detail: rule.summary }));
        items.push({ label: other, description: 'Type a rule code' });
        const picked = await vscode.window.showQuickPick(items, {
            title: 'hplint: Explain Rule',
            placeHolder: 'Rule code (HPL001…)',
            matchOnDescription: true,
        });
        if (!picked) {
            return undefined;
        }
        if (picked.label !== other) {
            return picked.label;
        }
        const typed = await vscode.window.showInputBox({
            title: 'hplint: Explain Rule',
            prompt: 'Rule code',
            placeHolder: 'HPL001',
            validateInput: (value) => (normaliseRuleCode(value) ? undefined : 'A rule code looks like HPL001'),
        });
        return typed === undefined ? undefined : normaliseRuleCode(typed);
    }

    async dispose(): Promise<void> {
        this.pythonEnvListener?.dispose();
        this.watcher.dispose();
        await this.stop();
    }
}

/**
 * The `hplint-rule:/HPL001.md` documents: read-only text that VS Code never
 * marks dirty or asks to save, filled from `hplint rule CODE`.
 */
export class RuleDocuments implements vscode.TextDocumentContentProvider {
    private readonly cache = new Map<string, string>();

    constructor(private readonly fetch: (code: string) => Promise<string | undefined>) {}

    static uri(code: string): vscode.Uri {
        return vscode.Uri.parse(`${RULE_SCHEME}:/${code}.md`);
    }

    async load(code: string): Promise<string | undefined> {
        const hit = this.cache.get(code);
        if (hit !== undefined) {
            return hit;
        }
        const text = await this.fetch(code);
        if (text !== undefined) {
            this.cache.set(code, text);
        }
        return text;
    }

    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
        const code = normaliseRuleCode(path.basename(uri.path, '.md'));
        const text = code ? await this.load(code) : undefined;
        return text ?? `hplint could not load the documentation of ${uri.path} (see "hplint: Show Output").\n`;
    }
}

let controller: HplintController | undefined;

export function activate(context: vscode.ExtensionContext): HplintApi {
    const output = vscode.window.createOutputChannel('hplint');
    const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    status.name = 'hplint';
    status.command = COMMANDS.showOutput;
    status.text = '$(sync~spin) hplint';
    status.show();

    const ctl = new HplintController(output, status, context.extensionPath ?? path.resolve(__dirname, '..'));
    controller = ctl;

    context.subscriptions.push(
        output,
        status,
        vscode.workspace.registerTextDocumentContentProvider(RULE_SCHEME, ctl.rules),
        vscode.commands.registerCommand(COMMANDS.restartServer, () => {
            ctl.markUserAsked();
            return ctl.restart();
        }),
        vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
        vscode.commands.registerCommand(COMMANDS.explainRule, (code?: unknown) => ctl.explainRule(code)),
        vscode.workspace.onDidChangeConfiguration((event) => {
            const restartOn = ['interpreter', 'importStrategy'];
            const changed = restartOn.find((key) => event.affectsConfiguration(`${CONFIG_SECTION}.${key}`));
            if (changed) {
                ctl.log(`hplint.${changed} changed.`);
                void ctl.restart();
            } else if (event.affectsConfiguration(CONFIG_SECTION)) {
                ctl.sendSettings();
            }
        }),
        vscode.workspace.onWillSaveTextDocument((event) => {
            const config = vscode.workspace.getConfiguration(CONFIG_SECTION, event.document.uri);
            if (event.document.languageId === 'python' && readExtensionSettings(config).fixAll) {
                event.waitUntil(ctl.fixAllEdits(event.document));
            }
        }),
        { dispose: () => void ctl.dispose() },
    );

    void ctl.start();
    return {
        ready: () => ctl.ready(),
        interpreter: () => ctl.interpreter,
    };
}

export async function deactivate(): Promise<void> {
    const ctl = controller;
    controller = undefined;
    if (ctl) {
        await ctl.dispose();
    }
}
