'use strict';
// The shipped bundle (dist/extension.js, built by `npm run build`): it must be
// self-contained (only `vscode` and Node built-ins are required at run time,
// because the .vsix carries no node_modules) and load with vscode-languageclient
// inside it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
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
