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
    assert.deepEqual(Object.keys(props).sort(), ['hplint.ignore', 'hplint.interpreter', 'hplint.run', 'hplint.select', 'hplint.severity', 'hplint.trace.server']);
    assert.deepEqual(props['hplint.select'].default, []);
    assert.deepEqual(props['hplint.ignore'].default, []);
    assert.deepEqual(props['hplint.severity'].default, {});
    assert.equal(props['hplint.run'].default, 'onType');
    assert.deepEqual(props['hplint.run'].enum, ['onType', 'onSave']);
    assert.equal(props['hplint.interpreter'].default, '');
    assert.deepEqual(props['hplint.severity'].additionalProperties.enum, ['error', 'warning', 'info']);

    assert.equal(PACKAGE.main, './dist/extension.js');
    assert.equal(PACKAGE.devDependencies['@types/vscode'], PACKAGE.engines.vscode.replace(/^\^/, ''));
    assert.equal(PACKAGE.license, 'MIT');
    assert.ok(PACKAGE.repository);

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
    // The import check ran with the same interpreter before the server started.
    assert.deepEqual(python.calls(), ['-c import hplint']);
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
    assert.equal(options.synchronize.configurationSection, 'hplint');
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
        run: 'onSave',
    };
    const { world } = await activate({ settings });
    assert.deepEqual(world.clients[0].clientOptions.initializationOptions, {
        select: ['HPL001', 'HPL00'],
        ignore: ['HPL007'],
        severity: { HPL002: 'error', HPL003: 'info' },
        run: 'onSave',
    });
    assert.ok(world.configSections.includes('hplint'));
    await world.extension.deactivate();
});

test('initializationOptions defaults when nothing is set', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path } });
    assert.deepEqual(world.clients[0].clientOptions.initializationOptions, { select: [], ignore: [], severity: {}, run: 'onType' });
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
        assert.deepEqual(python3.calls(), ['-c import hplint']);
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

test('missing hplint: error message with its two actions, no client, error status', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world } = await activate({ settings: { interpreter: python.path } });
    await waitFor(() => world.messages.length > 0, 'the error message');

    assert.equal(world.clients.length, 0);
    const [message] = world.messages;
    assert.equal(message.level, 'error');
    assert.equal(message.message, `hplint is not installed in ${python.path}`);
    assert.deepEqual(message.items, ['How to install', 'Select Interpreter']);
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
    assert.ok(world.outputChannels[0].lines.some((l) => l.includes("No module named 'hplint'")));
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

test('missing hplint: "How to install" shows the pip command and can copy it', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const { world } = await activate({
        settings: { interpreter: python.path },
        answerError: () => 'How to install',
        answerInfo: () => 'Copy Command',
    });
    await waitFor(() => world.clipboard !== undefined, 'the clipboard');
    assert.equal(world.clipboard, `${python.path} -m pip install 'hplint[server]'`);
    const info = world.messages.find((m) => m.level === 'info');
    assert.ok(info.message.includes("pip install 'hplint[server]'"));
    await world.extension.deactivate();
});

test('an interpreter that does not exist counts as missing hplint', async () => {
    const { world } = await activate({ settings: { interpreter: '/nonexistent/bin/python' } });
    await waitFor(() => world.messages.length > 0, 'the error message');
    assert.equal(world.messages[0].message, 'hplint is not installed in /nonexistent/bin/python');
    assert.equal(world.clients.length, 0);
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
    assert.deepEqual(python.calls(), ['-c import hplint', '-c import hplint']);
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

test('a server that fails to start shows an error and the error status', async () => {
    const dir = tempDir();
    const python = fakePython(dir);
    const { world } = await activate({ settings: { interpreter: python.path }, clientStartFails: true });
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
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
        settings: { interpreter: python },
        pick: (items) => items.find((i) => i.label === 'HPL002'),
    });
    await world.vscode.commands.executeCommand('hplint.explainRule');

    const labels = world.quickPicks[0].items.map((i) => i.label);
    for (let n = 1; n <= 10; n++) {
        assert.ok(labels.includes(`HPL${String(n).padStart(3, '0')}`), `HPL${n} offered`);
    }
    assert.equal(world.openedDocuments.length, 1);
    assert.equal(world.openedDocuments[0].language, 'markdown');
    // The document is what `hplint rule HPL002` prints: the rule the user picked.
    const printed = execFileSync(python, ['-m', 'hplint', 'rule', 'HPL002'], { encoding: 'utf8' });
    assert.match(printed, /^# HPL002 bias-before-batchnorm\n/);
    assert.equal(world.openedDocuments[0].content, printed);
    const preview = world.executed.find((e) => e.id === 'markdown.showPreview');
    assert.equal(preview.args[0], world.openedDocuments[0].uri);
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
    await world.extension.deactivate();
});

test('explainRule: a failing `hplint rule` shows an error instead of a document', NEEDS_REAL_PYTHON, async () => {
    const python = realPython();
    const { world } = await activate({ settings: { interpreter: python } });
    await world.vscode.commands.executeCommand('hplint.explainRule', 'HPL999');
    assert.equal(world.openedDocuments.length, 0);
    assert.ok(world.messages.some((m) => m.level === 'error' && m.message.includes('HPL999')));
    // The output channel has the command's own reason (its exit status and stderr).
    const output = world.outputChannels[0].lines.join('\n');
    assert.match(output, /exit code 2/);
    assert.match(output, /unknown rule 'HPL999'/);
    await world.extension.deactivate();
});
