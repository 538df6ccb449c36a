'use strict';
// The shipped bundle (dist/extension.js, built by `npm run build`): it must be
// self-contained (only `vscode` and Node built-ins are required at run time,
// because the .vsix carries no node_modules) and load with vscode-languageclient
// inside it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const Module = require('module');

const { BUNDLE, fakePython, loadExtension, tempDir, waitFor } = require('./fakes');

test('the bundle requires only vscode and Node built-ins', () => {
    const source = fs.readFileSync(BUNDLE, 'utf8');
    const required = new Set([...source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
    assert.ok(required.has('vscode'));
    const builtins = new Set(Module.builtinModules);
    const others = [...required].filter((name) => name !== 'vscode' && !builtins.has(name.replace(/^node:/, '')));
    assert.deepEqual(others, []);
});

test('the bundle activates against the vscode API: commands, status and the missing-hplint message', async () => {
    const dir = tempDir();
    const python = fakePython(dir, { importable: false });
    const world = loadExtension({ bundle: true, settings: { interpreter: python.path } });
    const api = world.extension.activate(world.context);
    await api.ready();
    await waitFor(() => world.messages.length > 0, 'the error message');

    assert.equal(typeof world.extension.deactivate, 'function');
    assert.equal(api.interpreter(), python.path);
    assert.deepEqual([...world.commands.keys()].sort(), ['hplint.explainRule', 'hplint.restartServer', 'hplint.showOutput']);
    assert.equal(world.messages.length, 1);
    assert.match(world.messages[0].message, new RegExp(`^hplint is not installed in ${python.path}\\.`));
    assert.equal(world.statusBarItems[0].text, '$(error) hplint');
    assert.deepEqual(python.calls(), ['-c <server check>']);
    await world.extension.deactivate();
});

test('the real languageclient in the bundle: a server that crashes after initialize starts 3 times, then stays down with one message', async () => {
    // The fake Python passes the server check; its `-m hplint server` answers
    // `initialize` and crashes 200 ms later. languageclient's own handler would
    // restart it 4 times and show its toasts; the extension's allows two restarts
    // and shows one message.
    {
        const dir = tempDir();
        const server = path.join(dir, 'crashing-server.js');
        fs.writeFileSync(server, `
let buffer = Buffer.alloc(0);
let crashing = false;
const send = (message) => {
    const body = JSON.stringify(message);
    process.stdout.write('Content-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
};
process.stdin.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
        const header = buffer.indexOf('\\r\\n\\r\\n');
        if (header < 0) return;
        const length = Number(/Content-Length: (\\d+)/i.exec(buffer.slice(0, header).toString())[1]);
        if (buffer.length < header + 4 + length) return;
        const message = JSON.parse(buffer.slice(header + 4, header + 4 + length).toString());
        buffer = buffer.slice(header + 4 + length);
        if (message.id !== undefined && message.method) {
            send({ jsonrpc: '2.0', id: message.id, result: message.method === 'initialize' ? { capabilities: {} } : null });
        }
        if (message.method === 'initialized' && !crashing) {
            crashing = true;
            setTimeout(() => process.exit(1), 300);
        }
    }
});
`);
        const python = fakePython(dir, { serverExit: `exec '${process.execPath}' '${server}'` });
        const world = loadExtension({ bundle: true, settings: { interpreter: python.path, showNotifications: 'onError' } });
        const api = world.extension.activate(world.context);
        await api.ready();
        const log = () => world.outputChannels[0].lines.join('\n');
        await waitFor(() => /exited 3 times in three minutes; not restarting/.test(log()), 'the handler giving up', 20000)
            .catch((error) => { throw new Error(`${error.message}\n${log()}\n${python.calls().join(' | ')}`); });
        await new Promise((resolve) => setTimeout(resolve, 1500)); // a loop would spawn again by now
        assert.equal(python.calls().filter((c) => c === '-m hplint server').length, 3);
        assert.deepEqual(world.messages.map((m) => m.message), ['hplint: the server keeps crashing and was stopped; see the output.']);
        assert.equal(world.statusBarItems[0].text, '$(error) hplint');
        await world.extension.deactivate();
    }
});
