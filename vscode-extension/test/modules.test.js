'use strict';
// The vscode-free modules, tested on their own.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const { OUT_DIR, fakePythonExtension } = require('./fakes');
const { resolveInterpreter, expandInterpreterPath, DEFAULT_PYTHON } = require(path.join(OUT_DIR, 'interpreter.js'));
const { readInitializationOptions, readExtensionSettings, shouldNotify } = require(path.join(OUT_DIR, 'settings.js'));
const { parseServerCheck, SERVER_CHECK_ARGS } = require(path.join(OUT_DIR, 'python.js'));
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

const NOT_SENT = { configuration: null, explainCommand: 'hplint.explainRule' };

test('readInitializationOptions mirrors the settings and drops malformed values', () => {
    assert.deepEqual(readInitializationOptions(config({})), { select: [], ignore: [], severity: {}, run: 'onType', ...NOT_SENT });
    assert.deepEqual(
        readInitializationOptions(
            config({ select: ['HPL001'], ignore: ['HPL007', 'HPL008'], severity: { HPL001: 'error' }, 'lint.run': 'onSave' }),
        ),
        { select: ['HPL001'], ignore: ['HPL007', 'HPL008'], severity: { HPL001: 'error' }, run: 'onSave', ...NOT_SENT },
    );
    assert.deepEqual(
        readInitializationOptions(
            config({ select: 'HPL001', ignore: [1, 'HPL002', ''], severity: { A: 'fatal', B: 'Warning', C: 3 }, 'lint.run': 'sometimes' }),
        ),
        { select: [], ignore: ['HPL002'], severity: { B: 'warning' }, run: 'onType', ...NOT_SENT },
    );
    // The deprecated hplint.run still counts while hplint.lint.run is at its default.
    assert.equal(readInitializationOptions(config({ 'lint.run': 'onType', run: 'onSave' })).run, 'onSave');
    assert.equal(readInitializationOptions(config({ 'lint.run': 'onSave', run: 'onType' })).run, 'onSave');
    // hplint.configuration: expanded by the caller's function, empty is "the project's".
    const expand = (v) => v.replace('${workspaceFolder}', '/ws');
    assert.equal(readInitializationOptions(config({ configuration: '${workspaceFolder}/ci/hplint.toml' }), expand).configuration, '/ws/ci/hplint.toml');
    assert.equal(readInitializationOptions(config({ configuration: '  ' }), expand).configuration, null);
});

test('readExtensionSettings and showNotifications levels', () => {
    assert.deepEqual(readExtensionSettings(config({})), { importStrategy: 'useBundled', showNotifications: 'off', fixAll: false });
    assert.deepEqual(readExtensionSettings(config({ importStrategy: 'fromEnvironment', showNotifications: 'onWarning', fixAll: true })),
        { importStrategy: 'fromEnvironment', showNotifications: 'onWarning', fixAll: true });
    assert.deepEqual(readExtensionSettings(config({ importStrategy: 'x', showNotifications: 'loud', fixAll: 'yes' })),
        { importStrategy: 'useBundled', showNotifications: 'off', fixAll: false });
    const table = ['off', 'onError', 'onWarning', 'always'].map((level) => [1, 2, 3, 4].map((type) => shouldNotify(level, type)));
    assert.deepEqual(table, [
        [false, false, false, false],
        [true, false, false, false],
        [true, true, false, false],
        [true, true, true, false],
    ]);
});

test('the server check: its script against the real interpreter, and its verdicts', () => {
    const { execFileSync } = require('child_process');
    const python = process.env.HPLINT_PYTHON || 'python3';
    let stdout;
    try {
        stdout = execFileSync(python, SERVER_CHECK_ARGS, { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.resolve(__dirname, '..', '..') } });
    } catch {
        stdout = undefined; // no python3 here: the verdicts below still run on canned output
    }
    if (stdout !== undefined) {
        // This checkout's hplint (PYTHONPATH) imports, whatever else the interpreter has.
        const check = parseServerCheck({ ok: true, stdout, stderr: '' });
        assert.ok(['ok', 'no-server-deps'].includes(check.kind), stdout);
        assert.equal(check.location, path.resolve(__dirname, '..', '..', 'hplint', '__init__.py'));
    }
    const line = (data) => ({ ok: true, stdout: `noise\nHPLINT_CHECK ${JSON.stringify(data)}\n`, stderr: '' });
    assert.equal(parseServerCheck(line({ missing: [], hplint: '0.1.0' })).kind, 'ok');
    assert.deepEqual(parseServerCheck(line({ missing: ['pygls'], errors: ['ModuleNotFoundError: pygls'] })),
        { kind: 'no-server-deps', missing: ['pygls'], version: undefined, location: undefined, detail: 'ModuleNotFoundError: pygls' });
    assert.equal(parseServerCheck(line({ missing: ['hplint', 'pygls'] })).kind, 'no-hplint');
    assert.equal(parseServerCheck({ ok: false, stdout: '', stderr: '', reason: '/x/python was not found' }).kind, 'no-python');
    assert.equal(parseServerCheck({ ok: false, stdout: '', stderr: 'Segfault', reason: 'exit code 139' }).kind, 'failed');
});

test('rule codes come from the catalogue (rules/*.md), with names and summaries', () => {
    const fs = require('fs');
    const rulesDir = path.resolve(__dirname, '..', '..', 'rules');
    const documents = fs.readdirSync(rulesDir).filter((f) => /^HPL\d{3}\.md$/.test(f)).map((f) => f.slice(0, 6)).sort();
    assert.deepEqual(RULES.map((r) => r.code), documents);
    for (const rule of RULES) {
        const text = fs.readFileSync(path.join(rulesDir, `${rule.code}.md`), 'utf8');
        assert.ok(text.includes(`name = "${rule.name}"`), rule.code);
        assert.ok(rule.name && rule.summary && text.includes(rule.summary), rule.code);
    }
    assert.equal(RULES.find((r) => r.code === 'HPL010').name, 'train-mode-not-restored');
    assert.deepEqual(RULES.filter((r) => r.probe).map((r) => r.code),
        ['HPL001', 'HPL002', 'HPL003', 'HPL004', 'HPL005', 'HPL006', 'HPL007', 'HPL008', 'HPL009', 'HPL010']);
    assert.equal(normaliseRuleCode('HPL001'), 'HPL001');
    assert.equal(normaliseRuleCode(' hpl7 '), 'HPL007');
    assert.equal(normaliseRuleCode('HPL010'), 'HPL010');
    assert.equal(normaliseRuleCode('E501'), undefined);
    assert.equal(normaliseRuleCode(''), undefined);
});

test('gen-rules.mjs: a changed rule document changes the generated table; --check catches a stale one', async () => {
    const fs = require('fs');
    const os = require('os');
    const { execFileSync } = require('child_process');
    const script = path.resolve(__dirname, '..', 'scripts', 'gen-rules.mjs');
    const { readCatalogue, render } = await import(script);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hplint-rules-'));
    const source = path.resolve(__dirname, '..', '..', 'rules', 'HPL009.md');
    fs.writeFileSync(path.join(dir, 'HPL009.md'), fs.readFileSync(source, 'utf8').replace('name = "batch-size-too-small-for-batchnorm"', 'name = "renamed-rule"'));
    const rules = readCatalogue(dir);
    assert.deepEqual(rules.map((r) => [r.code, r.name, r.probe]), [['HPL009', 'renamed-rule', true]]);
    assert.match(render(rules), /"name": "renamed-rule"/);
    fs.writeFileSync(path.join(dir, 'HPL011.md'), '+++\ncode = "HPL011"\nname = "x-y"\n+++\n');
    assert.throws(() => readCatalogue(dir), /HPL011.md: front matter lacks severity/);
    // The checked-in build's generated file is current (npm test ran gen-rules).
    execFileSync(process.execPath, [script, '--check']);
});
