import * as vscode from 'vscode';
import {
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';

import { PYTHON_EXTENSION_ID, resolveInterpreter, ResolvedInterpreter } from './interpreter';
import { checkHplintImportable, ruleArgs, runPython, serverArgs } from './python';
import { normaliseRuleCode, RULES } from './rules';
import { readInitializationOptions } from './settings';

export const CONFIG_SECTION = 'hplint';
export const COMMANDS = {
    restartServer: 'hplint.restartServer',
    showOutput: 'hplint.showOutput',
    explainRule: 'hplint.explainRule',
} as const;
export const INSTALL_COMMAND = "pip install 'hplint[server]'";
export const README_URL = 'https://github.com/hplint/hplint/tree/main/vscode-extension#requirements';
export const ACTION_HOW_TO_INSTALL = 'How to install';
export const ACTION_SELECT_INTERPRETER = 'Select Interpreter';
export const ACTION_SHOW_OUTPUT = 'Show Output';

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

    constructor(
        private readonly output: vscode.OutputChannel,
        private readonly status: vscode.StatusBarItem,
    ) {
        this.watcher = vscode.workspace.createFileSystemWatcher('**/pyproject.toml');
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

    private async doStart(): Promise<void> {
        this.setStatus('starting');
        const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
        const workspaceFolder = this.workspaceFolder();
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

        const check = await checkHplintImportable(resolved.python, { cwd: workspaceFolder });
        if (!check.ok) {
            this.log(`"${resolved.python} -c 'import hplint'" failed (${check.reason ?? 'unknown'}).`);
            if (check.stderr.trim()) {
                this.log(check.stderr.trim());
            }
            this.setStatus('error', `hplint is not installed in ${resolved.python}`);
            void this.showMissingHplint(resolved.python);
            return;
        }

        const serverOptions: ServerOptions = {
            // No `transport`: languageclient would append `--stdio` to the arguments.
            command: resolved.python,
            args: serverArgs(),
            options: { cwd: workspaceFolder },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            initializationOptions: readInitializationOptions(config),
            synchronize: {
                configurationSection: CONFIG_SECTION,
                fileEvents: this.watcher,
            },
            outputChannel: this.output,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
        };
        const client = new LanguageClient('hplint', 'hplint', serverOptions, clientOptions);
        this.client = client;
        client.onDidChangeState((event) => {
            if (this.client === client) {
                this.onClientState(event.newState);
            }
        });
        try {
            await client.start();
            this.log(`Server started: ${resolved.python} ${serverArgs().join(' ')}`);
            if (this.client === client) {
                this.setStatus('running');
            }
        } catch (error) {
            this.log(`The server failed to start: ${errorText(error)}`);
            this.setStatus('error');
            void vscode.window
                .showErrorMessage(`hplint: the server failed to start (${resolved.python} -m hplint server).`, ACTION_SHOW_OUTPUT)
                .then((choice) => {
                    if (choice === ACTION_SHOW_OUTPUT) {
                        this.output.show(true);
                    }
                });
        }
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

    async showMissingHplint(python: string): Promise<void> {
        const choice = await vscode.window.showErrorMessage(
            `hplint is not installed in ${python}`,
            ACTION_HOW_TO_INSTALL,
            ACTION_SELECT_INTERPRETER,
        );
        if (choice === ACTION_HOW_TO_INSTALL) {
            await this.showInstallHelp(python);
        } else if (choice === ACTION_SELECT_INTERPRETER) {
            await this.selectInterpreter();
        }
    }

    private async showInstallHelp(python: string): Promise<void> {
        const command = `${python} -m ${INSTALL_COMMAND}`;
        this.log(`To install hplint with its language server in this interpreter, run:\n    ${command}\nor set "hplint.interpreter" to a Python that has it.`);
        const copy = 'Copy Command';
        const readme = 'Open README';
        const choice = await vscode.window.showInformationMessage(`Install hplint with: ${command}`, copy, readme);
        if (choice === copy) {
            await vscode.env.clipboard.writeText(command);
        } else if (choice === readme) {
            await vscode.env.openExternal(vscode.Uri.parse(README_URL));
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

    async explainRule(codeArgument?: unknown): Promise<void> {
        let code = typeof codeArgument === 'string' ? normaliseRuleCode(codeArgument) : undefined;
        if (!code) {
            code = await this.pickRuleCode();
        }
        if (!code) {
            return;
        }
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
        const result = await runPython(python, ruleArgs(code), { timeoutMs: 20000, cwd: this.workspaceFolder() });
        if (!result.ok || !result.stdout.trim()) {
            this.log(`"${python} ${ruleArgs(code).join(' ')}" failed (${result.reason ?? 'no output'}).`);
            if (result.stderr.trim()) {
                this.log(result.stderr.trim());
            }
            const choice = await vscode.window.showErrorMessage(`hplint: could not explain ${code}.`, ACTION_SHOW_OUTPUT);
            if (choice === ACTION_SHOW_OUTPUT) {
                this.output.show(true);
            }
            return;
        }
        const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: result.stdout });
        try {
            await vscode.commands.executeCommand('markdown.showPreview', document.uri);
        } catch {
            await vscode.window.showTextDocument(document);
        }
    }

    private async pickRuleCode(): Promise<string | undefined> {
        const other = '$(edit) Other code…';
        const items: vscode.QuickPickItem[] = RULES.map((rule) => ({ label: rule.code, description: rule.name }));
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

let controller: HplintController | undefined;

export function activate(context: vscode.ExtensionContext): HplintApi {
    const output = vscode.window.createOutputChannel('hplint');
    const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    status.name = 'hplint';
    status.command = COMMANDS.showOutput;
    status.text = '$(sync~spin) hplint';
    status.show();

    const ctl = new HplintController(output, status);
    controller = ctl;

    context.subscriptions.push(
        output,
        status,
        vscode.commands.registerCommand(COMMANDS.restartServer, () => ctl.restart()),
        vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
        vscode.commands.registerCommand(COMMANDS.explainRule, (code?: unknown) => ctl.explainRule(code)),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(`${CONFIG_SECTION}.interpreter`)) {
                ctl.log('hplint.interpreter changed.');
                void ctl.restart();
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
