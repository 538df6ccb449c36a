'use strict';
// Driven by run-code-server.sh: opens example.py in code-server, waits for
// hplint's warning squiggle, puts the cursor on it, presses Ctrl+. and checks
// that a quick fix is offered; then applies it and checks the edited text.
//
// Env: CODE_SERVER_URL, WORKSPACE, CHROMIUM, ARTIFACTS, E2E_EXPECT_TEXT.

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
