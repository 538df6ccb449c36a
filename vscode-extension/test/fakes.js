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
            world.clients.push(this);
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
        TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 },
        RevealOutputChannelOn: { Debug: 0, Info: 1, Warn: 2, Error: 3, Never: 4 },
    };
}

function makeVscode(world) {
    const options = world.options;
    const configChanged = new EventEmitter();

    const settings = () => ({ ...(options.settings || {}) });

    const vscode = {
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
        Uri: {
            parse: (value) => ({ scheme: value.split(':')[0], toString: () => value, fsPath: value }),
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
            async showTextDocument(document) {
                world.shownDocuments.push(document);
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
                };
            },
            onDidChangeConfiguration: configChanged.event,
            createFileSystemWatcher(glob) {
                const watcher = { glob, disposed: false, dispose: () => (watcher.disposed = true) };
                world.watchers.push(watcher);
                return watcher;
            },
            async openTextDocument(init) {
                const document = { ...init, uri: { scheme: 'untitled', toString: () => 'untitled:Untitled-1' } };
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
    world.context = { subscriptions: [] };
    return world;
}

/** An executable stand-in for Python: a shell script that answers the extension's calls. */
function fakePython(dir, { importable = true, ruleMarkdown = '# HPL001 dropout-before-batchnorm\n', name = 'python' } = {}) {
    const file = path.join(dir, name);
    const log = path.join(dir, `${name}.calls`);
    const script = `#!/bin/sh
echo "$*" >> '${log}'
if [ "$1" = "-c" ]; then
  ${importable ? 'exit 0' : "echo \"ModuleNotFoundError: No module named 'hplint'\" >&2; exit 1"}
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

module.exports = { loadExtension, fakePython, fakePythonExtension, tempDir, waitFor, State, OUT_DIR, BUNDLE };
