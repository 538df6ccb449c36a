'use strict';
// The vscode-free modules, tested on their own.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const { OUT_DIR, fakePythonExtension } = require('./fakes');
const { resolveInterpreter, expandInterpreterPath, DEFAULT_PYTHON } = require(path.join(OUT_DIR, 'interpreter.js'));
const { readInitializationOptions } = require(path.join(OUT_DIR, 'settings.js'));
const { normaliseRuleCode, RULES } = require(path.join(OUT_DIR, 'rules.js'));

const config = (values) => ({ get: (key) => values[key] });

test('resolveInterpreter: setting > Python extension > python3', async () => {
    const extension = fakePythonExtension('/envs/a/bin/python');
    const getPythonExtension = () => extension;

    assert.deepEqual(await resolveInterpreter({ configured: '/usr/bin/python3.11', getPythonExtension }), {
        python: '/usr/bin/python3.11',
        source: 'setting',
    });
    assert.equal(extension.activations, 0, 'the Python extension is not even activated when the setting is set');

    assert.deepEqual(await resolveInterpreter({ configured: '', getPythonExtension }), {
        python: '/envs/a/bin/python',
        source: 'python-extension',
    });
    assert.deepEqual(await resolveInterpreter({ configured: '   ', getPythonExtension: () => undefined }), {
        python: DEFAULT_PYTHON,
        source: 'default',
    });
    assert.equal(DEFAULT_PYTHON, 'python3');
    assert.deepEqual(await resolveInterpreter({}), { python: 'python3', source: 'default' });
});

test('resolveInterpreter: every Python-extension failure falls back to python3', async () => {
    const logs = [];
    const log = (m) => logs.push(m);
    const cases = {
        'getExtension throws': () => {
            throw new Error('getExtension');
        },
        'activate rejects': () => ({ isActive: false, exports: {}, activate: () => Promise.reject(new Error('activate')) }),
        'no environments API': () => ({ isActive: true, exports: { settings: {} }, activate: async () => undefined }),
        'exports undefined': () => ({ isActive: true, exports: undefined, activate: async () => undefined }),
        'getActiveEnvironmentPath throws': () => fakePythonExtension('/x', { throws: true, active: true }),
        'no active environment': () => ({
            isActive: true,
            activate: async () => undefined,
            exports: { environments: { getActiveEnvironmentPath: () => undefined, resolveEnvironment: async () => undefined } },
        }),
        'resolveEnvironment rejects': () => ({
            isActive: true,
            activate: async () => undefined,
            exports: {
                environments: {
                    getActiveEnvironmentPath: () => ({ id: 'x', path: '/x' }),
                    resolveEnvironment: () => Promise.reject(new Error('resolve')),
                },
            },
        }),
        'no executable uri': () => ({
            isActive: true,
            activate: async () => undefined,
            exports: {
                environments: {
                    getActiveEnvironmentPath: () => ({ id: 'x', path: '/x' }),
                    resolveEnvironment: async () => ({ executable: { uri: undefined } }),
                },
            },
        }),
        'activation hangs': () => ({ isActive: false, exports: {}, activate: () => new Promise(() => undefined) }),
    };
    for (const [name, getPythonExtension] of Object.entries(cases)) {
        const resolved = await resolveInterpreter({ configured: '', getPythonExtension, log, timeoutMs: 50 });
        assert.deepEqual(resolved, { python: 'python3', source: 'default' }, name);
    }
    assert.ok(logs.some((m) => m.includes('timed out')));
});

test('expandInterpreterPath', () => {
    const home = '/home/me';
    assert.equal(expandInterpreterPath('~/venv/bin/python', '/ws', home), '/home/me/venv/bin/python');
    assert.equal(expandInterpreterPath('${workspaceFolder}/.venv/bin/python', '/ws', home), '/ws/.venv/bin/python');
    assert.equal(expandInterpreterPath('${userHome}/py', '/ws', home), '/home/me/py');
    assert.equal(expandInterpreterPath('.venv/bin/python', '/ws', home), '/ws/.venv/bin/python');
    assert.equal(expandInterpreterPath('python3.11', '/ws', home), 'python3.11');
    assert.equal(expandInterpreterPath(' /usr/bin/python3 ', undefined, home), '/usr/bin/python3');
    process.env.HPLINT_TEST_ENV = '/opt/py';
    assert.equal(expandInterpreterPath('${env:HPLINT_TEST_ENV}/bin/python', undefined, home), '/opt/py/bin/python');
});

test('readInitializationOptions mirrors the settings and drops malformed values', () => {
    assert.deepEqual(readInitializationOptions(config({})), { select: [], ignore: [], severity: {}, run: 'onType' });
    assert.deepEqual(
        readInitializationOptions(
            config({ select: ['HPL001'], ignore: ['HPL007', 'HPL008'], severity: { HPL001: 'error' }, run: 'onSave' }),
        ),
        { select: ['HPL001'], ignore: ['HPL007', 'HPL008'], severity: { HPL001: 'error' }, run: 'onSave' },
    );
    assert.deepEqual(
        readInitializationOptions(
            config({ select: 'HPL001', ignore: [1, 'HPL002', ''], severity: { A: 'fatal', B: 'Warning', C: 3 }, run: 'sometimes' }),
        ),
        { select: [], ignore: ['HPL002'], severity: { B: 'warning' }, run: 'onType' },
    );
});

test('rule codes', () => {
    assert.deepEqual(
        RULES.map((r) => r.code),
        ['HPL001', 'HPL002', 'HPL003', 'HPL004', 'HPL005', 'HPL006', 'HPL007', 'HPL008', 'HPL009', 'HPL010'],
    );
    assert.equal(normaliseRuleCode('HPL001'), 'HPL001');
    assert.equal(normaliseRuleCode(' hpl7 '), 'HPL007');
    assert.equal(normaliseRuleCode('HPL010'), 'HPL010');
    assert.equal(normaliseRuleCode('E501'), undefined);
    assert.equal(normaliseRuleCode(''), undefined);
});
