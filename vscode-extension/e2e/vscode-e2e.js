'use strict';
// Driven by run-code-server.sh: opens example.py in code-server, waits for
// hplint's warning squiggle, puts the cursor on it, presses Ctrl+. and checks
// that a quick fix is offered; then applies it and checks the edited text.
// With E2E_NOTEBOOK=example.ipynb it then opens that Jupyter notebook (VS Code's
// built-in ipynb support, no kernel needed) and checks that hplint's warning
// appears on the one cell that holds E2E_NOTEBOOK_EXPECT, and that its quick
// fix (bias=False) applies to that cell.
//
// Then "hplint: Explain Rule…" for HPL002 must open a read-only preview (the
// hplint-rule: virtual document), not an Untitled editor. Last, with
// E2E_MISSING_SERVER_PYTHON (an interpreter whose hplint lacks pygls) it
// switches hplint.interpreter to it in the workspace settings (E2E_SETTINGS) and
// checks that exactly one hplint notification appears, naming pygls, and that
// the server is never started with it (E2E_MISSING_SERVER_LOG records each
// run of that interpreter).
//
// Env: CODE_SERVER_URL, WORKSPACE, CHROMIUM, ARTIFACTS, E2E_EXPECT_TEXT,
// E2E_NOTEBOOK, E2E_NOTEBOOK_EXPECT, E2E_SETTINGS, E2E_MISSING_SERVER_PYTHON,
// E2E_MISSING_SERVER_LOG.

const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const url = process.env.CODE_SERVER_URL;
const workspace = process.env.WORKSPACE;
const artifacts = process.env.ARTIFACTS || '.';
const expectText = process.env.E2E_EXPECT_TEXT || '';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const step = (message) => console.error(`[e2e] ${message}`);

async function editorText(page) {
    return page.evaluate(() => {
        const lines = document.querySelector('.editor-instance .monaco-editor .view-lines');
        return lines ? lines.innerText.replace(/\u00a0/g, ' ') : '';
    });
}

async function waitForText(page, predicate, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const text = await editorText(page);
        if (predicate(text)) {
            return text;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}; editor text:\n${text}`);
        }
        await sleep(250);
    }
}

async function openFile(page, name) {
    for (let attempt = 1; attempt <= 5; attempt++) {
        await page.keyboard.down('Control');
        await page.keyboard.press('KeyP');
        await page.keyboard.up('Control');
        try {
            await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 5000 });
        } catch {
            await sleep(1000);
            continue;
        }
        await page.type('.quick-input-widget input', name);
        await sleep(1500);
        await page.keyboard.press('Enter');
        try {
            await waitForText(page, (text) => text.includes('nn.Sequential'), 10000, name);
            return;
        } catch {
            await page.keyboard.press('Escape');
        }
    }
    throw new Error(`could not open ${name}`);
}

const notebook = process.env.E2E_NOTEBOOK || '';
const notebookExpect = process.env.E2E_NOTEBOOK_EXPECT || 'nn.Sequential(nn.Linear(4, 8)';

/** Text of every cell of the open notebook, in order, and whether it has a warning squiggle. */
async function notebookCells(page) {
    return page.evaluate(() =>
        [...document.querySelectorAll('.notebook-editor .cell-list-container .monaco-list-row')]
            .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')))
            .map((row) => {
                const lines = row.querySelector('.monaco-editor .view-lines');
                const markdown = row.querySelector('.markup-cell-row, .markdown-cell-row, .markup');
                return {
                    index: Number(row.getAttribute('data-index')),
                    kind: lines ? 'code' : markdown ? 'markdown' : 'other',
                    text: lines ? lines.innerText.replace(/\u00a0/g, ' ') : (row.innerText || '').trim(),
                    warning: !!row.querySelector('.squiggly-warning'),
                };
            }),
    );
}

/** Open the notebook, wait for hplint's warning and check it is on the right cell. */
async function checkNotebook(page) {
    step(`open ${notebook}`);
    await page.keyboard.press('Escape');
    for (let attempt = 1; ; attempt++) {
        await page.keyboard.down('Control');
        await page.keyboard.press('KeyP');
        await page.keyboard.up('Control');
        await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 10000 });
        await page.type('.quick-input-widget input', notebook);
        await sleep(1500);
        await page.keyboard.press('Enter');
        try {
            await page.waitForSelector('.notebook-editor .cell-list-container', { timeout: 20000 });
            break;
        } catch {
            if (attempt >= 3) {
                throw new Error(`the notebook editor did not open ${notebook}`);
            }
            await page.keyboard.press('Escape');
        }
    }
    step('wait for a .squiggly-warning in a notebook cell');
    const deadline = Date.now() + 90000;
    let cells = [];
    for (;;) {
        cells = await notebookCells(page);
        if (cells.some((c) => c.warning)) {
            break;
        }
        if (Date.now() > deadline) {
            throw new Error(`no warning in any cell; cells: ${JSON.stringify(cells)}`);
        }
        await sleep(500);
    }
    step(`cells: ${JSON.stringify(cells)}`);
    const flagged = cells.filter((c) => c.warning);
    if (flagged.length !== 1 || !flagged[0].text.includes(notebookExpect)) {
        throw new Error(`the warning is not (only) on the cell holding ${notebookExpect}: ${JSON.stringify(cells)}`);
    }
    step(`warning on cell ${flagged[0].index + 1} (of ${cells.length}), the one holding ${notebookExpect}`);
    await page.screenshot({ path: path.join(artifacts, 'notebook.png') });

    step('quick fix in the cell: cursor on the squiggle, Ctrl+.');
    const squiggle = await page.$('.notebook-editor .cell-list-container .squiggly-warning');
    const box = await squiggle.boundingBox();
    await page.mouse.click(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2);
    await sleep(500);
    await page.keyboard.down('Control');
    await page.keyboard.press('Period');
    await page.keyboard.up('Control');
    await page.waitForSelector('.action-widget', { visible: true, timeout: 15000 });
    await sleep(500);
    const rows = await page.$$('.action-widget .monaco-list-row:not(.group-header)');
    const labels = [];
    let target = null;
    for (const row of rows) {
        const label = await row.evaluate((e) => (e.getAttribute('aria-label') || e.textContent || '').trim());
        labels.push(label);
        if (!target && label.toLowerCase().includes('bias=false')) {
            target = row;
        }
    }
    step(`code actions offered in the cell: ${JSON.stringify(labels)}`);
    if (!target) {
        throw new Error('no bias=False quick fix offered in the notebook cell');
    }
    await target.click();
    const fixDeadline = Date.now() + 15000;
    for (;;) {
        cells = await notebookCells(page);
        const fixed = cells.find((c) => c.index === flagged[0].index);
        if (fixed && fixed.text.includes('bias=False')) {
            step(`cell ${fixed.index + 1} now reads: ${fixed.text}`);
            break;
        }
        if (Date.now() > fixDeadline) {
            throw new Error(`the quick fix did not change the cell: ${JSON.stringify(cells)}`);
        }
        await sleep(250);
    }
}

async function runCommand(page, title) {
    await page.keyboard.press('Escape');
    await page.keyboard.down('Control');
    await page.keyboard.down('Shift');
    await page.keyboard.press('KeyP');
    await page.keyboard.up('Shift');
    await page.keyboard.up('Control');
    await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 10000 });
    await page.type('.quick-input-widget input', title);
    await sleep(1500);
    await page.keyboard.press('Enter');
}

async function tabTitles(page) {
    return page.evaluate(() => [...document.querySelectorAll('.tabs-container .tab')].map((t) => (t.getAttribute('aria-label') || t.textContent || '').trim()));
}

/** "hplint: Explain Rule…" → HPL002: a read-only preview of the rule, no Untitled editor. */
async function checkExplainRule(page) {
    step('hplint: Explain Rule… → HPL002');
    await runCommand(page, 'hplint: Explain Rule');
    await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 10000 });
    await sleep(500);
    await page.type('.quick-input-widget input', 'HPL002');
    await sleep(800);
    await page.keyboard.press('Enter');
    const deadline = Date.now() + 30000;
    let titles = [];
    for (;;) {
        titles = await tabTitles(page);
        if (titles.some((t) => t.includes('HPL002'))) {
            break;
        }
        if (Date.now() > deadline) {
            throw new Error(`no HPL002 tab opened; tabs: ${JSON.stringify(titles)}`);
        }
        await sleep(500);
    }
    step(`tabs: ${JSON.stringify(titles)}`);
    if (titles.some((t) => /Untitled/.test(t))) {
        throw new Error(`Explain Rule left an Untitled editor: ${JSON.stringify(titles)}`);
    }
    await page.screenshot({ path: path.join(artifacts, 'explain-rule.png') });
}

async function hplintToasts(page) {
    return page.evaluate(() =>
        [...document.querySelectorAll('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')]
            .map((e) => (e.getAttribute('aria-label') || e.textContent || '').trim())
            .filter((t) => /hplint/i.test(t)),
    );
}

/** Switch to an interpreter without pygls: one notification, the server never started. */
async function checkMissingServer(page) {
    const python = process.env.E2E_MISSING_SERVER_PYTHON;
    const settingsFile = process.env.E2E_SETTINGS;
    const runs = process.env.E2E_MISSING_SERVER_LOG;
    const before = await hplintToasts(page);
    step(`hplint notifications before the switch: ${JSON.stringify(before)}`);
    // A workspace setting (.vscode/settings.json): VS Code watches the
    // workspace's files; code-server does not notice edits of the user settings file.
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ 'hplint.interpreter': python }, null, 2));
    step(`hplint.interpreter -> ${python} (hplint without pygls) in ${settingsFile}`);
    const deadline = Date.now() + 60000;
    let toasts = [];
    for (;;) {
        toasts = (await hplintToasts(page)).filter((t) => !before.includes(t));
        if (toasts.length > 0 || Date.now() > deadline) {
            break;
        }
        await sleep(500);
    }
    // Long enough for a crash loop to show itself (languageclient restarts within a second or two).
    await sleep(15000);
    toasts = (await hplintToasts(page)).filter((t) => !before.includes(t));
    await page.screenshot({ path: path.join(artifacts, 'missing-server.png') });
    const calls = fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').filter((l) => l) : [];
    step(`notifications: ${JSON.stringify(toasts)}; runs of that interpreter: ${JSON.stringify(calls)}`);
    if (toasts.length !== 1) {
        throw new Error(`expected exactly one hplint notification, got ${toasts.length}: ${JSON.stringify(toasts)}`);
    }
    if (!/pygls/.test(toasts[0]) || !/Install in the selected interpreter/.test(toasts[0])) {
        throw new Error(`the notification does not name pygls and offer the install: ${toasts[0]}`);
    }
    if (calls.some((c) => /-m hplint server/.test(c))) {
        throw new Error(`the server was started with the interpreter that lacks pygls: ${JSON.stringify(calls)}`);
    }
    if (calls.length === 0) {
        throw new Error('the extension never ran the interpreter (did the setting change reach it?)');
    }
}

async function main() {
    const browser = await puppeteer.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,900'],
        defaultViewport: { width: 1400, height: 900 },
    });
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`[page] ${error.message}`));
    try {
        step(`open ${url}?folder=${workspace}`);
        await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60000 });
        await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
        await sleep(3000); // let the workbench settle before sending keys

        step('open example.py');
        await openFile(page, 'example.py');

        step('wait for .squiggly-warning');
        await page.waitForSelector('.squiggly-warning', { timeout: 90000 });

        const status = await page.evaluate(() =>
            [...document.querySelectorAll('.statusbar-item')].map((e) => e.getAttribute('aria-label') || e.textContent).filter((t) => /hplint/.test(t)),
        );
        step(`status bar: ${JSON.stringify(status)}`);

        step('cursor on the squiggle, Ctrl+.');
        const squiggle = await page.$('.squiggly-warning');
        const box = await squiggle.boundingBox();
        await page.mouse.click(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2);
        await sleep(500);
        await page.keyboard.down('Control');
        await page.keyboard.press('Period');
        await page.keyboard.up('Control');
        await page.waitForSelector('.action-widget', { visible: true, timeout: 15000 });
        await sleep(500);
        const actions = await page.evaluate(() =>
            [...document.querySelectorAll('.action-widget .monaco-list-row')]
                .filter((row) => !row.classList.contains('group-header'))
                .map((row) => (row.getAttribute('aria-label') || row.textContent || '').trim())
                .filter((text) => text.length > 0),
        );
        step(`code actions offered: ${JSON.stringify(actions)}`);
        if (actions.length === 0) {
            throw new Error('no quick fix offered');
        }

        if (expectText) {
            // Apply the action that mentions the expected edit (else the first one).
            const wanted = expectText.split('=')[0].toLowerCase();
            const rows = await page.$$('.action-widget .monaco-list-row:not(.group-header)');
            let target = rows[0];
            for (const row of rows) {
                const label = await row.evaluate((e) => (e.getAttribute('aria-label') || e.textContent || '').toLowerCase());
                if (label.includes(wanted)) {
                    target = row;
                    break;
                }
            }
            step(`apply "${await target.evaluate((e) => e.getAttribute('aria-label') || e.textContent)}", expect "${expectText}"`);
            await target.click();
            await waitForText(page, (text) => text.includes(expectText), 15000, expectText);
        }
        await page.screenshot({ path: path.join(artifacts, 'final.png') });

        if (notebook) {
            await checkNotebook(page);
        }
        await checkExplainRule(page);
        if (process.env.E2E_MISSING_SERVER_PYTHON) {
            await checkMissingServer(page);
        }
        step('ok');
    } catch (error) {
        await page.screenshot({ path: path.join(artifacts, 'failure.png') }).catch(() => undefined);
        throw error;
    } finally {
        await browser.close();
    }
}

main().catch((error) => {
    console.error(`[e2e] ${error.stack || error}`);
    process.exit(1);
});
