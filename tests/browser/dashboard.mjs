// dashboard.mjs - end-to-end tests of the dashboard in real headless Chromium.
//
// Starts `skewd demo` (the simulated cluster with the regressed vLLM workload)
// from a temporary tree whose fixture states carry an XSS label, creates
// viewer/editor/admin tokens against its data folder, and walks the pages the
// way a person would. Screenshots go to $SKEWD_ARTIFACTS (default
// tests/artifacts). Prints "N passed, N failed" and exits non-zero on a failure.
//
//   node tests/browser/dashboard.mjs          (SKEWD_BIN, SKEWD_SOURCE_DIR from the env)

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGET, api, artifacts, assert, bad, check, checkCharts, demo, src, summary, verifyBundle }
	from './lib/common.mjs';

const require = createRequire(path.join(src, 'tests/package.json'));
const { chromium } = require('playwright-core');

// Pages share the one persistent context (a fresh profile); the token lives in
// each tab's sessionStorage, so pages do not see each other's sign-in.
async function newPage(ctx, url, tok, opts = {}) {
	const page = await ctx.newPage();
	await page.setViewportSize(opts.viewport || { width: 1280, height: 900 });
	await page.emulateMedia({ colorScheme: opts.scheme || 'light' });
	page.errors = [];
	page.dialogs = [];
	page.on('pageerror', (e) => page.errors.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && /Content Security Policy|Refused/.test(m.text()))
			page.errors.push(m.text());
	});
	page.on('dialog', (d) => {
		page.dialogs.push(d.message());
		d.dismiss().catch(() => {});
	});
	if (tok)
		await page.addInitScript((t) => sessionStorage.setItem('skewd.token', t), tok);
	return page;
}

async function ready(page) {
	await page.waitForFunction(() => document.getElementById('view').dataset.ready !== undefined &&
	    document.getElementById('view').dataset.ready === String(document.getElementById('view').dataset.ready), null,
	    { timeout: 15000 });
	await page.waitForFunction(() => !document.querySelector('#view p.muted') ||
	    document.querySelector('#view p.muted').textContent !== 'Loading…', null, { timeout: 15000 });
}

async function goto(page, url) {
	await page.evaluate(() => { delete document.getElementById('view').dataset.ready; }).catch(() => {});
	if (page.url() === url)
		await page.reload();
	else
		await page.goto(url);
	await page.waitForFunction(() => document.getElementById('view').dataset.ready !== undefined, null, { timeout: 15000 });
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: true });
}

async function main() {
	const d = await demo('skewd-browser-');
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-chromium-'));
	// Playwright passes --user-data-dir itself: the fresh profile folder given here.
	const browser = await chromium.launchPersistentContext(profile, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		acceptDownloads: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
	try {
		await run(browser, d.url, d.tok);
	} finally {
		await browser.close().catch(() => {});
		await d.stop();
		fs.rmSync(profile, { recursive: true, force: true });
	}
}

async function run(browser, url, tok) {
	await check('the served page sends a CSP that forbids inline script', async () => {
		const r = await fetch(url + '/');
		const csp = r.headers.get('content-security-policy') || '';
		assert(/default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `CSP: ${csp}`);
		assert((await r.text()).includes('app.js'), 'index.html does not load app.js');
	});
	await check('dashboard files carry an ETag and revalidate with 304', async () => {
		const r = await fetch(url + '/app.js');
		const etag = r.headers.get('etag');
		assert(r.status === 200 && /javascript/.test(r.headers.get('content-type')) && etag, `${r.status} ${etag}`);
		assert(r.headers.get('cache-control') === 'no-cache', r.headers.get('cache-control'));
		const again = await fetch(url + '/app.js', { headers: { 'If-None-Match': etag } });
		assert(again.status === 304, `revalidation answered ${again.status}`);
		for (const lib of ['/node_modules/uplot/dist/uPlot.iife.min.js', '/node_modules/diff2html/bundles/js/diff2html.min.js']) {
			const l = await fetch(url + lib);
			assert(l.status === 200, `${lib} answered ${l.status}`);
		}
		const hidden = await fetch(url + '/package.json');
		assert(hidden.status === 404, `a file outside the embedded list answered ${hidden.status}`);
	});

	// The demo pulls "last good" (and marks it as the baseline) then "current";
	// an editor re-marks the first snapshot through the API with a note the page
	// must show as text (the UI marks one further down).
	const snaps = JSON.parse((await api(url, 'GET', '/api/v1/targets/demo/llm/deployment/vllm-llama/snapshots', tok.editor)).body);
	const ids = snaps.snapshots.map((s) => s.id);
	const first = Math.min(...ids), latest = Math.max(...ids);
	const put = await api(url, 'PUT', '/api/v1/targets/demo/llm/deployment/vllm-llama/baseline', tok.editor,
	    { snapshot: first, note: 'before the upgrade <b>bold?</b>' });
	await check('an editor sets the baseline on the last-good snapshot (API)', () => assert(put.status === 200, put.body));

	const page = await newPage(browser, url, tok.viewer);
	await check('overview lists the drifted target with badges, worst severity and verdict', async () => {
		await goto(page, url + '/#/');
		const row = page.locator('#targets tr[data-target="demo/llm/deployment/vllm-llama"]');
		await row.waitFor({ timeout: 30000 });
		const text = await row.innerText();
		for (const want of ['vllm-llama', 'runtime', 'hardware', 'critical'])
			assert(text.includes(want), `row lacks ${want}: ${text}`);
		await page.waitForFunction(() => {
			const c = document.querySelector('tr[data-target="demo/llm/deployment/vllm-llama"] td.verdict-cell');
			return c && c.textContent !== '…';
		}, null, { timeout: 30000 });
		const v = await row.locator('td.verdict-cell').innerText();
		assert(/\w/.test(v) && v !== '—', `verdict cell: ${v}`);
		assert((await page.locator('#clusters').innerText()).includes('demo'), 'cluster health missing');
	});
	await check('overview filters: drifted only and search keep the URL', async () => {
		await page.check('#f-drifted');
		assert(await page.locator('#targets tbody tr[data-target]').count() === 1, 'drifted-only does not filter');
		await page.fill('#f-q', 'gemma');
		assert(await page.locator('#targets tbody tr[data-target]').count() === 0, 'search does not filter');
		assert(page.url().includes('drifted=1') && page.url().includes('q=gemma'), `url ${page.url()}`);
		await page.reload();
		await page.waitForSelector('#f-q');
		assert(await page.inputValue('#f-q') === 'gemma', 'filters not restored from the URL');
		await page.fill('#f-q', '');
		await page.uncheck('#f-drifted');
	});
	await shot(page, 'overview');

	await check('open the target: categorised diff with the expected changes', async () => {
		await page.click('#targets a:text("vllm-llama")');
		await page.waitForSelector('#diff .group', { timeout: 30000 });
		assert(page.url().includes('#/targets/demo/llm/deployment/vllm-llama'), page.url());
		const cats = await page.locator('#diff .group').evaluateAll((els) => els.map((e) => e.dataset.category));
		assert(cats[0] === 'hardware' && cats.includes('runtime'), `groups: ${cats}`);
		const runtime = await page.locator('#diff .group[data-category="runtime"]').innerText();
		for (const want of ['max_model_len', '32768', '8192', 'dtype', 'bfloat16', 'float16', 'digest'])
			assert(runtime.includes(want), `runtime group lacks ${want}`);
		const hw = await page.locator('#diff .group[data-category="hardware"]').innerText();
		assert(hw.includes('NVIDIA-L4') && hw.includes('critical'), 'hardware group lacks the GPU change');
	});
	await check('identity shows pods with node, GPU and digest; baseline note is text', async () => {
		const id = await page.locator('#identity').innerText();
		for (const want of ['vllm-llama-pod-0', 'node-0', 'NVIDIA-L4', 'sha256:'])
			assert(id.includes(want), `identity lacks ${want}`);
		const b = await page.locator('#baseline').innerText();
		assert(b.includes('before the upgrade <b>bold?</b>') && b.includes('browser-editor'), `baseline: ${b}`);
	});
	await check('verdict with reasons', async () => {
		const v = await page.locator('#verdict').innerText();
		assert(await page.locator('#verdict .reasons li').count() > 0, 'no reasons');
		assert(/since last good/.test(v), v.slice(0, 200));
	});
	await check('copy the Markdown report to the clipboard', async () => {
		await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
		await page.click('#copy-report');
		await page.waitForFunction(() => /Copied/.test(document.querySelector('#copy-report').parentElement.innerText));
		const md = await page.evaluate(() => navigator.clipboard.readText());
		assert(md.includes('vllm-llama') && md.includes('bfloat16 → float16'), md.slice(0, 200));
	});
	await check('side-by-side YAML diff from the patch', async () => {
		const del = await page.locator('#yaml td.del').allInnerTexts();
		const ins = await page.locator('#yaml td.ins').allInnerTexts();
		assert(del.some((t) => t.includes('--max-model-len=32768')), 'no deleted max-model-len line');
		assert(ins.some((t) => t.includes('--max-model-len=8192')), 'no inserted max-model-len line');
	});
	await check('timeline marks the baseline', async () => {
		const b = await page.locator('#timeline li.is-baseline').innerText();
		assert(b.includes(`#${first}`) && b.includes('baseline'), b);
	});
	await check('charts drawn from the stored series, baseline and config change marked', async () => {
		await page.waitForSelector('#charts[data-ready="1"]', { timeout: 30000 });
		await checkCharts(page, url, tok.viewer, { first, latest, window: '1h' });
	});
	await page.locator('#charts').screenshot({ path: path.join(artifacts, 'charts.png') });
	await check('the chart window is kept in the URL and restored on reload', async () => {
		await page.selectOption('#chart-window', '15m');
		await page.waitForFunction(() => location.hash.includes('window=15m'));
		await page.waitForSelector('#charts[data-window="15m"][data-ready="1"]', { timeout: 30000 });
		await page.reload();
		await page.waitForSelector('#charts[data-window="15m"][data-ready="1"]', { timeout: 30000 });
		assert(await page.inputValue('#chart-window') === '15m', 'window not restored from the URL');
		await checkCharts(page, url, tok.viewer, { first, latest, window: '15m' });
	});
	await check('a viewer sees no editor or admin actions', async () => {
		assert(await page.locator('#mark-form').count() === 0, 'mark form shown to a viewer');
		assert(await page.locator('#create-bundle').count() === 0, 'bundle button shown to a viewer');
		assert(await page.locator('#nav-admin').isHidden(), 'admin link shown to a viewer');
		assert((await page.locator('#actions').innerText()).includes('editor role'), 'no explanation');
	});
	await check('the XSS label and annotation stay text and never run', async () => {
		const html = await page.content();
		assert(html.includes('&lt;img src=x onerror='), 'the XSS string is not on the page as text');
		const flag = await page.evaluate(() => window.__xss);
		assert(flag === undefined, `window.__xss = ${flag}`);
		assert(page.dialogs.length === 0, `dialogs: ${page.dialogs}`);
		assert(await page.locator('#view img').count() === 0, 'an <img> element was created from data');
	});
	await check('compare any two snapshots', async () => {
		await page.selectOption('#cmp-from', String(latest));
		await page.selectOption('#cmp-to', String(first));
		await page.click('#snapshots button[type=submit]');
		await page.waitForFunction(() => location.hash.includes('from='));
		const want = `snapshot ${latest} → snapshot ${first}`;
		await page.waitForFunction((w) => (document.querySelector('#diff')?.innerText || '').includes(w), want,
		    { timeout: 30000 });
		assert(await page.locator('#diff .group').count() > 0, 'no change groups in the reverse comparison');
	});
	await check('a deep link opens one part of the target page (?section=diff-runtime)', async () => {
		await goto(page, url + '/' + TARGET + '?section=diff-runtime');
		await page.waitForSelector('#charts[data-ready="1"]', { timeout: 30000 });
		await page.waitForFunction(() => {
			const r = document.getElementById('diff-runtime')?.getBoundingClientRect();
			return r && r.top >= -2 && r.top < innerHeight / 2;
		}, null, { timeout: 5000 });
		assert(await page.locator('#diff-runtime.linked').count() === 1, 'the linked group is not marked');
		const href = await page.locator('#diff-runtime a.anchor').getAttribute('href');
		assert(href === '#/targets/demo/llm/deployment/vllm-llama?section=diff-runtime', href);
	});
	await check('compare with the same workload in another cluster', async () => {
		// A twin in cluster "staging" whose latest snapshot is the last-good one (the target list intercepted).
		await page.route('**/api/v1/targets', async (r) => {
			const j = await (await r.fetch()).json();
			const me = j.targets.find((x) => x.target === 'demo/llm/deployment/vllm-llama');
			j.targets.push({ ...me, cluster: 'staging', target: 'staging/llm/deployment/vllm-llama', latest_snapshot_id: first });
			await r.fulfill({ json: j });
		});
		try {
			await goto(page, url + '/' + TARGET + '?window=15m');
			await page.waitForSelector('#twin-form');
			assert((await page.locator('#cmp-twin').innerText()).includes('staging / llm'), 'twin not offered');
			await page.click('#twin-form button[type=submit]');
			await page.waitForFunction((w) => location.hash.includes(w), `from=${first}&to=${latest}&window=15m`);
			await page.waitForFunction((w) => (document.querySelector('#diff')?.innerText || '').includes(w),
			    `snapshot ${first} → snapshot ${latest}`, { timeout: 30000 });
			assert(await page.locator('#diff .group').count() > 0, 'no change groups against the twin');
		} finally {
			await page.unroute('**/api/v1/targets');
		}
	});
	await check('keyboard: Tab reaches the target link and Enter opens it', async () => {
		await goto(page, url + '/#/?q=vllm');
		await page.waitForSelector('#targets a');
		let found = false;
		for (let i = 0; i < 40 && !found; i++) {
			await page.keyboard.press('Tab');
			found = await page.evaluate(() => document.activeElement?.textContent === 'vllm-llama' &&
			    document.activeElement.tagName === 'A');
		}
		assert(found, 'the target link is not reachable with Tab');
		await page.keyboard.press('Enter');
		await page.waitForFunction(() => location.hash.startsWith('#/targets/'));
	});
	await check('a viewer opening the admin page sees no admin action', async () => {
		await goto(page, url + '/#/admin');
		const text = await page.locator('#view').innerText();
		assert(/may not manage/.test(text), text.slice(0, 200));
		for (const sel of ['#register-form', '#admin-clusters button', '#w-url', '#t-name'])
			assert(await page.locator(sel).count() === 0, `${sel} shown to a viewer`);
	});
	await check('a 403 from the API is explained as a role problem', async () => {
		const msg = await page.evaluate(() => import('/api.js').then((m) =>
		    m.call('POST', '/api/v1/tokens', { name: 'x', role: 'viewer' })).then(() => 'no error', (e) => e.message));
		assert(/role/.test(msg) && /403/.test(msg), msg);
	});
	await check('no script error and no CSP violation on the viewer pages', () =>
	    assert(page.errors.length === 0, page.errors.join(' | ')));
	await goto(page, url + '/' + TARGET);
	await page.waitForSelector('#diff .group');
	await shot(page, 'target');
	await page.close();

	// The editor: mark last good through the form, create a bundle, download it.
	const ed = await newPage(browser, url, tok.editor, { scheme: 'dark' });
	await goto(ed, url + '/' + TARGET);
	await ed.waitForSelector('#mark-form');
	await check('an editor marks the latest snapshot as last good with a note', async () => {
		await ed.selectOption('#mark-snapshot', String(latest));
		await ed.fill('#mark-note', 'known good after the rollback');
		await ed.click('#mark-form button[type=submit]');
		await ed.waitForFunction(() => /known good after the rollback/.test(document.querySelector('#baseline')?.innerText || ''),
		    null, { timeout: 30000 });
		const b = JSON.parse((await api(url, 'GET', '/api/v1/targets/demo/llm/deployment/vllm-llama/baseline', tok.editor)).body);
		assert(b.snapshot_id === latest && b.set_by === 'browser-editor', JSON.stringify(b));
		await ed.waitForSelector('#diff');
		assert((await ed.locator('#diff').innerText()).includes('No drift'), 'the diff after marking latest is not empty');
	});
	// Back to the regressed state for the bundle.
	await api(url, 'PUT', '/api/v1/targets/demo/llm/deployment/vllm-llama/baseline', tok.editor, { snapshot: first, note: 'last good' });
	await goto(ed, url + '/' + TARGET);
	await ed.waitForSelector('#create-bundle');
	let bundleUrl = null;
	await check('an editor creates a bundle and gets its stable link', async () => {
		await ed.click('#create-bundle');
		await ed.waitForSelector('#bundle-result .bundle-link', { timeout: 30000 });
		bundleUrl = await ed.locator('#bundle-result .bundle-link').getAttribute('href');
		assert(/^\/b\/[A-Za-z0-9_-]+$/.test(bundleUrl), `link ${bundleUrl}`);
		const r = await fetch(url + bundleUrl, { redirect: 'manual' });
		assert(r.status < 400, `${bundleUrl} answered ${r.status}`);
	});
	await shot(ed, 'target-editor-dark');
	await check('the bundle downloads and its MANIFEST.sha256 matches its files', async () => {
		const [dl] = await Promise.all([ed.waitForEvent('download', { timeout: 20000 }),
			ed.click('#bundle-result button.download')]);
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-dl-'));
		try {
			const file = path.join(dir, 'bundle.tar.gz');
			await dl.saveAs(file);
			verifyBundle(file);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
	await check('the bundles page lists the bundle with its link', async () => {
		await goto(ed, url + '/#/bundles');
		await ed.waitForSelector('#bundles');
		assert(await ed.locator(`#bundles a.bundle-link[href="${bundleUrl}"]`).count() === 1, 'bundle not listed');
		await ed.click('#bundles tbody tr:first-child td:first-child a');
		await ed.waitForSelector('#bundle-detail');
		const files = await ed.locator('#bundle-files').innerText();
		assert(files.includes('MANIFEST.sha256') || files.includes('diff.json'), `bundle files: ${files.slice(0, 200)}`);
	});
	await shot(ed, 'bundles');
	await check('an editor sees no admin page link', async () => assert(await ed.locator('#nav-admin').isHidden(), 'admin link shown to an editor'));
	await check('no script error on the editor pages', () => assert(ed.errors.length === 0, ed.errors.join(' | ')));
	await ed.close();

	const ad = await newPage(browser, url, tok.admin, { viewport: { width: 760, height: 900 } });
	let formToken = null;
	await check('an admin sees clusters with health, and the register, webhook and token forms', async () => {
		await goto(ad, url + '/#/admin');
		await ad.waitForSelector('#tokens');
		assert((await ad.locator('#tokens').innerText()).includes('browser-viewer'), 'tokens not listed');
		const demo = await ad.locator('#admin-clusters tr[data-cluster="demo"]').innerText();
		assert(/healthy/.test(demo) && /last pull/.test(demo) && /v1\.\d+/.test(demo), `demo row: ${demo}`);
		// The auth and namespace columns fold away at 760 px; they are still in the row.
		const auth = await ad.locator('#admin-clusters tr[data-cluster="demo"] td.col-opt').first().textContent();
		assert(auth === 'token', `demo auth: ${auth}`);
		assert(await ad.locator('#c-server').isVisible() && await ad.locator('#c-token').isVisible(), 'manual register form hidden');
		assert(await ad.locator('#w-url').count() === 1, 'webhook form missing');
		assert(!(await ad.locator('#nav-admin').isHidden()), 'admin link hidden for an admin');
	});
	await check('an admin registers a cluster through the form; its error sentence is listed; delete asks first', async () => {
		await ad.fill('#c-name', 'offline');
		await ad.fill('#c-server', 'https://127.0.0.1:9');
		await ad.fill('#c-token', 'not-a-real-token');
		await ad.click('#register-form button[type=submit]');
		await ad.waitForFunction(() => /Registered cluster offline; first pull failed/.test(document.querySelector('#register-form .status')?.textContent || ''),
		    null, { timeout: 15000 });
		const row = ad.locator('#admin-clusters tr[data-cluster="offline"]');
		await row.waitFor({ timeout: 30000 });
		const text = await row.innerText();
		assert(/failing/.test(text) && /https:\/\/127\.0\.0\.1:9/.test(text), `row: ${text}`);
		const sentence = await row.locator('.cluster-error').innerText();
		assert(sentence.length > 10 && !/not-a-real-token/.test(await ad.content()), `error sentence: ${sentence}`);
		await shot(ad, 'admin-registered');
		await row.locator('button.delete').click();
		await row.locator('button.cancel').click();
		assert(await row.locator('button.delete').count() === 1, 'cancel did not restore the row');
		// By keyboard: Enter on Delete asks, the focus moves to "Yes, delete", Enter confirms.
		await row.locator('button.delete').focus();
		await ad.keyboard.press('Enter');
		assert(/Delete offline and everything/.test(await row.locator('.confirm').innerText()), 'no confirmation');
		assert(await ad.evaluate(() => document.activeElement?.classList.contains('confirm-delete')), 'the focus is not on the confirmation');
		await ad.keyboard.press('Enter');
		await ad.waitForFunction(() => !document.querySelector('#admin-clusters tr[data-cluster="offline"]'), null, { timeout: 30000 });
		const gone = await api(url, 'GET', '/api/v1/clusters/offline', tok.admin);
		assert(gone.status === 404, `after delete: ${gone.status}`);
	});
	await check('an admin creates a token through the form and sees it once', async () => {
		await ad.fill('#t-name', 'from-the-form');
		await ad.selectOption('#t-role', 'editor');
		await ad.click('form:has(#t-name) button[type=submit]');
		await ad.waitForSelector('#new-token code.secret', { timeout: 30000 });
		const t = await ad.locator('#new-token code.secret').innerText();
		assert(/^skewd_/.test(t), `token shown: ${t.slice(0, 10)}…`);
		const who = JSON.parse((await api(url, 'GET', '/api/v1/whoami', t)).body);
		assert(who.name === 'from-the-form' && who.role === 'editor', JSON.stringify(who));
		formToken = t;
	});
	await check('an admin revokes that token after confirming; it no longer works', async () => {
		await goto(ad, url + '/#/admin');
		const row = ad.locator('#tokens tr[data-token="from-the-form"]');
		await row.locator('button.revoke').click();
		assert(/Revoke from-the-form\?/.test(await row.locator('.confirm').innerText()), 'no confirmation');
		await row.locator('button.confirm-revoke').click();
		await ad.waitForFunction(() => /revoked/.test(document.querySelector('#tokens tr[data-token="from-the-form"]')?.innerText || ''),
		    null, { timeout: 30000 });
		const r = await api(url, 'GET', '/api/v1/whoami', formToken);
		assert(r.status === 401, `the revoked token answered ${r.status}`);
	});
	await check('an admin registers a cluster from a kubeconfig file and adds a webhook', async () => {
		const kubeconfig = ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: c', '  cluster:',
			'    server: https://127.0.0.1:9', '    insecure-skip-tls-verify: true', 'users:', '- name: u', '  user:',
			'    token: not-a-real-token', 'contexts:', '- name: ctx', '  context:', '    cluster: c', '    user: u',
			'current-context: ctx', ''].join('\n');
		await ad.check('#c-mode-kubeconfig');
		assert(ad.url().includes('register=kubeconfig'), `register mode not in the URL: ${ad.url()}`);
		await ad.fill('#c-name', 'unreachable');
		await ad.setInputFiles('#c-kubeconfig', { name: 'kubeconfig.yaml', mimeType: 'text/yaml', buffer: Buffer.from(kubeconfig) });
		await ad.click('#register-form button[type=submit]');
		await ad.waitForSelector('#register-form .status.ok', { timeout: 15000 });
		// The page reloads its lists after a registration: the new cluster is listed, failing.
		await ad.waitForSelector('#admin-clusters tr[data-cluster="unreachable"] .cluster-error', { timeout: 30000 });
		await ad.fill('#w-name', 'oncall');
		await ad.fill('#w-url', 'https://hooks.example.invalid/skewd');
		await ad.click('form:has(#w-name) button[type=submit]');
		await ad.waitForFunction(() => /oncall/.test(document.querySelector('#h-webhooks')?.parentElement.innerText || '') &&
		    document.querySelector('#h-webhooks').parentElement.querySelector('table'), null, { timeout: 30000 });
	});
	await check('a failing cluster shows its error sentence on the overview', async () => {
		const r = await api(url, 'POST', '/api/v1/clusters/unreachable/collect', tok.admin);
		assert(r.status >= 200, r.body);
		await goto(ad, url + '/#/');
		const card = ad.locator('#clusters li[data-cluster="unreachable"]');
		await card.waitFor();
		const text = await card.innerText();
		assert(/failing/.test(text) && (await card.locator('.error').innerText()).length > 10, text);
	});
	await goto(ad, url + '/#/admin');
	await ad.waitForSelector('#tokens');
	await shot(ad, 'admin-narrow');
	await ad.close();

	const narrow = await newPage(browser, url, tok.viewer, { viewport: { width: 760, height: 900 }, scheme: 'dark' });
	await check('a narrow window (760 px): overview and target fit without a page-wide horizontal scroll', async () => {
		for (const [where, sel] of [['/#/', '#targets tr[data-target]'], ['/' + TARGET, '#charts[data-ready="1"]']]) {
			await goto(narrow, url + where);
			await narrow.waitForSelector(sel, { timeout: 30000 });
			const w = await narrow.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
			assert(w[0] <= w[1] + 1, `${where}: the page is ${w[0]} px wide in a ${w[1]} px window`);
		}
		await shot(narrow, 'target-narrow-dark');
	});
	await narrow.close();

	const nobody = await newPage(browser, url, 'skewd_0000000000000000_' + '0'.repeat(64));
	await check('a bad token shows the sign-in form with the reason', async () => {
		await goto(nobody, url + '/#/');
		await nobody.waitForSelector('#signin-message:not([hidden])', { timeout: 30000 });
		const m = await nobody.locator('#signin-message').innerText();
		assert(/401/.test(m) && /token/.test(m), m);
	});
	await shot(nobody, 'signin');
	await nobody.close();

	// 500 targets through route interception: the figure, not an assertion.
	const big = await newPage(browser, url, tok.viewer);
	await check('overview renders 500 targets (render time printed)', async () => {
		const targets = [], drifted = [];
		for (let i = 0; i < 500; i++) {
			const t = { target: `c${i % 5}/ns${i % 17}/deployment/svc-${i}`, cluster: `c${i % 5}`, namespace: `ns${i % 17}`,
				kind: 'deployment', name: `svc-${i}`, first_seen: '2026-11-27T09:00:00Z', last_seen: '2026-11-27T09:20:00Z',
				gone: false, latest_snapshot_id: i + 1 };
			targets.push(t);
			if (i % 3 === 0)
				drifted.push({ ...t, drift: { baseline_snapshot_id: 1, latest_snapshot_id: i + 1, changes: i % 7 + 1,
					by_category: { model: 0, runtime: i % 7 + 1, hardware: i % 2, serving: 0, orchestration: 0, other: 0 },
					by_severity: { critical: i % 2, high: i % 7, medium: 1, low: 0, info: 0 } } });
		}
		await big.route('**/api/v1/targets?drift=true', (r) => r.fulfill({ json: { targets: drifted } }));
		await big.route('**/api/v1/targets', (r) => r.fulfill({ json: { targets } }));
		await big.route('**/api/v1/targets/*/*/*/*/diff*', (r) => r.fulfill({ json: { verdict: { verdict: 'explained' } } }));
		const t0 = Date.now();
		await goto(big, url + '/#/');
		await big.waitForFunction(() => document.querySelectorAll('#targets tbody tr[data-target]').length === 500);
		const wall = Date.now() - t0;
		const inPage = await big.evaluate(() => document.getElementById('view').dataset.renderMs);
		console.log(`info overview with 500 targets: ${inPage} ms from fetch to table in the page, ${wall} ms from navigation`);
	});
	await check('a refresh keeps the filters and the scroll position', async () => {
		await big.fill('#f-q', 'svc-1');
		const rows = await big.locator('#targets tbody tr[data-target]').count();
		assert(rows > 50, `search svc-1 left ${rows} rows`);
		await big.evaluate(() => window.scrollTo(0, 1500));
		const y0 = await big.evaluate(() => window.scrollY);
		await big.evaluate(() => document.getElementById('refresh').click());
		await big.waitForFunction(() => document.getElementById('updated').textContent.startsWith('updated'));
		const y1 = await big.evaluate(() => window.scrollY);
		assert(y0 > 1000 && Math.abs(y1 - y0) <= 2, `scroll ${y0} -> ${y1}`);
		assert(await big.inputValue('#f-q') === 'svc-1', 'search box lost its text');
		assert(await big.locator('#targets tbody tr[data-target]').count() === rows, 'rows changed after refresh');
	});
	await shot(big, 'overview-500');
	await big.close();

	await check('an unreachable server gives a clear message', async () => {
		const p = await newPage(browser, url, tok.viewer);
		await goto(p, url + '/#/');
		await p.route('**/api/**', (r) => r.abort('connectionrefused'));
		await p.evaluate(() => { location.hash = '#/bundles'; });
		await p.waitForSelector('text=Cannot reach the skewd server', { timeout: 30000 });
		await shot(p, 'unreachable');
		await p.close();
	});
}

main().catch((e) => {
	bad('the browser test ran to its end', e.stack || e.message);
}).finally(summary);
