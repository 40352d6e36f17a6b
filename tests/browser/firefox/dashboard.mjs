// firefox/dashboard.mjs - the core end-to-end flow of the dashboard in real
// headless Firefox (Debian's firefox-esr, driven over WebDriver BiDi by
// puppeteer-core, pinned in tests/package.json): sign in → overview → the
// drifted target → the categorised diff → charts drawn from the series → mark
// last good → create a bundle → download it and check its manifest; the XSS
// label stays text; a bad token shows the sign-in message. Against the same
// `skewd demo` tree as the Chromium test (tests/browser/lib/common.mjs).
//
//   node tests/browser/firefox/dashboard.mjs   (run by tests/lint/browser_firefox.sh)

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGET, TARGET_API, api, artifacts, assert, bad, check, checkCharts, demo, src, summary, verifyBundle }
	from '../lib/common.mjs';

const require = createRequire(path.join(src, 'tests/package.json'));
const puppeteer = require('puppeteer-core');
const FIREFOX = process.env.SKEWD_FIREFOX || '/usr/bin/firefox-esr';

// A fresh profile that saves downloads without asking and reaches no other host.
function prefs(downloads) {
	return {
		'browser.download.dir': downloads,
		'browser.download.folderList': 2,
		'browser.download.useDownloadDir': true,
		'browser.download.always_ask_before_handling_new_types': false,
		'browser.download.start_downloads_in_tmp_dir': false,
		'browser.helperApps.neverAsk.saveToDisk': 'application/gzip,application/x-gzip,application/octet-stream',
		'browser.download.manager.showWhenStarting': false,
		'app.update.enabled': false,
		'app.normandy.enabled': false,
		'browser.safebrowsing.malware.enabled': false,
		'browser.safebrowsing.phishing.enabled': false,
		'browser.safebrowsing.downloads.enabled': false,
		'datareporting.policy.dataSubmissionEnabled': false,
		'datareporting.healthreport.uploadEnabled': false,
		'toolkit.telemetry.enabled': false,
		'network.captive-portal-service.enabled': false,
		'network.connectivity-service.enabled': false,
		'extensions.update.enabled': false,
		'browser.region.update.enabled': false,
		'services.settings.server': 'http://127.0.0.1:9/',
		'network.dns.disablePrefetch': true,
		'network.prefetch-next': false,
	};
}

async function newPage(browser, opts = {}) {
	const page = await browser.newPage();
	await page.setViewport(opts.viewport || { width: 1280, height: 900 });
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(String(e.message || e)));
	page.on('dialog', (d) => {
		page.errors.push('dialog: ' + d.message());
		d.dismiss().catch(() => {});
	});
	return page;
}

async function ready(page) {
	await page.waitForFunction(() => document.getElementById('view')?.dataset.ready !== undefined, { timeout: 15000 });
}

async function go(page, url) {
	await page.evaluate(() => { delete document.getElementById('view')?.dataset.ready; }).catch(() => {});
	if (page.url() === url)
		await page.reload();
	else
		await page.goto(url);
	await ready(page);
}

// Signs in through the form, as a person would; the token stays in the tab.
async function signIn(page, url, token) {
	await page.goto(url + '/#/signin');
	await page.waitForSelector('#token', { timeout: 15000 });
	await page.type('#token', token);
	await page.click('form.signin button[type=submit]');
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: true });
}

async function text(page, sel) {
	return page.$eval(sel, (e) => e.innerText);
}

async function waitFile(dir, re, ms) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		const f = fs.readdirSync(dir).find((n) => re.test(n) && !n.endsWith('.part'));
		if (f && !fs.readdirSync(dir).some((n) => n.endsWith('.part')) && fs.statSync(path.join(dir, f)).size > 0)
			return path.join(dir, f);
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`no download matching ${re} in ${ms} ms: ${fs.readdirSync(dir).join(', ') || 'none'}`);
}

async function main() {
	const d = await demo('skewd-firefox-');
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-firefox-profile-'));
	const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-firefox-dl-'));
	let browser = null;
	try {
		const t0 = Date.now();
		browser = await puppeteer.launch({
			browser: 'firefox', executablePath: FIREFOX, headless: true, userDataDir: profile,
			extraPrefsFirefox: prefs(downloads), env: { ...process.env, MOZ_HEADLESS: '1' }, timeout: 60000,
		});
		console.log(`info ${await browser.version()} started in ${Date.now() - t0} ms`);
		await run(browser, d.url, d.tok, downloads);
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		await d.stop();
		fs.rmSync(profile, { recursive: true, force: true });
		fs.rmSync(downloads, { recursive: true, force: true });
	}
}

async function run(browser, url, tok, downloads) {
	const snaps = JSON.parse((await api(url, 'GET', TARGET_API + '/snapshots', tok.editor)).body);
	const ids = snaps.snapshots.map((s) => s.id);
	const first = Math.min(...ids), latest = Math.max(...ids);
	const put = await api(url, 'PUT', TARGET_API + '/baseline', tok.editor, { snapshot: first, note: 'before the upgrade' });
	assert(put.status === 200, put.body);

	const page = await newPage(browser);
	await check('firefox: sign in with a viewer token; the overview shows the drifted target', async () => {
		await signIn(page, url, tok.viewer);
		await page.waitForSelector('#targets tr[data-target="demo/llm/deployment/vllm-llama"]', { timeout: 15000 });
		const row = await text(page, '#targets tr[data-target="demo/llm/deployment/vllm-llama"]');
		for (const want of ['vllm-llama', 'runtime', 'hardware', 'critical'])
			assert(row.includes(want), `row lacks ${want}: ${row}`);
		await page.waitForFunction(() => {
			const c = document.querySelector('tr[data-target="demo/llm/deployment/vllm-llama"] td.verdict-cell');
			return c && c.textContent !== '…' && c.textContent !== '—';
		}, { timeout: 15000 });
		assert(/browser-viewer/.test(await text(page, '#who')), 'not signed in as the viewer');
	});
	await shot(page, 'firefox-overview');
	await check('firefox: open the target; the categorised diff has the expected changes', async () => {
		await page.click('#targets tr[data-target="demo/llm/deployment/vllm-llama"] a');
		await page.waitForSelector('#diff .group', { timeout: 15000 });
		const cats = await page.$$eval('#diff .group', (els) => els.map((e) => e.dataset.category));
		assert(cats[0] === 'hardware' && cats.includes('runtime'), `groups: ${cats}`);
		const runtime = await text(page, '#diff .group[data-category="runtime"]');
		for (const want of ['max_model_len', '32768', '8192', 'dtype', 'bfloat16', 'float16'])
			assert(runtime.includes(want), `runtime group lacks ${want}`);
		assert(/skew likely/i.test(await text(page, '#verdict')), 'verdict is not skew likely');
	});
	await check('firefox: charts drawn from the stored series, baseline and config change marked', async () => {
		await page.waitForSelector('#charts[data-ready="1"]', { timeout: 15000 });
		await checkCharts(page, url, tok.viewer, { first, latest, window: '1h' });
	});
	await check('firefox: the XSS label stays text and never runs; no viewer actions', async () => {
		const r = await page.evaluate(() => ({ flag: window.__xss, imgs: document.querySelectorAll('#view img').length,
			text: document.getElementById('view').textContent.includes('<img src=x onerror=') }));
		assert(r.flag === undefined && r.imgs === 0 && r.text, JSON.stringify(r));
		assert(await page.$('#mark-form') === null && await page.$('#create-bundle') === null, 'editor actions shown to a viewer');
	});
	await check('firefox: no script error on the viewer pages', () => assert(page.errors.length === 0, page.errors.join(' | ')));
	await shot(page, 'firefox-target');
	await page.close();

	const ed = await newPage(browser);
	await check('firefox: an editor marks the latest snapshot as last good with a note', async () => {
		await signIn(ed, url, tok.editor);
		await ed.waitForSelector('#targets');
		await go(ed, url + '/' + TARGET);
		await ed.waitForSelector('#mark-form');
		await ed.select('#mark-snapshot', String(latest));
		await ed.type('#mark-note', 'known good in firefox');
		await ed.click('#mark-form button[type=submit]');
		await ed.waitForFunction(() => /known good in firefox/.test(document.querySelector('#baseline')?.innerText || ''), { timeout: 15000 });
		const b = JSON.parse((await api(url, 'GET', TARGET_API + '/baseline', tok.editor)).body);
		assert(b.snapshot_id === latest && b.set_by === 'browser-editor', JSON.stringify(b));
	});
	await api(url, 'PUT', TARGET_API + '/baseline', tok.editor, { snapshot: first, note: 'last good' });
	let link = null;
	await check('firefox: an editor creates a bundle and gets its stable link', async () => {
		await go(ed, url + '/' + TARGET);
		await ed.waitForSelector('#create-bundle');
		await ed.click('#create-bundle');
		await ed.waitForSelector('#bundle-result .bundle-link', { timeout: 30000 });
		link = await ed.$eval('#bundle-result .bundle-link', (a) => a.getAttribute('href'));
		assert(/^\/b\/[A-Za-z0-9_-]+$/.test(link), `link ${link}`);
	});
	await check('firefox: the bundle downloads and its MANIFEST.sha256 matches its files', async () => {
		await ed.click('#bundle-result button.download');
		const file = await waitFile(downloads, /\.tar\.gz$/, 20000);
		const n = verifyBundle(file);
		console.log(`info firefox saved ${path.basename(file)}; ${n} files match the manifest`);
	});
	await check('firefox: no script error on the editor pages', () => assert(ed.errors.length === 0, ed.errors.join(' | ')));
	await shot(ed, 'firefox-target-editor');
	await ed.close();

	const nobody = await newPage(browser);
	await check('firefox: a bad token shows the sign-in message', async () => {
		await signIn(nobody, url, 'skewd_0000000000000000_' + '0'.repeat(64));
		await nobody.waitForFunction(() => {
			const m = document.getElementById('signin-message');
			return m && !m.hidden && /401/.test(m.textContent);
		}, { timeout: 15000 });
		const m = await text(nobody, '#signin-message');
		assert(/token/.test(m), m);
	});
	await shot(nobody, 'firefox-signin');
	await nobody.close();
}

main().catch((e) => {
	bad('the firefox test ran to its end', e.stack || e.message);
}).finally(summary);
