'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { loadExtension, fakePython, fakePythonExtension, tempDir, waitFor, State } = require('./fakes');

const PACKAGE = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
const COMMAND_IDS = ['hplint.restartServer', 'hplint.showOutput', 'hplint.explainRule'];

// A Python with hplint installed (`make test` passes the project's .venv): the
// tests of `hplint rule` check what the real command prints, not a fake's text.
const REAL_PYTHON = process.env.HPLINT_PYTHON;
const IN_CI = !['', '0', 'false', 'no'].includes((process.env.CI || '').toLowerCase());
const NEEDS_REAL_PYTHON = {
    skip: REAL_PYTHON || IN_CI ? false : 'HPLINT_PYTHON is not set to a Python with hplint (make test sets it)',
};
function realPython() {
    assert.ok(REAL_PYTHON, 'CI=true: HPLINT_PYTHON must name a Python with hplint installed');
    return REAL_PYTHON;
}

async function activate(options) {
    const world = loadExtension(options);
    const api = world.extension.activate(world.context);
    await api.ready();
    return { world, api };
}

test('activation registers the three commands, the output channel and the status bar item', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });

    assert.deepEqual([...world.commands.keys()].sort(), [...COMMAND_IDS].sort());
    assert.equal(world.outputChannels.length, 1);
    assert.equal(world.outputChannels[0].name, 'hplint');
    assert.equal(world.statusBarItems.length, 1);
    const item = world.statusBarItems[0];
    assert.equal(item.visible, true);
    assert.equal(item.command, 'hplint.showOutput');
    // Everything registered is disposed with the extension.
    assert.ok(world.context.subscriptions.length >= 6);
    await world.extension.deactivate();
});

test('package.json declares the same commands and settings the code uses', () => {
    const declared = PACKAGE.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, [...COMMAND_IDS].sort());
    const titles = Object.fromEntries(PACKAGE.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
    assert.equal(titles['hplint.restartServer'], 'hplint: Restart Server');
    assert.equal(titles['hplint.showOutput'], 'hplint: Show Output');
    assert.equal(titles['hplint.explainRule'], 'hplint: Explain Rule…');

    const props = PACKAGE.contributes.configuration.properties;
    assert.deepEqual(Object.keys(props).sort(), [
        'hplint.configuration', 'hplint.fixAll', 'hplint.ignore', 'hplint.importStrategy', 'hplint.interpreter', 'hplint.lint.run',
        'hplint.run', 'hplint.select', 'hplint.severity', 'hplint.showNotifications', 'hplint.trace.server',
    ]);
    assert.deepEqual(props['hplint.importStrategy'].enum, ['useBundled', 'fromEnvironment']);
    assert.deepEqual(props['hplint.showNotifications'].enum, ['off', 'onError', 'onWarning', 'always']);
    assert.equal(props['hplint.showNotifications'].default, 'off');
    assert.equal(props['hplint.fixAll'].default, false);
    assert.equal(props['hplint.configuration'].default, '');
    assert.ok(props['hplint.run'].deprecationMessage, 'hplint.run is the deprecated spelling of hplint.lint.run');
    assert.deepEqual(props['hplint.select'].default, []);
    assert.deepEqual(props['hplint.ignore'].default, []);
    assert.deepEqual(props['hplint.severity'].default, {});
    assert.equal(props['hplint.lint.run'].default, 'onType');
    assert.deepEqual(props['hplint.lint.run'].enum, ['onType', 'onSave']);
    assert.equal(props['hplint.interpreter'].default, '');
    assert.deepEqual(props['hplint.severity'].additionalProperties.enum, ['error', 'warning', 'info']);

    assert.equal(PACKAGE.main, './dist/extension.js');
    assert.equal(PACKAGE.devDependencies['@types/vscode'], PACKAGE.engines.vscode.replace(/^\^/, ''));
    assert.equal(PACKAGE.license, 'MIT');
    // No public repository exists yet: no link to nowhere (vsce packages with --allow-missing-repository).
    assert.equal(PACKAGE.repository, undefined);
    assert.ok(PACKAGE.scripts.package.includes('--allow-missing-repository'));

    // The README documents every setting and command.
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const name of [...Object.keys(props), ...COMMAND_IDS]) {
        assert.ok(readme.includes(`| \`${name}\` |`), `README table row for ${name}`);
    }
});

test('the server command is [interpreter, -m, hplint, server] over stdio', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path }, workspaceFolder: dir });

    assert.equal(world.clients.length, 1);
    const client = world.clients[0];
    assert.equal(client.id, 'hplint');
    const { command, args, transport } = client.serverOptions;
    assert.deepEqual([command, ...args], [python.path, '-m', 'hplint', 'server']);
    // A transport would make languageclient append `--stdio` to the arguments.
    assert.equal(transport, undefined);
    assert.equal(client.serverOptions.options.cwd, dir);
    assert.deepEqual(client.calls, ['start']);
    // The server check ran with the same interpreter before the server started.
    assert.deepEqual(python.calls(), ['-c <server check>']);
    await world.extension.deactivate();
});

test('client options: document selector, configuration sync and pyproject.toml watcher', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    const options = world.clients[0].clientOptions;
    assert.deepEqual(options.documentSelector, [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
        { notebook: 'jupyter-notebook', language: 'python' },
        { scheme: 'file', language: 'yaml' },
        { scheme: 'file', language: 'json' },
    ]);
    // Settings changes go out as sendSettings() builds them, not as the raw section.
    assert.equal(options.synchronize.configurationSection, undefined);
    assert.deepEqual(options.markdown, { isTrusted: { enabledCommands: ['hplint.explainRule'] } });
    assert.equal(world.watchers.length, 1);
    assert.equal(world.watchers[0].glob, '**/pyproject.toml');
    assert.equal(options.synchronize.fileEvents, world.watchers[0]);
    assert.equal(options.outputChannel, world.outputChannels[0]);
    await world.extension.deactivate();
});

test('initializationOptions mirror the settings', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const settings = {
        interpreter: python.path,
        select: ['HPL001', 'HPL00'],
        ignore: ['HPL007'],
        severity: { HPL002: 'error', HPL003: 'info' },
        'lint.run': 'onSave',
        configuration: '${workspaceFolder}/ci/hplint.toml',
    };
    const { world } = await activate({ settings, workspaceFolder: dir });
    assert.deepEqual(world.clients[0].clientOptions.initializationOptions, {
        select: ['HPL001', 'HPL00'],
        ignore: ['HPL007'],
        severity: { HPL002: 'error', HPL003: 'info' },
        run: 'onSave',
        configuration: path.join(dir, 'ci', 'hplint.toml'),
        explainCommand: 'hplint.explainRule',
    });
    assert.ok(world.configSections.includes('hplint'));
    await world.extension.deactivate();
});

test('initializationOptions defaults when nothing is set', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    assert.deepEqual(world.clients[0].clientOptions.initializationOptions,
        { select: [], ignore: [], severity: {}, run: 'onType', configuration: null, explainCommand: 'hplint.explainRule' });
    await world.extension.deactivate();
});

test('interpreter: the setting wins over the Python extension', async () => {
    const dir = tempDir();
    const fromSetting = fakePython(dir, { name: 'python-setting' });
    const fromExtension = fakePython(dir, { name: 'python-ext' });
    const extension = fakePythonExtension(fromExtension.path);
    const { world, api } = await activate({
        settings: { interpreter: fromSetting.path },
        extensions: { 'ms-python.python': extension },
    });
    assert.equal(api.interpreter(), fromSetting.path);
    assert.equal(world.clients[0].serverOptions.command, fromSetting.path);
    assert.deepEqual(fromExtension.calls(), []);
    await world.extension.deactivate();
});

test('interpreter: the Python extension when the setting is empty', async () => {
    const dir = tempDir();
    const fromExtension = fakePython(dir, { name: 'python-ext' });
    const extension = fakePythonExtension(fromExtension.path);
    const { world, api } = await activate({
        settings: { interpreter: '' },
        extensions: { 'ms-python.python': extension },
    });
    assert.equal(extension.activations, 1);
    assert.equal(api.interpreter(), fromExtension.path);
    assert.equal(world.clients[0].serverOptions.command, fromExtension.path);
    await world.extension.deactivate();
});

test('interpreter: python3 when neither the setting nor the Python extension gives one', async () => {
    const dir = tempDir();
    const python3 = fakePython(dir, { name: 'python3' });
    const savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    try {
        const { world, api } = await activate({ settings: {} });
        assert.equal(api.interpreter(), 'python3');
        assert.deepEqual([world.clients[0].serverOptions.command, ...world.clients[0].serverOptions.args], ['python3', '-m', 'hplint', 'server']);
        assert.deepEqual(python3.calls(), ['-c <server check>']);
        await world.extension.deactivate();
    } finally {
        process.env.PATH = savedPath;
    }
});

test('interpreter: a failing Python extension falls back to python3', async () => {
    const dir = tempDir();
    fakePython(dir, { name: 'python3' });
    const savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    try {
        const extension = fakePythonExtension('/nowhere/python', { throws: true });
        const { world, api } = await activate({ settings: {}, extensions: { 'ms-python.python': extension } });
        assert.equal(api.interpreter(), 'python3');
        assert.equal(world.clients.length, 1);
        assert.ok(world.outputChannels[0].lines.some((l) => l.includes('boom')));
        await world.extension.deactivate();
    } finally {
        process.env.PATH = savedPath;
    }
});

test('missing hplint: one error message with its actions, no client, error status', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world, api } = await activate({ settings: { interpreter: python.path } });
    await waitFor(() => world.messages.length > 0, 'the error message');

    assert.equal(world.clients.length, 0);
    const [message] = world.messages;
    assert.equal(message.level, 'error');
    assert.match(message.message, new RegExp(`^hplint is not installed in ${python.path}\\. Install it from a checkout of hplint \\(.* -m pip install -e '/path/to/hplint\\[server\\]'\\)`));
    assert.deepEqual(message.items, ['Select Interpreter', 'Open docs']);
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
    assert.match(world.statusBarItems[0].tooltip, /hplint is not installed in/);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes('No module named hplint')));
    // A restart with the same problem does not notify again.
    await world.vscode.commands.executeCommand('hplint.restartServer');
    await api.ready();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(world.messages.length, 1);
    await world.extension.deactivate();
});

test('missing hplint: "Select Interpreter" runs python.setInterpreter when it exists', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world } = await activate({
        settings: { interpreter: python.path },
        externalCommands: ['python.setInterpreter'],
        answerError: (message, items) => (items.includes('Select Interpreter') ? 'Select Interpreter' : undefined),
    });
    await waitFor(() => world.executed.some((e) => e.id === 'python.setInterpreter'), 'python.setInterpreter');
    await world.extension.deactivate();
});

test('missing hplint: "Select Interpreter" opens the setting without the Python extension', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world } = await activate({
        settings: { interpreter: python.path },
        answerError: () => 'Select Interpreter',
    });
    await waitFor(() => world.executed.some((e) => e.id === 'workbench.action.openSettings'), 'openSettings');
    const call = world.executed.find((e) => e.id === 'workbench.action.openSettings');
    assert.deepEqual(call.args, ['hplint.interpreter']);
    assert.ok(!world.executed.some((e) => e.id === 'python.setInterpreter'));
    await world.extension.deactivate();
});

test('missing hplint: "Open docs" previews the README shipped in the extension (no web link)', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world } = await activate({ settings: { interpreter: python.path }, answerError: () => 'Open docs' });
    await waitFor(() => world.executed.some((e) => e.id === 'markdown.showPreview'), 'the README preview');
    const preview = world.executed.find((e) => e.id === 'markdown.showPreview');
    assert.equal(preview.args[0].fsPath, path.join(world.context.extensionPath, 'README.md'));
    assert.ok(fs.existsSync(preview.args[0].fsPath));
    assert.deepEqual(world.openedExternal, []);
    await world.extension.deactivate();
});

test('hplint without its [server] extra: one notification naming pygls, and Install runs pip there, then starts', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { serverDeps: false });
    const { world, api } = await activate({
        settings: { interpreter: python.path },
        answerError: (message, items) => (items.includes('Install in the selected interpreter') ? 'Install in the selected interpreter' : undefined),
    });
    await waitFor(() => world.clients.length === 1, 'the server after pip');
    await api.ready();
    assert.equal(world.messages.length, 1);
    const [message] = world.messages;
    assert.match(message.message, new RegExp(`^hplint's language server needs pygls and lsprotocol, missing in ${python.path}\\.`));
    assert.match(message.message, /pip install 'pygls>=2.0,<3' 'lsprotocol>=2023.0.1'/);
    assert.deepEqual(message.items, ['Install in the selected interpreter', 'Select Interpreter', 'Open docs']);
    assert.deepEqual(python.calls(), ['-c <server check>', '-m pip install pygls>=2.0,<3 lsprotocol>=2023.0.1', '-c <server check>']);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes('Successfully installed pygls lsprotocol')));
    assert.equal(world.statusBarItems[0].text, '$(check) hplint');
    await world.extension.deactivate();
});

test('a failing pip says so once and leaves the server stopped', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { serverDeps: false, pipFails: true });
    const { world } = await activate({
        settings: { interpreter: python.path },
        answerError: (message, items) => (items.includes('Install in the selected interpreter') ? 'Install in the selected interpreter' : undefined),
    });
    await waitFor(() => world.messages.length === 2, 'the pip failure');
    assert.match(world.messages[1].message, /pip could not install/);
    assert.equal(world.clients.length, 0);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes('ERROR: no network')));
    await world.extension.deactivate();
});

test('a workspace that does not use hplint: missing hplint stays in the status bar until a command runs', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "x"\n\n[tool.ruff]\n');
    const python = fakePython(dir, { importable: false, name: 'python3' });
    const savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    try {
        const { world, api } = await activate({ settings: {}, workspaceFolder: dir });
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(world.messages, []);
        assert.equal(world.statusBarItems[0].text, '$(error) hplint');
        assert.match(world.statusBarItems[0].tooltip, /hplint is not installed in python3/);
        assert.ok(world.outputChannels[0].lines.some((l) => l.includes('does not configure hplint')));
        // The user asks for hplint: now the problem is worth one notification.
        await world.vscode.commands.executeCommand('hplint.restartServer');
        await api.ready();
        await waitFor(() => world.messages.length === 1, 'the notification after the command');
        assert.match(world.messages[0].message, /^hplint is not installed in python3/);
        assert.deepEqual(python.calls(), ['-c <server check>', '-c <server check>']);
        await world.extension.deactivate();
    } finally {
        process.env.PATH = savedPath;
    }
});

for (const [what, file, text] of [
    ['[tool.hplint] in pyproject.toml', 'pyproject.toml', '[project]\nname = "x"\n\n[tool.hplint]\nignore = ["HPL007"]\n'],
    ['[tool.hplint.rules.HPL006] in pyproject.toml', 'pyproject.toml', '[tool.hplint.rules.HPL006]\nmax-batch-size = 64\n'],
    ['hplint.toml', 'hplint.toml', 'select = ["ALL"]\n'],
]) {
    test(`a workspace with ${what} is told at once that hplint is missing`, async () => {
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, file), text);
        fakePython(dir, { importable: false, name: 'python3' });
        const savedPath = process.env.PATH;
        process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
        try {
            const { world } = await activate({ settings: {}, workspaceFolder: dir });
            await waitFor(() => world.messages.length === 1, 'the notification');
            await world.extension.deactivate();
        } finally {
            process.env.PATH = savedPath;
        }
    });
}

test('an interpreter that does not exist: one message saying so', async () => {
    const { world } = await activate({ settings: { interpreter: '/nonexistent/bin/python' } });
    await waitFor(() => world.messages.length > 0, 'the error message');
    assert.equal(world.messages[0].message, 'hplint: the interpreter /nonexistent/bin/python was not found.');
    assert.deepEqual(world.messages[0].items, ['Select Interpreter', 'Show Output']);
    assert.equal(world.clients.length, 0);
    await world.extension.deactivate();
});

test('the server exiting for a missing dependency is not restarted, and is reported once', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    const client = world.clients[0];
    fakePython(dir, { serverDeps: false }); // pygls uninstalled under the running server
    for (let i = 0; i < 5; i++) {
        const result = await client.serverExited();
        assert.equal(result.action, world.lc.CloseAction.DoNotRestart);
        assert.equal(result.handled, true, 'languageclient shows no message of its own');
    }
    await waitFor(() => world.messages.length > 0, 'the notification');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(world.messages.length, 1);
    assert.match(world.messages[0].message, /needs pygls and lsprotocol/);
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
    await world.extension.deactivate();
});

test('a crashing server is restarted twice, then stays down with one message (showNotifications onError)', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path, showNotifications: 'onError' } });
    const client = world.clients[0];
    const actions = [];
    for (let i = 0; i < 4; i++) {
        actions.push((await client.serverExited()).action);
    }
    const { Restart, DoNotRestart } = world.lc.CloseAction;
    assert.deepEqual(actions, [Restart, Restart, DoNotRestart, DoNotRestart]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(world.messages.map((m) => m.message), [
        'hplint: the server keeps crashing and was stopped; see the output.',
        'hplint: the server keeps crashing and was stopped; see the output.',
    ].slice(0, world.messages.length));
    assert.ok(world.messages.length >= 1);
    // An error while reading/writing never shuts the client down by itself.
    assert.deepEqual(client.clientOptions.errorHandler.error(new Error('x'), undefined, 1), { action: world.lc.ErrorAction.Continue, handled: true });
    assert.equal(client.clientOptions.initializationFailedHandler(new Error('boom')), false);
    await world.extension.deactivate();
});

test("showNotifications filters the server's window/showMessage; everything is logged", async () => {
    for (const [level, shown] of [['off', []], ['onError', ['bad']], ['onWarning', ['bad', 'careful']], ['always', ['bad', 'careful', 'fyi']]]) {
        const dir = tempDir();
        const python = fakePython(dir);
        const { world } = await activate({ settings: { interpreter: python.path, showNotifications: level } });
        const handler = world.clients[0].notificationHandlers.get('window/showMessage');
        handler({ type: 1, message: 'bad' });
        handler({ type: 2, message: 'careful' });
        handler({ type: 3, message: 'fyi' });
        handler({ type: 4, message: 'log' });
        assert.deepEqual(world.messages.map((m) => m.message), shown, level);
        assert.ok(['bad', 'careful', 'fyi', 'log'].every((m) => world.outputChannels[0].lines.some((l) => l.includes(`server: ${m}`))));
        await world.extension.deactivate();
    }
});

test('settings changes are sent as didChangeConfiguration in the initializationOptions shape; importStrategy restarts', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world, api } = await activate({ settings: { interpreter: python.path }, workspaceFolder: dir });
    world.changeSettings({ interpreter: python.path, configuration: 'ci/hplint.toml', 'lint.run': 'onSave' });
    await api.ready();
    assert.equal(world.clients.length, 1);
    assert.deepEqual(world.clients[0].sentNotifications, [{
        method: 'workspace/didChangeConfiguration',
        params: { settings: { hplint: { select: [], ignore: [], severity: {}, run: 'onSave', configuration: path.join(dir, 'ci', 'hplint.toml'), explainCommand: 'hplint.explainRule' } } },
    }]);
    world.changeSettings({ interpreter: python.path, importStrategy: 'fromEnvironment' });
    await api.ready();
    assert.equal(world.clients.length, 2);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes('importStrategy fromEnvironment')));
    await world.extension.deactivate();
});

test('importStrategy useBundled: bundled/libs goes on PYTHONPATH for the check and the server; without it, a clear fallback', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    let { world } = await activate({ settings: { interpreter: python.path }, extensionPath: dir });
    assert.equal(world.clients[0].serverOptions.options.env, undefined);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes('carries no bundled hplint') && l.includes(python.path)));
    await world.extension.deactivate();

    const libs = path.join(dir, 'bundled', 'libs');
    fs.mkdirSync(path.join(libs, 'hplint'), { recursive: true });
    fs.writeFileSync(path.join(libs, 'hplint', '__init__.py'), '');
    ({ world } = await activate({ settings: { interpreter: python.path }, extensionPath: dir }));
    assert.equal(world.clients[0].serverOptions.options.env.PYTHONPATH.split(path.delimiter)[0], libs);
    await world.extension.deactivate();

    ({ world } = await activate({ settings: { interpreter: python.path, importStrategy: 'fromEnvironment' }, extensionPath: dir }));
    assert.equal(world.clients[0].serverOptions.options.env, undefined);
    await world.extension.deactivate();
});

test('hplint.fixAll: saving a Python file applies the source.fixAll.hplint edits; off by default', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const edit = { newText: 'bias=False' };
    const document = {
        languageId: 'python',
        uri: { toString: () => 'file:///x.py' },
        lineCount: 3,
        lineAt: () => ({ range: { end: { line: 2, character: 4 } } }),
    };
    const executeCommand = (id, args) => {
        if (id !== 'vscode.executeCodeActionProvider') return undefined;
        assert.equal(args[0], document.uri);
        assert.equal(args[2], 'source.fixAll.hplint');
        assert.deepEqual([args[1].start.line, args[1].end.line, args[1].end.character], [0, 2, 4]);
        return Promise.resolve([{ kind: { value: 'source.fixAll.hplint' }, edit: { get: (uri) => (uri === document.uri ? [edit] : []) } }]);
    };
    let { world } = await activate({ settings: { interpreter: python.path }, executeCommand });
    assert.deepEqual(await world.save(document), []);
    await world.extension.deactivate();
    ({ world } = await activate({ settings: { interpreter: python.path, fixAll: true }, executeCommand }));
    assert.deepEqual(await world.save(document), [edit]);
    assert.deepEqual(await world.save({ ...document, languageId: 'yaml' }), []);
    await world.extension.deactivate();
});

test('restart command stops the client and starts a new one', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world, api } = await activate({ settings: { interpreter: python.path } });
    assert.equal(world.clients.length, 1);

    await world.vscode.commands.executeCommand('hplint.restartServer');
    await api.ready();
    assert.equal(world.clients.length, 2);
    assert.deepEqual(world.clients[0].calls, ['start', 'stop']);
    assert.deepEqual(world.clients[1].calls, ['start']);
    assert.equal(world.statusBarItems[0].text, '$(check) hplint');
    // The import check runs again on restart.
    assert.deepEqual(python.calls(), ['-c <server check>', '-c <server check>']);
    await world.extension.deactivate();
    assert.deepEqual(world.clients[1].calls, ['start', 'stop']);
});

test('restart after installing hplint starts the server', async () => {
    const dir = tempDir();
    fakePython(dir, { importable: false });
    const { world, api } = await activate({ settings: { interpreter: path.join(dir, 'python') } });
    assert.equal(world.clients.length, 0);
    fakePython(dir, { importable: true });
    await world.vscode.commands.executeCommand('hplint.restartServer');
    await api.ready();
    assert.equal(world.clients.length, 1);
    await world.extension.deactivate();
});

test('changing hplint.interpreter restarts with the new interpreter; other settings do not restart', async () => {
    const dir = tempDir();
    const first = fakePython(dir, { name: 'python-a' });
    const second = fakePython(dir, { name: 'python-b' });
    const { world, api } = await activate({ settings: { interpreter: first.path } });

    world.changeSettings({ interpreter: first.path, select: ['HPL001'] });
    await api.ready();
    assert.equal(world.clients.length, 1, 'select is sent to the server, not a restart');

    world.changeSettings({ interpreter: second.path, select: ['HPL001'] });
    await api.ready();
    assert.equal(world.clients.length, 2);
    assert.deepEqual(world.clients[0].calls, ['start', 'stop']);
    assert.equal(world.clients[1].serverOptions.command, second.path);
    await world.extension.deactivate();
});

test('the Python extension switching interpreters restarts the server when the setting is empty', async () => {
    const dir = tempDir();
    const a = fakePython(dir, { name: 'python-a' });
    const b = fakePython(dir, { name: 'python-b' });
    const extension = fakePythonExtension(a.path);
    const { world, api } = await activate({ settings: {}, extensions: { 'ms-python.python': extension } });
    assert.equal(world.clients[0].serverOptions.command, a.path);
    extension.fireChange(b.path);
    await waitFor(() => world.clients.length === 2, 'the restart');
    await api.ready();
    assert.equal(world.clients[1].serverOptions.command, b.path);
    await world.extension.deactivate();
});

test('status bar follows the client state', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    const item = world.statusBarItems[0];
    assert.equal(item.text, '$(check) hplint');
    assert.ok(item.history.includes('$(sync~spin) hplint'));
    world.clients[0].setState(State.Starting);
    assert.equal(item.text, '$(sync~spin) hplint');
    world.clients[0].setState(State.Stopped);
    assert.equal(item.text, '$(error) hplint');
    world.clients[0].setState(State.Running);
    assert.equal(item.text, '$(check) hplint');
    await world.extension.deactivate();
});

test('a server that fails to start: the error status; a notification only with showNotifications', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    let { world } = await activate({ settings: { interpreter: python.path }, clientStartFails: true });
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
    assert.deepEqual(world.messages, []);
    await world.extension.deactivate();
    ({ world } = await activate({ settings: { interpreter: python.path, showNotifications: 'onError' }, clientStartFails: true }));
    await waitFor(() => world.messages.length > 0, 'the error message');
    assert.match(world.messages[0].message, /failed to start/);
    await world.extension.deactivate();
});

test('showOutput shows the output channel (and the status bar item runs it)', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    await world.vscode.commands.executeCommand(world.statusBarItems[0].command);
    assert.equal(world.outputChannels[0].shown, 1);
    await world.extension.deactivate();
});

test('explainRule: quick pick of HPL001…HPL010, runs the real `hplint rule`, opens its Markdown', NEEDS_REAL_PYTHON, async () => {
    const python = realPython();
    const { world } = await activate({
        settings: { interpreter: python, importStrategy: 'fromEnvironment' },
        pick: (items) => items.find((i) => i.label === 'HPL002'),
    });
    await world.vscode.commands.executeCommand('hplint.explainRule');

    const labels = world.quickPicks[0].items.map((i) => i.label);
    for (let n = 1; n <= 10; n++) {
        assert.ok(labels.includes(`HPL${String(n).padStart(3, '0')}`), `HPL${n} offered`);
    }
    // A read-only virtual document (no dirty Untitled tab) in the Markdown preview.
    assert.deepEqual(world.openedDocuments, []);
    const preview = world.executed.find((e) => e.id === 'markdown.showPreview');
    assert.equal(preview.args[0].toString(), 'hplint-rule:/HPL002.md');
    // Its text is what `hplint rule HPL002` prints: the rule the user picked.
    const printed = execFileSync(python, ['-m', 'hplint', 'rule', 'HPL002'], { encoding: 'utf8' });
    assert.match(printed, /^# HPL002 bias-before-batchnorm\n/);
    const provider = world.contentProviders.get('hplint-rule');
    assert.equal(await provider.provideTextDocumentContent(preview.args[0]), printed);
    // The quick pick shows each rule's summary line from the catalogue.
    assert.equal(world.quickPicks[0].items.find((i) => i.label === 'HPL002').detail, 'A biased Linear/Conv layer that feeds BatchNorm directly');
    await world.extension.deactivate();
});

test('explainRule: typed code through the input box, and a code argument', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({
        settings: { interpreter: python.path },
        pick: (items) => items[items.length - 1],
        input: 'hpl7',
    });
    await world.vscode.commands.executeCommand('hplint.explainRule');
    assert.equal(world.inputBoxes.length, 1);
    assert.equal(world.inputBoxes[0].validateInput('nope'), 'A rule code looks like HPL001');
    assert.equal(world.inputBoxes[0].validateInput('HPL010'), undefined);
    assert.ok(python.calls().includes('-m hplint rule HPL007'));

    await world.vscode.commands.executeCommand('hplint.explainRule', 'HPL005');
    assert.ok(python.calls().includes('-m hplint rule HPL005'));
    assert.equal(world.quickPicks.length, 1, 'no quick pick when a code is passed');
    // Opening it again (the hover's "Explain rule" link) reuses the text; the provider serves it.
    await world.vscode.commands.executeCommand('hplint.explainRule', 'HPL005');
    assert.equal(python.calls().filter((c) => c === '-m hplint rule HPL005').length, 1);
    const text = await world.contentProviders.get('hplint-rule').provideTextDocumentContent(world.vscode.Uri.parse('hplint-rule:/HPL005.md'));
    assert.match(text, /\(code: HPL005\)/);
    await world.extension.deactivate();
});

test('explainRule: a failing `hplint rule` shows an error instead of a document', NEEDS_REAL_PYTHON, async () => {
    const python = realPython();
    const { world } = await activate({ settings: { interpreter: python } });
    await world.vscode.commands.executeCommand('hplint.explainRule', 'HPL999');
    assert.equal(world.openedDocuments.length, 0);
    assert.ok(!world.executed.some((e) => e.id === 'markdown.showPreview'));
    assert.ok(world.messages.some((m) => m.level === 'error' && m.message.includes('HPL999')));
    // The output channel has the command's own reason (its exit status and stderr).
    const output = world.outputChannels[0].lines.join('\n');
    assert.match(output, /exit code 2/);
    assert.match(output, /unknown rule 'HPL999'/);
    await world.extension.deactivate();
});

// After `npm run bundle-libs` (opt-in: it downloads hplint's dependencies), a
// Python without hplint runs the bundled one. Skipped without bundled/libs.
const BUNDLED_LIBS = path.join(__dirname, '..', 'bundled', 'libs');
const BARE_PYTHON = process.env.HPLINT_BARE_PYTHON || '/usr/bin/python3';
function bareSkip() {
    if (!fs.existsSync(path.join(BUNDLED_LIBS, 'hplint', '__init__.py'))) {
        return 'no bundled/libs (npm run bundle-libs fills it)';
    }
    try {
        execFileSync(BARE_PYTHON, ['-c', 'import hplint'], { stdio: 'ignore', cwd: '/' });
        return `${BARE_PYTHON} has hplint itself`;
    } catch (error) {
        return error.code === 'ENOENT' ? `no ${BARE_PYTHON}` : false;
    }
}

test('useBundled with bundled/libs: a Python without hplint passes the real server check and gets PYTHONPATH', { skip: bareSkip() }, async () => {
    const dir = tempDir();
    let { world, api } = await activate({ settings: { interpreter: BARE_PYTHON }, workspaceFolder: dir });
    assert.equal(api.interpreter(), BARE_PYTHON);
    assert.equal(world.clients.length, 1, world.outputChannels[0].lines.join('\n'));
    assert.equal(world.clients[0].serverOptions.options.env.PYTHONPATH.split(path.delimiter)[0], BUNDLED_LIBS);
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes(`from ${path.join(BUNDLED_LIBS, 'hplint', '__init__.py')}`)));
    await world.extension.deactivate();
    // fromEnvironment: the same Python has no hplint of its own.
    ({ world } = await activate({ settings: { interpreter: BARE_PYTHON, importStrategy: 'fromEnvironment' }, workspaceFolder: dir }));
    await waitFor(() => world.messages.length === 1, 'the missing-hplint message');
    assert.match(world.messages[0].message, /^hplint is not installed in/);
    assert.equal(world.clients.length, 0);
    await world.extension.deactivate();
});
