// common.mjs - what the browser tests share: the pass/fail count, a `skewd demo`
// started from a temporary tree whose fixture carries the XSS strings, tokens
// made against its data folder, and the checks both browsers run (charts drawn
// from the stored series). Not a test itself (tests/browser/*.mjs are).

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const src = process.env.SKEWD_SOURCE_DIR || path.resolve(here, '../../..');
export const bin = process.env.SKEWD_BIN || path.join(src, 'build/skewd');
export const artifacts = process.env.SKEWD_ARTIFACTS || path.join(src, 'tests/artifacts');
export const TARGET = '#/targets/demo/llm/deployment/vllm-llama';
export const TARGET_API = '/api/v1/targets/demo/llm/deployment/vllm-llama';

export const XSS = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>';
const count = { passed: 0, failed: 0 };
export const skipped = [];

export function ok(name) {
	count.passed++;
	console.log(`ok   ${name}`);
}
export function bad(name, why) {
	count.failed++;
	console.log(`FAIL ${name}: ${why}`);
}
export async function check(name, fn) {
	try {
		const r = await fn();
		if (r === false)
			bad(name, 'condition false');
		else
			ok(name);
	} catch (e) {
		bad(name, e.message.split('\n').slice(0, 4).join(' | '));
	}
}
export function assert(c, msg) {
	if (!c)
		throw new Error(msg);
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
		s.on('error', reject);
	});
}

// A tree the demo finds its fixtures in: bin/skewd, tests/fixtures/cluster
// (a copy, with the XSS strings added to the current state) and the role file.
export function makeTree(tmp) {
	const root = path.join(tmp, 'tree');
	fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
	fs.copyFileSync(bin, path.join(root, 'bin/skewd'));
	fs.chmodSync(path.join(root, 'bin/skewd'), 0o755);
	fs.cpSync(path.join(src, 'tests/fixtures/cluster'), path.join(root, 'tests/fixtures/cluster'), { recursive: true });
	fs.mkdirSync(path.join(root, 'deploy/kubernetes'), { recursive: true });
	fs.copyFileSync(path.join(src, 'deploy/kubernetes/clusterrole-collector.yaml'),
	    path.join(root, 'deploy/kubernetes/clusterrole-collector.yaml'));
	const f = path.join(root, 'tests/fixtures/cluster/current/10-vllm-llama.yaml');
	const y = fs.readFileSync(f, 'utf8');
	// The Deployment's own labels and annotations (the first "app: vllm-llama"
	// and the first annotations block): a label value and an annotation with markup.
	const quoted = XSS.replace(/'/g, "''");
	const withXss = y.replace('  labels:\n    app: vllm-llama\n',
	    `  labels:\n    app: vllm-llama\n    team: '${quoted}'\n`)
	    .replace('  annotations:\n', `  annotations:\n    skewd.test/xss: '${quoted}'\n`);
	assert(withXss !== y, 'the fixture copy did not take the XSS strings');
	fs.writeFileSync(f, withXss);
	return root;
}

export async function startDemo(root, data, port, logName = 'demo.log') {
	const logPath = path.join(artifacts, logName);
	const log = fs.openSync(logPath, 'w');
	const child = spawn(path.join(root, 'bin/skewd'), ['demo', '--listen', `127.0.0.1:${port}`, '--data-dir', data],
	    { stdio: ['ignore', log, log] });
	const url = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 300; i++) {
		await new Promise((r) => setTimeout(r, 100));
		if (child.exitCode !== null)
			throw new Error('skewd demo exited: ' + fs.readFileSync(logPath, 'utf8').slice(-600));
		const text = fs.readFileSync(logPath, 'utf8');
		if (text.includes('listening on'))
			return { child, url };
	}
	child.kill('SIGTERM');
	throw new Error('skewd demo did not start in 30 s');
}

export function makeToken(root, data, name, role) {
	const cfg = path.join(data, '..', 'cfg.yaml');
	fs.writeFileSync(cfg, `data_dir: ${data}\n`);
	const out = execFileSync(path.join(root, 'bin/skewd'), ['token', 'create', '--name', name, '--role', role, '--config', cfg],
	    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	const t = out.split('\n').find((l) => l.startsWith('skewd_'));
	assert(t, `no token in: ${out}`);
	return t.trim();
}

export async function api(url, method, p, tok, body) {
	const r = await fetch(url + p, {
		method, headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json' },
		body: body ? JSON.stringify(body) : undefined,
	});
	return { status: r.status, body: await r.text() };
}


// The charts must be drawn from GET .../metrics: as many points as the series
// has values, every key metric drawn or "absent: reason", the baseline and the
// configuration change marked, and the change marker's colour on the canvas.
// Works with a Playwright or a Puppeteer page (page.evaluate only).
export async function checkCharts(page, url, tok, want) {
	const r = await fetch(url + TARGET_API + '/metrics?window=' + want.window, { headers: { Authorization: 'Bearer ' + tok } });
	const series = await r.json();
	const facts = await page.evaluate(() => {
		const card = document.getElementById('charts');
		const figs = {};
		for (const f of card.querySelectorAll('figure.chart')) {
			const c = f.querySelector('canvas');
			let purple = 0;
			if (c) {
				const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
				for (let i = 0; i < d.length; i += 4)
					if (Math.abs(d[i] - 0x8e) < 24 && Math.abs(d[i + 1] - 0x44) < 24 && Math.abs(d[i + 2] - 0xad) < 24 && d[i + 3] > 128)
						purple++;
			}
			figs[f.dataset.metric] = { ...f.dataset, canvas: f.querySelectorAll('canvas').length, purple,
				caption: f.querySelector('figcaption').textContent, absent: f.querySelector('.absent-reason')?.textContent || null };
		}
		return { card: { ...card.dataset }, figs };
	});
	// The demo keeps polling: compare with the points the page had (the same first and last pull).
	const pts = series.points.filter((p) => p.at >= Number(facts.card.first) && p.at <= Number(facts.card.last));
	assert(pts.length >= 6, `the demo's series has ${pts.length} points`);
	assert(facts.card.points === String(pts.length), `card points ${facts.card.points} != ${pts.length}`);
	const perPod = (key) => pts.filter((p) => p.scrapes.some((s) => s.source === 'pod' && s.figures && typeof s.figures[key] === 'number')).length;
	for (const key of ['request_rate', 'generation_tokens_per_s', 'e2e_latency_p99', 'ttft_p99', 'kv_cache_usage']) {
		const f = facts.figs[key];
		const n = perPod(key);
		assert(f, `no chart for ${key}`);
		assert(n >= 4, `${key}: only ${n} points with a value`);
		assert(f.points === String(n), `${key}: ${f.points} points drawn, the series has ${n}`);
		assert(f.drawnPoints === String(n), `${key}: uPlot holds ${f.drawnPoints} points`);
		assert(f.canvas === 1, `${key}: ${f.canvas} canvases`);
		assert(f.changeMarks === '1', `${key}: change marks ${f.changeMarks}`);
		assert(f.baselineMark === '1', `${key}: no baseline mark`);
		assert(f.purple > 40, `${key}: ${f.purple} change-marker pixels on the canvas`);
	}
	const gpu = pts.filter((p) => p.scrapes.some((s) => s.source === 'dcgm' && (s.gpus || []).some((g) => typeof g.utilization_percent === 'number'))).length;
	assert(facts.figs.gpu_utilization && facts.figs.gpu_utilization.points === String(gpu), 'GPU utilisation points');
	for (const [k, f] of Object.entries(facts.figs))
		assert(f.canvas === 1 || /^absent: \S/.test(f.absent || ''), `${k}: neither drawn nor "absent: reason"`);
	assert(facts.card.changes === String(want.latest), `change markers at ${facts.card.changes}`);
	assert(facts.card.baseline === String(want.first), `baseline marker at ${facts.card.baseline}`);
	assert(/req\/s/.test(facts.figs.request_rate.caption), `no unit: ${facts.figs.request_rate.caption}`);
	return facts;
}

// Starts the demo and makes the three tokens; stop() ends it and removes the tree.
export async function demo(prefix) {
	fs.mkdirSync(artifacts, { recursive: true });
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	const root = makeTree(tmp);
	const data = path.join(tmp, 'data');
	const port = await freePort();
	const { child, url } = await startDemo(root, data, port, prefix.replace(/-$/, '') + '-demo.log');
	const tok = {
		viewer: makeToken(root, data, 'browser-viewer', 'viewer'),
		editor: makeToken(root, data, 'browser-editor', 'editor'),
		admin: makeToken(root, data, 'browser-admin', 'admin'),
	};
	const stop = async () => {
		child.kill('SIGTERM');
		await new Promise((r) => child.exitCode !== null ? r() : child.on('exit', r));
		fs.rmSync(tmp, { recursive: true, force: true });
	};
	return { url, tok, tmp, stop };
}

// Every count line, then "N passed, N failed" (what tests/lint/browser*.sh read).
export function summary() {
	for (const s of skipped)
		console.log(`skip ${s}`);
	console.log(`${count.passed} passed, ${count.failed} failed`);
	process.exitCode = count.failed > 0 || count.passed === 0 ? 1 : 0;
}

// Extracts a downloaded bundle and checks its MANIFEST.sha256 with sha256sum -c.
export function verifyBundle(file) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-bundle-'));
	try {
		execFileSync('tar', ['-xzf', file, '-C', dir]);
		const manifest = execFileSync('find', [dir, '-name', 'MANIFEST.sha256'], { encoding: 'utf8' }).trim().split('\n')[0];
		assert(manifest, 'no MANIFEST.sha256 in the bundle');
		const out = execFileSync('sha256sum', ['-c', path.basename(manifest)], { cwd: path.dirname(manifest), encoding: 'utf8' });
		const lines = out.trim().split('\n');
		assert(lines.length >= 3 && lines.every((l) => l.endsWith(': OK')), out);
		return lines.length;
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}
