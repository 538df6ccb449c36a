'use strict';
// Recording fakes for `vscode` and `vscode-languageclient/node`, installed
// through Module._load so the compiled extension (out/, unbundled) gets them
// from its plain `require` calls. Each test builds a fresh world with
// `loadExtension(options)`.

const Module = require('module');
const fs = require('fs');
const os = require('os');
const path = require('path');

const OUT_DIR = path.resolve(__dirname, '..', 'out');
// The shipped bundle: vscode-languageclient is inside it, only `vscode` is faked.
const BUNDLE = path.resolve(__dirname, '..', 'dist', 'extension.js');

// A stand-in for any part of the `vscode` API the fakes do not model: every
// property is another stand-in, callable and constructible, so the real
// vscode-languageclient inside the bundle can load (it subclasses vscode classes).
function anything(name) {
    const target = function () {};
    return new Proxy(target, {
        get(t, key) {
            if (key === 'prototype') return t.prototype;
            if (key === Symbol.toPrimitive) return () => name;
            if (key === '__esModule' || key === 'then') return undefined;
            return anything(`${name}.${String(key)}`);
        },
        construct: () => anything(`new ${name}`),
        apply: () => anything(`${name}()`),
    });
}

/** The fake `vscode`, with stand-ins for whatever it does not define. */
function withFallback(object, name) {
    return new Proxy(object, {
        get(target, key) {
            if (!(key in target)) {
                return typeof key === 'symbol' || key === 'then' ? undefined : anything(`${name}.${key}`);
            }
            const value = target[key];
            const plain = value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
            return plain ? withFallback(value, `${name}.${key}`) : value;
        },
    });
}

let current; // { vscode, lc }
const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
    if (current && parent && parent.filename === BUNDLE && request === 'vscode') {
        return withFallback(current.vscode, 'vscode');
    }
    if (current && parent && parent.filename && parent.filename.startsWith(OUT_DIR)) {
        if (request === 'vscode') {
            return current.vscode;
        }
        if (request === 'vscode-languageclient/node') {
            return current.lc;
        }
    }
    return originalLoad.call(this, request, parent, isMain);
};

class EventEmitter {
    constructor() {
        this.listeners = [];
        this.event = (listener) => {
            this.listeners.push(listener);
            return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
        };
    }
    fire(value) {
        for (const listener of [...this.listeners]) {
            listener(value);
        }
    }
}

const State = { Stopped: 1, Running: 2, Starting: 3 };
const CloseAction = { DoNotRestart: 1, Restart: 2 };
const ErrorAction = { Continue: 1, Shutdown: 2 };

function makeLanguageClientModule(world) {
    class LanguageClient {
        constructor(id, name, serverOptions, clientOptions) {
            this.id = id;
            this.name = name;
            this.serverOptions = serverOptions;
            this.clientOptions = clientOptions;
            this.state = State.Stopped;
            this.calls = [];
            this.stateEmitter = new EventEmitter();
            this.onDidChangeState = this.stateEmitter.event;
            this.notificationHandlers = new Map();
            this.sentNotifications = [];
            world.clients.push(this);
        }
        onNotification(method, handler) {
            this.notificationHandlers.set(method, handler);
            return { dispose: () => this.notificationHandlers.delete(method) };
        }
        async sendNotification(method, params) {
            this.sentNotifications.push({ method, params });
        }
        /** What languageclient does when the server process exits: ask the error handler. */
        async serverExited() {
            this.setState(State.Stopped);
            const result = await this.clientOptions.errorHandler.closed();
            this.calls.push(`closed:${result.action === CloseAction.Restart ? 'restart' : 'stay-down'}`);
            if (result.action === CloseAction.Restart) {
                this.setState(State.Running);
            }
            return result;
        }
        setState(newState) {
            const oldState = this.state;
            this.state = newState;
            this.stateEmitter.fire({ oldState, newState });
        }
        async start() {
            this.calls.push('start');
            this.setState(State.Starting);
            await new Promise((resolve) => setImmediate(resolve));
            if (world.options.clientStartFails) {
                this.setState(State.Stopped);
                throw new Error('server exited');
            }
            this.setState(State.Running);
        }
        async stop() {
            this.calls.push('stop');
            this.setState(State.Stopped);
        }
    }
    return {
        LanguageClient,
        State,
        CloseAction,
        ErrorAction,
        TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 },
        RevealOutputChannelOn: { Debug: 0, Info: 1, Warn: 2, Error: 3, Never: 4 },
    };
}

function makeVscode(world) {
    const options = world.options;
    const configChanged = new EventEmitter();
    const willSave = new EventEmitter();

    const settings = () => ({ ...(options.settings || {}) });

    const vscode = {
        version: '1.85.0',
        StatusBarAlignment: { Left: 1, Right: 2 },
        ThemeColor: class ThemeColor {
            constructor(id) {
                this.id = id;
            }
        },
        Disposable: class Disposable {
            constructor(fn) {
                this.dispose = fn;
            }
        },
        Position: class Position {
            constructor(line, character) {
                this.line = line;
                this.character = character;
            }
        },
        Range: class Range {
            constructor(start, end) {
                this.start = start;
                this.end = end;
            }
        },
        Uri: {
            parse: (value) => ({ scheme: value.split(':')[0], path: value.replace(/^[^:]*:/, ''), toString: () => value, fsPath: value }),
            file: (p) => ({ scheme: 'file', fsPath: p, toString: () => `file://${p}` }),
        },
        window: {
            createOutputChannel(name) {
                const channel = {
                    name,
                    lines: [],
                    shown: 0,
                    appendLine: (line) => channel.lines.push(line),
                    append: (text) => channel.lines.push(text),
                    show: () => (channel.shown += 1),
                    dispose() {},
                };
                world.outputChannels.push(channel);
                return channel;
            },
            createStatusBarItem(alignment, priority) {
                const item = {
                    alignment,
                    priority,
                    text: '',
                    tooltip: '',
                    command: undefined,
                    visible: false,
                    history: [],
                    show() {
                        this.visible = true;
                    },
                    hide() {
                        this.visible = false;
                    },
                    dispose() {},
                };
                // Record every text the item shows.
                let text = '';
                Object.defineProperty(item, 'text', {
                    get: () => text,
                    set: (value) => {
                        text = value;
                        item.history.push(value);
                    },
                });
                world.statusBarItems.push(item);
                return item;
            },
            async showErrorMessage(message, ...items) {
                world.messages.push({ level: 'error', message, items });
                return options.answerError ? options.answerError(message, items) : undefined;
            },
            async showWarningMessage(message, ...items) {
                world.messages.push({ level: 'warning', message, items });
                return undefined;
            },
            async showInformationMessage(message, ...items) {
                world.messages.push({ level: 'info', message, items });
                return options.answerInfo ? options.answerInfo(message, items) : undefined;
            },
            async showQuickPick(items, pickOptions) {
                world.quickPicks.push({ items, options: pickOptions });
                return options.pick ? options.pick(items) : undefined;
            },
            async showInputBox(boxOptions) {
                world.inputBoxes.push(boxOptions);
                return options.input;
            },
            async showTextDocument(document, showOptions) {
                world.shownDocuments.push({ document, options: showOptions });
                return {};
            },
        },
        commands: {
            registerCommand(id, handler) {
                world.commands.set(id, handler);
                return { dispose: () => world.commands.delete(id) };
            },
            async executeCommand(id, ...args) {
                world.executed.push({ id, args });
                if (options.executeCommand && options.executeCommand(id, args, world) !== undefined) {
                    return options.executeCommand(id, args, world);
                }
                if (world.commands.has(id)) {
                    return world.commands.get(id)(...args);
                }
                return undefined;
            },
            async getCommands() {
                return [...world.commands.keys(), ...(options.externalCommands || [])];
            },
        },
        workspace: {
            workspaceFolders: options.workspaceFolder
                ? [{ uri: { fsPath: options.workspaceFolder, scheme: 'file' }, name: 'ws', index: 0 }]
                : undefined,
            getConfiguration(section) {
                world.configSections.push(section);
                return {
                    get(key, defaultValue) {
                        const all = settings();
                        return key in all ? all[key] : defaultValue;
                    },
                    // What the test's settings give is "set by the user" (globalValue).
                    inspect(key) {
                        const all = settings();
                        return { key, globalValue: key in all ? all[key] : undefined };
                    },
                };
            },
            registerTextDocumentContentProvider(scheme, provider) {
                world.contentProviders.set(scheme, provider);
                return { dispose: () => world.contentProviders.delete(scheme) };
            },
            onWillSaveTextDocument: willSave.event,
            onDidChangeConfiguration: configChanged.event,
            createFileSystemWatcher(glob) {
                const none = () => ({ dispose() {} });
                const watcher = { glob, disposed: false, dispose: () => (watcher.disposed = true), onDidCreate: none, onDidChange: none, onDidDelete: none };
                world.watchers.push(watcher);
                return watcher;
            },
            async openTextDocument(init) {
                // A Uri (virtual documents) or { language, content } (an Untitled one).
                const document = init && init.scheme ? { uri: init } : { ...init, uri: { scheme: 'untitled', toString: () => 'untitled:Untitled-1' } };
                world.openedDocuments.push(document);
                return document;
            },
        },
        extensions: {
            getExtension(id) {
                world.extensionLookups.push(id);
                return options.extensions ? options.extensions[id] : undefined;
            },
        },
        env: {
            clipboard: {
                async writeText(text) {
                    world.clipboard = text;
                },
            },
            async openExternal(uri) {
                world.openedExternal.push(uri.toString());
                return true;
            },
        },
    };

    /** Fires onWillSaveTextDocument; resolves to the edits the extension handed to waitUntil. */
    world.save = async (document) => {
        const waits = [];
        willSave.fire({ document, reason: 1, waitUntil: (thenable) => waits.push(thenable) });
        const results = await Promise.all(waits);
        return results.flat();
    };
    world.changeSettings = (newSettings) => {
        const before = settings();
        options.settings = newSettings;
        const keys = new Set([...Object.keys(before), ...Object.keys(newSettings)]);
        const changed = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(newSettings[k]));
        configChanged.fire({
            affectsConfiguration: (name) => changed.some((k) => name === 'hplint' || name === `hplint.${k}`),
        });
    };
    return vscode;
}

/** A fresh fake world plus the freshly loaded extension module (the compiled
 * out/extension.js, or with `bundle: true` the shipped dist/extension.js). */
function loadExtension(options = {}) {
    const world = {
        options,
        commands: new Map(),
        executed: [],
        messages: [],
        quickPicks: [],
        inputBoxes: [],
        openedDocuments: [],
        shownDocuments: [],
        openedExternal: [],
        outputChannels: [],
        statusBarItems: [],
        watchers: [],
        clients: [],
        configSections: [],
        extensionLookups: [],
        contentProviders: new Map(),
        clipboard: undefined,
    };
    world.vscode = makeVscode(world);
    world.lc = makeLanguageClientModule(world);
    current = world;
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(OUT_DIR)) {
            delete require.cache[key];
        }
    }
    delete require.cache[BUNDLE];
    world.extension = require(options.bundle ? BUNDLE : path.join(OUT_DIR, 'extension.js'));
    world.context = { subscriptions: [], extensionPath: options.extensionPath || path.resolve(__dirname, '..') };
    return world;
}

/**
 * An executable stand-in for Python: a shell script that answers the
 * extension's calls. `importable: false`: no hplint; `serverDeps: false`:
 * hplint without pygls/lsprotocol (its [server] extra). `-m pip install`
 * succeeds and installs the server's dependencies (state kept in a file).
 * `-m hplint server` runs `serverExit` (shell; default: exit 3 at once).
 */
function fakePython(dir, { importable = true, serverDeps = true, ruleMarkdown = '# HPL001 dropout-before-batchnorm\n', name = 'python', pipFails = false, serverExit = '' } = {}) {
    const file = path.join(dir, name);
    const log = path.join(dir, `${name}.calls`);
    const depsFile = path.join(dir, `${name}.deps-installed`);
    if (serverDeps) {
        fs.writeFileSync(depsFile, '');
    } else if (fs.existsSync(depsFile)) {
        fs.unlinkSync(depsFile);
    }
    const script = `#!/bin/sh
if [ "$1" = "-c" ]; then
  echo "-c <server check>" >> '${log}'
  ${importable ? '' : "echo 'HPLINT_CHECK {\"missing\": [\"hplint\"], \"errors\": [\"ModuleNotFoundError: No module named hplint\"]}'; exit 0"}
  if [ -f '${depsFile}' ]; then
    echo 'HPLINT_CHECK {"hplint": "0.1.0", "location": "/fake/hplint/__init__.py", "missing": [], "errors": []}'
  else
    echo 'HPLINT_CHECK {"hplint": "0.1.0", "location": "/fake/hplint/__init__.py", "missing": ["pygls", "lsprotocol"], "errors": ["ModuleNotFoundError: No module named pygls"]}'
  fi
  exit 0
fi
echo "$*" >> '${log}'
if [ "$1 $2 $3" = "-m hplint server" ]; then
  ${serverExit || 'exit 3'}
fi
if [ "$1 $2 $3" = "-m pip install" ]; then
  ${pipFails ? 'echo "ERROR: no network" >&2; exit 1' : `touch '${depsFile}'; echo "Successfully installed pygls lsprotocol"; exit 0`}
fi
if [ "$1 $2 $3" = "-m hplint rule" ]; then
  if [ "$4" = "HPL999" ]; then echo "unknown rule $4" >&2; exit 2; fi
  printf '%s' '${ruleMarkdown.replace(/'/g, "'\\''")}'
  printf '(code: %s)\\n' "$4"
  exit 0
fi
exit 3
`;
    fs.writeFileSync(file, script, { mode: 0o755 });
    return {
        path: file,
        calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []),
    };
}

function tempDir() {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'hplint-vscode-test-'));
}

async function waitFor(predicate, what = 'condition', timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

/** A fake ms-python.python extension whose active interpreter is `python`. */
function fakePythonExtension(python, { throws = false, active = false } = {}) {
    const changed = new EventEmitter();
    const extension = {
        isActive: active,
        activations: 0,
        async activate() {
            extension.activations += 1;
            extension.isActive = true;
            return extension.exports;
        },
        exports: {
            environments: {
                getActiveEnvironmentPath() {
                    if (throws) {
                        throw new Error('boom');
                    }
                    return { id: 'env', path: python };
                },
                async resolveEnvironment(env) {
                    return { executable: { uri: { fsPath: env.path } } };
                },
                onDidChangeActiveEnvironmentPath: changed.event,
            },
        },
        fireChange: (newPython) => {
            python = newPython;
            changed.fire({ id: 'env', path: newPython });
        },
    };
    return extension;
}

module.exports = { loadExtension, fakePython, fakePythonExtension, tempDir, waitFor, State, CloseAction, OUT_DIR, BUNDLE };
