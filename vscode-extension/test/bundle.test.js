'use strict';
// The shipped bundle (dist/extension.js, built by `npm run build`): it must be
// self-contained (only `vscode` and Node built-ins are required at run time,
// because the .vsix carries no node_modules) and load with vscode-languageclient
// inside it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const Module = require('module');
const path = require('path');

const BUNDLE = path.resolve(__dirname, '..', 'dist', 'extension.js');

test('the bundle requires only vscode and Node built-ins', () => {
    const source = fs.readFileSync(BUNDLE, 'utf8');
    const required = new Set([...source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
    assert.ok(required.has('vscode'));
    const builtins = new Set(Module.builtinModules);
    const others = [...required].filter((name) => name !== 'vscode' && !builtins.has(name.replace(/^node:/, '')));
    assert.deepEqual(others, []);
});

// A stand-in for the whole `vscode` API: every property is another stand-in,
// callable and constructible, so the real languageclient code can load.
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

test('the bundle loads and exports activate/deactivate', () => {
    const originalLoad = Module._load;
    Module._load = function load(request, parent, isMain) {
        if (request === 'vscode' && parent && parent.filename === BUNDLE) {
            return anything('vscode');
        }
        return originalLoad.call(this, request, parent, isMain);
    };
    try {
        delete require.cache[BUNDLE];
        const extension = require(BUNDLE);
        assert.equal(typeof extension.activate, 'function');
        assert.equal(typeof extension.deactivate, 'function');
    } finally {
        Module._load = originalLoad;
        delete require.cache[BUNDLE];
    }
});
