// app.js - the skewd dashboard: a hash router over the REST API.
//
// Routes (each a link a person can paste):
//   #/                                   overview (?cluster=&ns=&drifted=1&q=&sort=)
//   #/targets/C/NS/KIND/NAME             a target (?from=ID&to=ID compares two snapshots)
//   #/bundles                            evidence bundles
//   #/admin                              clusters, webhooks, tokens (admin)
//   #/signin                             the token form

import { h, fill, safePath, show, when, ago } from './dom.js';
import { ApiError, call, get, token, setToken, targetPath } from './api.js';
import { renderTarget } from './target.js';

const view = document.getElementById('view');
const banner = document.getElementById('banner');
const ROLES = { viewer: 1, editor: 2, admin: 3 };
export const CATEGORIES = ['model', 'runtime', 'hardware', 'serving', 'orchestration', 'other'];
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const REFRESH_MS = 30000;

export const session = { who: null };
let refreshTimer = null;
let routeSeq = 0;

export function can(role) {
	return session.who !== null && (ROLES[session.who.role] || 0) >= ROLES[role];
}

export function notice(msg, kind = 'error') {
	if (!msg) {
		banner.hidden = true;
		return;
	}
	fill(banner, msg);
	banner.className = 'banner ' + kind;
	banner.hidden = false;
}

// Shows an API error: 401 leads to the sign-in form with its sentence.
export function showError(e, where) {
	if (e instanceof ApiError && e.status === 401) {
		renderSignin(e.message);
		return;
	}
	const msg = e instanceof ApiError ? e.message : `Unexpected error: ${e.message}`;
	if (where)
		fill(where, h('p', { class: 'error', role: 'alert' }, msg));
	else
		notice(msg);
}

export function parseHash() {
	const raw = location.hash.replace(/^#/, '') || '/';
	const qi = raw.indexOf('?');
	const path = qi < 0 ? raw : raw.slice(0, qi);
	const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
	const parts = path.split('/').filter(Boolean).map((s) => {
		try {
			return decodeURIComponent(s);
		} catch (e) {
			return s;
		}
	});
	return { parts, query };
}

export function targetHash(t, query) {
	const q = query && query.toString();
	return '#/targets/' + [t.cluster, t.namespace, t.kind, t.name].map(encodeURIComponent).join('/') +
	    (q ? '?' + q : '');
}

// Updates the address to reflect filters without re-routing.
function replaceQuery(base, query) {
	const q = query.toString();
	history.replaceState(null, '', base + (q ? '?' + q : ''));
}

async function loadWho() {
	try {
		session.who = await get('/api/v1/whoami');
	} catch (e) {
		session.who = null;
		throw e;
	} finally {
		renderWho();
	}
}

function renderWho() {
	const who = document.getElementById('who');
	document.getElementById('nav-admin').hidden = !can('admin');
	if (session.who === null) {
		fill(who, h('a', { href: '#/signin', class: 'button' }, 'Sign in'));
		return;
	}
	const name = session.who.anonymous ? 'anonymous' : session.who.name;
	fill(who,
	    h('span', { class: 'muted' }, name + ' · '),
	    h('span', { class: 'role role-' + session.who.role }, session.who.role),
	    token() ? h('button', { type: 'button', onclick: signOut }, 'Sign out')
	        : h('a', { href: '#/signin', class: 'button' }, 'Sign in'));
}

function signOut() {
	setToken('');
	session.who = null;
	location.hash = '#/signin';
	route();
}

export function renderSignin(message) {
	stopRefresh();
	document.title = 'Sign in · skewd';
	const input = h('input', {
		id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
		placeholder: 'skewd_…', required: true, 'aria-describedby': 'signin-help',
	});
	const status = h('p', { class: 'error', role: 'alert', id: 'signin-message' }, message || '');
	const form = h('form', {
		class: 'card signin', onsubmit: async (ev) => {
			ev.preventDefault();
			setToken(input.value.trim());
			try {
				await loadWho();
				notice('');
				if (location.hash.startsWith('#/signin'))
					location.hash = '#/';
				else
					route();
			} catch (e) {
				setToken('');
				fill(status, e.message);
				status.hidden = false;
			}
		},
	},
	h('h1', null, 'Sign in'),
	h('p', { id: 'signin-help' }, 'Paste an API token (create one with ',
	    h('code', null, 'skewd token create --name me --role viewer'),
	    '). It is kept in this tab\'s session storage only.'),
	h('label', { for: 'token' }, 'Token'), input,
	h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
	status);
	status.hidden = !message;
	fill(view, form);
	input.focus();
}

function stopRefresh() {
	if (refreshTimer !== null)
		clearInterval(refreshTimer);
	refreshTimer = null;
}

function setNav(name) {
	for (const a of document.querySelectorAll('[data-nav]')) {
		if (a.dataset.nav === name)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
}

// ---------------------------------------------------------------- overview

function worstSeverity(drift) {
	if (!drift || !drift.by_severity)
		return null;
	for (const s of SEVERITIES) {
		if (drift.by_severity[s] > 0)
			return s;
	}
	return null;
}

export function sevBadge(sev) {
	return sev ? h('span', { class: 'sev sev-' + sev }, sev) : h('span', { class: 'muted' }, '—');
}

export function verdictBadge(v) {
	return v ? h('span', { class: 'verdict verdict-' + v.replace(/[^a-z_-]/g, '') }, v.replace(/_/g, ' ')) : null;
}

function clusterCard(c) {
	const hl = c.health || {};
	const state = hl.last_error ? 'failing' : hl.last_success_at ? 'healthy' : 'not pulled yet';
	return h('li', { class: 'cluster ' + (hl.last_error ? 'bad' : hl.last_success_at ? 'ok' : 'new'), dataset: { cluster: c.name } },
	    h('strong', null, c.name),
	    h('span', { class: 'dot', 'aria-hidden': 'true' }),
	    h('span', null, state),
	    h('span', { class: 'muted' }, hl.last_pull_at ? ' · last pull ' + ago(hl.last_pull_at) : ' · never pulled'),
	    hl.last_error && hl.last_success_at ? h('span', { class: 'muted' }, ' · last success ' + ago(hl.last_success_at)) : null,
	    hl.server_version ? h('span', { class: 'muted' }, ' · ' + hl.server_version) : null,
	    hl.last_error ? h('div', { class: 'error' }, hl.last_error) : null);
}

const overview = {
	data: null,
	verdicts: new Map(), // target id + snapshot ids -> verdict word
	sort: 'severity',
};

async function loadOverview() {
	const [clusters, all, drifted] = await Promise.all([
		get('/api/v1/clusters'),
		get('/api/v1/targets'),
		get('/api/v1/targets?drift=true').catch((e) => {
			if (e instanceof ApiError && (e.status === 400 || e.status === 404))
				return { targets: [] };
			throw e;
		}),
	]);
	const drift = new Map();
	for (const t of drifted.targets || [])
		drift.set(t.target, t.drift);
	const targets = (all.targets || []).map((t) => ({ ...t, drift: drift.get(t.target) || null }));
	return { clusters: clusters.clusters || [], targets };
}

function verdictKey(t) {
	return `${t.target}@${t.drift.baseline_snapshot_id}-${t.drift.latest_snapshot_id}`;
}

// Verdicts of the drifted targets, a few at a time, into the table as they come.
async function loadVerdicts(targets, seq) {
	const todo = targets.filter((t) => t.drift && t.drift.changes > 0 && !overview.verdicts.has(verdictKey(t)))
	    .slice(0, 100);
	const worker = async () => {
		while (todo.length > 0 && seq === routeSeq) {
			const t = todo.shift();
			try {
				const d = await get(targetPath(t) + '/diff?from=baseline&to=latest&format=json');
				overview.verdicts.set(verdictKey(t), d.verdict ? d.verdict.verdict : null);
			} catch (e) {
				overview.verdicts.set(verdictKey(t), null);
			}
			const cell = view.querySelector(`td.verdict-cell[data-key="${CSS.escape(verdictKey(t))}"]`);
			if (cell)
				fill(cell, verdictBadge(overview.verdicts.get(verdictKey(t))) || '—');
		}
	};
	await Promise.all([worker(), worker(), worker(), worker()]);
}

function sevRank(t) {
	const s = worstSeverity(t.drift);
	return s ? SEVERITIES.indexOf(s) : SEVERITIES.length + (t.drift ? 0 : 1);
}

const SORTS = {
	severity: (a, b) => sevRank(a) - sevRank(b) || (b.drift ? b.drift.changes : 0) - (a.drift ? a.drift.changes : 0) ||
	    a.target.localeCompare(b.target),
	name: (a, b) => a.name.localeCompare(b.name) || a.target.localeCompare(b.target),
	cluster: (a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace) ||
	    a.name.localeCompare(b.name),
	changes: (a, b) => (b.drift ? b.drift.changes : -1) - (a.drift ? a.drift.changes : -1) ||
	    a.target.localeCompare(b.target),
	seen: (a, b) => String(b.last_seen).localeCompare(String(a.last_seen)),
};

function targetRow(t) {
	const d = t.drift;
	const badges = h('td', { class: 'badges' });
	if (d) {
		for (const c of CATEGORIES) {
			const n = d.by_category ? d.by_category[c] : 0;
			if (n > 0)
				badges.appendChild(h('span', { class: 'cat cat-' + c, title: `${n} ${c} change(s)` }, c + ' ' + n));
		}
		if (d.changes === 0)
			badges.appendChild(h('span', { class: 'muted' }, 'no drift'));
	} else {
		badges.appendChild(h('span', { class: 'muted' }, 'no drift, or no baseline'));
	}
	const vcell = h('td', { class: 'verdict-cell', dataset: d ? { key: verdictKey(t) } : {} });
	if (d && d.changes > 0)
		fill(vcell, verdictBadge(overview.verdicts.get(verdictKey(t))) || h('span', { class: 'muted' }, '…'));
	else
		fill(vcell, '—');
	return h('tr', { class: t.gone ? 'gone' : null, dataset: { target: t.target } },
	    h('td', null, h('a', { href: targetHash(t) }, t.name), t.gone ? h('span', { class: 'muted' }, ' (gone)') : null),
	    h('td', null, t.cluster), h('td', null, t.namespace), h('td', { class: 'col-kind' }, t.kind),
	    badges, h('td', null, sevBadge(worstSeverity(d))), vcell,
	    h('td', { title: t.last_seen }, ago(t.last_seen)));
}

async function renderOverview(query, seq) {
	setNav('overview');
	document.title = 'Overview · skewd';
	const f = {
		cluster: query.get('cluster') || '',
		ns: query.get('ns') || '',
		drifted: query.get('drifted') === '1',
		q: query.get('q') || '',
		sort: SORTS[query.get('sort')] ? query.get('sort') : 'severity',
	};
	const t0 = performance.now();
	const data = await loadOverview();
	if (seq !== routeSeq)
		return;
	overview.data = data;

	const clusterSel = h('select', { id: 'f-cluster', 'aria-label': 'Cluster' }, h('option', { value: '' }, 'all clusters'));
	const nsSel = h('select', { id: 'f-ns', 'aria-label': 'Namespace' }, h('option', { value: '' }, 'all namespaces'));
	const drifted = h('input', { type: 'checkbox', id: 'f-drifted', checked: f.drifted });
	const search = h('input', { type: 'search', id: 'f-q', placeholder: 'Search by name', value: f.q, 'aria-label': 'Search' });
	const count = h('span', { class: 'muted', id: 'count', 'aria-live': 'polite' });
	const refreshButton = h('button', { type: 'button', id: 'refresh', title: 'Refreshes every 30 s on its own' }, 'Refresh');
	const updated = h('span', { class: 'muted small', id: 'updated' });
	const tbody = h('tbody');
	const sortButtons = {};
	const th = (key, label) => {
		const b = h('button', { type: 'button', class: 'sort', onclick: () => { f.sort = key; redraw(); } }, label);
		sortButtons[key] = b;
		return h('th', { scope: 'col' }, b);
	};

	const fillSelects = () => {
		const clusters = [...new Set(overview.data.targets.map((t) => t.cluster))].sort();
		const namespaces = [...new Set(overview.data.targets.filter((t) => !f.cluster || t.cluster === f.cluster)
		    .map((t) => t.namespace))].sort();
		fill(clusterSel, h('option', { value: '' }, 'all clusters'),
		    clusters.map((c) => h('option', { value: c, selected: c === f.cluster }, c)));
		fill(nsSel, h('option', { value: '' }, 'all namespaces'),
		    namespaces.map((n) => h('option', { value: n, selected: n === f.ns }, n)));
		clusterSel.value = f.cluster;
		nsSel.value = f.ns;
	};

	const redraw = () => {
		const q = f.q.toLowerCase();
		const rows = overview.data.targets.filter((t) =>
		    (!f.cluster || t.cluster === f.cluster) && (!f.ns || t.namespace === f.ns) &&
		    (!f.drifted || (t.drift && t.drift.changes > 0)) &&
		    (!q || t.name.toLowerCase().includes(q) || t.target.toLowerCase().includes(q)));
		rows.sort(SORTS[f.sort]);
		const frag = document.createDocumentFragment();
		for (const t of rows)
			frag.appendChild(targetRow(t));
		tbody.replaceChildren(frag);
		if (rows.length === 0)
			tbody.appendChild(h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'No target matches these filters.')));
		const ndrift = overview.data.targets.filter((t) => t.drift && t.drift.changes > 0).length;
		fill(count, `${rows.length} of ${overview.data.targets.length} targets · ${ndrift} drifted`);
		for (const [k, b] of Object.entries(sortButtons))
			b.setAttribute('aria-pressed', k === f.sort ? 'true' : 'false');
		const p = new URLSearchParams();
		if (f.cluster) p.set('cluster', f.cluster);
		if (f.ns) p.set('ns', f.ns);
		if (f.drifted) p.set('drifted', '1');
		if (f.q) p.set('q', f.q);
		if (f.sort !== 'severity') p.set('sort', f.sort);
		replaceQuery('#/', p);
	};

	clusterSel.addEventListener('change', () => { f.cluster = clusterSel.value; f.ns = ''; fillSelects(); redraw(); });
	nsSel.addEventListener('change', () => { f.ns = nsSel.value; redraw(); });
	drifted.addEventListener('change', () => { f.drifted = drifted.checked; redraw(); });
	search.addEventListener('input', () => { f.q = search.value; redraw(); });

	const clusterList = h('ul', { class: 'clusters', id: 'clusters' });
	const drawClusters = () => {
		fill(clusterList, overview.data.clusters.length ? overview.data.clusters.map(clusterCard)
		    : h('li', { class: 'muted' }, 'No cluster registered yet.',
		        can('admin') ? h('a', { href: '#/admin' }, ' Register one.') : null));
	};

	fill(view,
	    h('h1', null, 'Overview'),
	    h('section', { 'aria-labelledby': 'h-clusters' }, h('h2', { id: 'h-clusters' }, 'Clusters'), clusterList),
	    h('section', { 'aria-labelledby': 'h-targets' },
	        h('h2', { id: 'h-targets' }, 'Targets'),
	        h('div', { class: 'filters' }, clusterSel, nsSel,
	            h('label', { class: 'check' }, drifted, ' drifted only'), search, count, refreshButton, updated),
	        h('div', { class: 'table-wrap' },
	            h('table', { class: 'targets', id: 'targets' },
	                h('thead', null, h('tr', null, th('name', 'Target'), th('cluster', 'Cluster'),
	                    h('th', { scope: 'col' }, 'Namespace'), h('th', { scope: 'col', class: 'col-kind' }, 'Kind'),
	                    th('changes', 'Drift vs baseline'), th('severity', 'Worst'),
	                    h('th', { scope: 'col' }, 'Verdict'), th('seen', 'Last seen'))),
	                tbody))));
	drawClusters();
	fillSelects();
	redraw();
	view.dataset.renderMs = String(Math.round(performance.now() - t0));
	loadVerdicts(overview.data.targets, seq);

	// Auto-refresh: new data into the same table, so scroll, focus and filters stay.
	const refresh = async () => {
		if (seq !== routeSeq)
			return;
		try {
			overview.data = await loadOverview();
			if (seq !== routeSeq)
				return;
			notice('');
			drawClusters();
			fillSelects();
			redraw();
			fill(updated, 'updated ' + new Date().toLocaleTimeString());
			loadVerdicts(overview.data.targets, seq);
		} catch (e) {
			if (e instanceof ApiError && e.status === 401)
				showError(e);
			else
				notice('Refresh failed: ' + e.message);
		}
	};
	refreshButton.addEventListener('click', refresh);
	stopRefresh();
	refreshTimer = setInterval(() => {
		if (!document.hidden)
			refresh();
	}, REFRESH_MS);
}

// ---------------------------------------------------------------- bundles

export function bundleLinks(b) {
	const link = safePath(b.url);
	const abs = link ? location.origin + link : null;
	const copy = h('button', {
		type: 'button', class: 'copy', disabled: !abs, onclick: async (ev) => {
			try {
				await navigator.clipboard.writeText(abs);
				fill(ev.target, 'Copied');
			} catch (e) {
				fill(ev.target, 'Copy failed: select the link');
			}
			setTimeout(() => fill(ev.target, 'Copy link'), 2000);
		},
	}, 'Copy link');
	const dl = h('button', { type: 'button', class: 'download', onclick: () => download(b) }, 'Download');
	return h('span', { class: 'links' },
	    abs ? h('a', { href: link, class: 'bundle-link', target: '_blank', rel: 'noopener' }, abs) : null,
	    copy, dl);
}

// Downloads a bundle with the session's token (a plain link would go without it).
export async function download(b) {
	const path = safePath(b.download) || '/api/v1/bundles/' + encodeURIComponent(b.id) + '/download';
	try {
		const r = await call('GET', path, undefined, { raw: true });
		const blob = await r.blob();
		const url = URL.createObjectURL(blob);
		const a = h('a', { href: url, download: `skewd-bundle-${b.id}.tar.gz`, hidden: true });
		document.body.appendChild(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(url), 10000);
	} catch (e) {
		showError(e);
	}
}

async function renderBundles(query, seq) {
	setNav('bundles');
	document.title = 'Bundles · skewd';
	const data = await get('/api/v1/bundles');
	if (seq !== routeSeq)
		return;
	const open = query.get('open');
	const rows = (data.bundles || []).map((b) => h('tr', { class: String(b.id) === open ? 'selected' : null },
	    h('td', null, h('a', { href: '#/bundles?open=' + encodeURIComponent(b.id) }, String(b.id))),
	    h('td', null, b.target ? h('a', { href: targetHash(splitTarget(b.target)) }, b.target) : '—'),
	    h('td', null, `${show(b.from)} → ${show(b.to)}`),
	    h('td', null, when(b.created_at)), h('td', null, b.created_by || '—'),
	    h('td', null, sizeText(b.size)), h('td', null, bundleLinks(b))));
	// The opened bundle's metadata with its file list (the list leaves files out).
	const detail = open ? await get('/api/v1/bundles/' + encodeURIComponent(open)).catch((e) => {
		if (e instanceof ApiError && e.status === 404)
			return null;
		throw e;
	}) : null;
	if (seq !== routeSeq)
		return;
	fill(view, h('h1', null, 'Evidence bundles'),
	    open && !detail ? h('p', { class: 'error' }, `No bundle ${open} (deleted, or past its retention).`) : null,
	    rows.length === 0 ? h('p', { class: 'muted' }, 'No bundle yet: open a target and create one.')
	        : h('div', { class: 'table-wrap' }, h('table', { id: 'bundles' },
	            h('thead', null, h('tr', null, ['Bundle', 'Target', 'Snapshots', 'Created', 'By', 'Size', 'Link']
	                .map((x) => h('th', { scope: 'col' }, x)))),
	            h('tbody', null, rows))),
	    detail ? bundleDetail(detail) : null);
}

function bundleDetail(b) {
	return h('section', { class: 'card', id: 'bundle-detail' },
	    h('h2', null, 'Bundle ' + b.id),
	    h('dl', { class: 'kv' },
	        h('dt', null, 'Target'), h('dd', null, b.target || '—'),
	        h('dt', null, 'SHA-256'), h('dd', { class: 'mono' }, b.sha256 || '—'),
	        h('dt', null, 'Truncated'), h('dd', null, b.truncated ? 'yes (over the size cap)' : 'no'),
	        h('dt', null, 'Redactions'), h('dd', null, typeof b.redactions === 'number' ? `${b.redactions} secret value(s) masked` : '—'),
	        h('dt', null, 'Created'), h('dd', null, `${when(b.created_at)} by ${show(b.created_by)}`)),
	    Array.isArray(b.files) && b.files.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'bundle-files' },
	        h('thead', null, h('tr', null, ['File', 'Size', 'SHA-256'].map((x) => h('th', { scope: 'col' }, x)))),
	        h('tbody', null, b.files.map((f) => h('tr', null, h('td', { class: 'mono' }, show(f.name)),
	            h('td', null, sizeText(f.bytes)), h('td', { class: 'mono small' }, show(f.sha256))))))) : null,
	    bundleLinks(b));
}

export function splitTarget(s) {
	const [cluster, namespace, kind, ...rest] = String(s).split('/');
	return { cluster, namespace, kind, name: rest.join('/') };
}

export function sizeText(n) {
	if (typeof n !== 'number')
		return '—';
	if (n < 1024)
		return n + ' B';
	if (n < 1048576)
		return (n / 1024).toFixed(1) + ' KiB';
	return (n / 1048576).toFixed(1) + ' MiB';
}

// ---------------------------------------------------------------- admin

async function renderAdmin(query, seq) {
	setNav('admin');
	document.title = 'Admin · skewd';
	if (!can('admin')) {
		fill(view, h('h1', null, 'Admin'),
		    h('p', { class: 'error' }, 'Your token\'s role (' + (session.who ? session.who.role : 'none') +
		        ') may not manage clusters, webhooks or tokens; sign in with an admin token.'));
		return;
	}
	const [clusters, tokens, webhooks] = await Promise.all([
		get('/api/v1/clusters'),
		get('/api/v1/tokens'),
		get('/api/v1/webhooks'),
	]);
	if (seq !== routeSeq)
		return;
	fill(view, h('h1', null, 'Admin'), clusterSection(clusters.clusters || []), clusterForm(),
	    webhookSection(webhooks.webhooks || []), tokenSection(tokens.tokens || []));
}

function formStatus() {
	return h('p', { class: 'status', role: 'status' });
}

async function submit(status, fn) {
	fill(status, 'Working…');
	status.className = 'status';
	try {
		const msg = await fn();
		fill(status, msg);
		status.className = 'status ok';
	} catch (e) {
		fill(status, e.message);
		status.className = 'status error';
		if (e instanceof ApiError && e.status === 401)
			showError(e);
	}
}

function field(id, label, input) {
	input.id = id;
	return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

// A destructive button that asks in the page first: "Yes, …" runs it, Cancel puts the button back.
function confirmAction(cell, { label, cls, aria, question, yes, run }) {
	const normal = () => fill(cell, h('button', {
		type: 'button', class: cls, 'aria-label': aria, onclick: () => {
			const ok = h('button', { type: 'button', class: 'danger confirm-' + cls, onclick: run }, yes);
			fill(cell, h('span', { class: 'confirm', role: 'group', 'aria-label': 'Confirm' }, question + ' ', ok,
			    h('button', { type: 'button', class: 'cancel', onclick: normal }, 'Cancel')));
			ok.focus();
		},
	}, label));
	normal();
	return cell;
}

// Clusters with their health; each can be pulled now or deleted (after an in-page confirmation).
function clusterSection(list) {
	const status = formStatus();
	const rows = list.map((c) => {
		const hl = c.health || {};
		const state = hl.last_error ? 'failing' : hl.last_success_at ? 'healthy' : 'not pulled yet';
		const pullNow = h('button', {
			type: 'button', class: 'pull', onclick: () => submit(status, async () => {
				try {
					const r = await call('POST', '/api/v1/clusters/' + encodeURIComponent(c.name) + '/collect');
					return `Pulled ${c.name}: ${(r.snapshots || []).length} target(s), ${(r.errors || []).length} error(s).`;
				} finally {
					setTimeout(route, 800);
				}
			}),
		}, 'Pull now');
		const del = confirmAction(h('span'), {
			label: 'Delete', cls: 'delete', aria: `Delete cluster ${c.name}`, yes: 'Yes, delete',
			question: `Delete ${c.name} and everything collected from it?`,
			run: () => submit(status, async () => {
				await call('DELETE', '/api/v1/clusters/' + encodeURIComponent(c.name));
				setTimeout(route, 600);
				return `Deleted cluster ${c.name} with its targets, snapshots and evidence.`;
			}),
		});
		const actions = h('td', { class: 'actions' }, pullNow, del);
		return h('tr', { class: 'cluster-row ' + (hl.last_error ? 'bad' : ''), dataset: { cluster: c.name } },
		    h('td', null, h('strong', null, c.name), h('div', { class: 'muted small mono' }, show(c.server))),
		    h('td', { class: 'col-opt' }, c.auth && c.auth.kind ? c.auth.kind.replace(/_/g, ' ') : '—',
		        c.insecure_skip_tls_verify ? h('div', { class: 'error small' }, 'TLS not verified') : null),
		    h('td', { class: 'col-opt' }, Array.isArray(c.namespaces) && c.namespaces.length ? c.namespaces.join(', ') : 'all'),
		    h('td', { class: 'health' }, h('span', { class: 'state' }, state),
		        h('div', { class: 'muted small' }, hl.last_pull_at ? `last pull ${ago(hl.last_pull_at)} (${when(hl.last_pull_at)})` : 'never pulled'),
		        hl.last_error && hl.last_success_at ? h('div', { class: 'muted small' }, 'last success ' + ago(hl.last_success_at)) : null,
		        hl.last_error ? h('div', { class: 'error cluster-error' }, hl.last_error) : null),
		    h('td', null, hl.server_version || '—'),
		    actions);
	});
	return h('section', { class: 'card', 'aria-labelledby': 'h-admin-clusters' },
	    h('h2', { id: 'h-admin-clusters' }, 'Clusters'),
	    rows.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'admin-clusters' },
	        h('thead', null, h('tr', null, [['Cluster'], ['Auth', 'col-opt'], ['Namespaces', 'col-opt'], ['Health'],
	            ['Server version'], ['']].map(([x, cls]) => h('th', { scope: 'col', class: cls || null }, x)))),
	        h('tbody', null, rows)))
	        : h('p', { class: 'muted' }, 'No cluster registered yet.'),
	    status);
}

function textOf(input) {
	return input.files && input.files[0] ? input.files[0].text() : Promise.resolve('');
}

// Registers a cluster from a server URL and credentials, or from a kubeconfig
// file, then pulls it once so its health (or error sentence) shows at once.
function clusterForm() {
	const mode = new URLSearchParams(location.hash.split('?')[1] || '').get('register') === 'kubeconfig' ? 'kubeconfig' : 'manual';
	const name = h('input', { required: true, pattern: '[a-z0-9]([a-z0-9\\-]*[a-z0-9])?', maxlength: 63, placeholder: 'prod-eu', autocomplete: 'off' });
	const server = h('input', { type: 'url', placeholder: 'https://10.0.0.1:6443', autocomplete: 'off' });
	const ca = h('textarea', { rows: 3, placeholder: '-----BEGIN CERTIFICATE-----   (empty: the system CAs)', spellcheck: 'false' });
	const caFile = h('input', { type: 'file', accept: '.pem,.crt,.cer,text/plain,*/*' });
	const insecure = h('input', { type: 'checkbox' });
	const authKind = h('select', null, h('option', { value: 'token' }, 'bearer token'),
	    h('option', { value: 'client_cert' }, 'client certificate and key'));
	const tokenIn = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
	const cert = h('textarea', { rows: 3, placeholder: '-----BEGIN CERTIFICATE-----', spellcheck: 'false' });
	const certFile = h('input', { type: 'file', accept: '.pem,.crt,text/plain,*/*' });
	const key = h('textarea', { rows: 3, placeholder: '-----BEGIN PRIVATE KEY-----', spellcheck: 'false' });
	const keyFile = h('input', { type: 'file', accept: '.pem,.key,text/plain,*/*' });
	const file = h('input', { type: 'file', accept: '.yaml,.yml,.conf,text/yaml,*/*' });
	const context = h('input', { placeholder: 'current context' });
	const namespaces = h('input', { placeholder: 'llm, serving (empty: all)' });
	const selector = h('input', { placeholder: 'app.kubernetes.io/part-of=llm (empty: all)' });
	const status = formStatus();

	const tokenBox = field('c-token', 'Bearer token', tokenIn);
	const certBox = h('div', { class: 'stack' }, field('c-cert', 'Client certificate (PEM)', cert),
	    field('c-cert-file', 'or its file', certFile), field('c-key', 'Client key (PEM)', key), field('c-key-file', 'or its file', keyFile));
	const manual = h('fieldset', { id: 'c-manual' }, h('legend', null, 'API server and credentials'),
	    field('c-server', 'Server URL', server), field('c-ca', 'CA certificate (PEM)', ca), field('c-ca-file', 'or its file', caFile),
	    h('label', { class: 'check' }, insecure, ' skip TLS verification (testing only)'),
	    field('c-auth', 'Authentication', authKind), tokenBox, certBox);
	insecure.id = 'c-insecure';
	const kube = h('fieldset', { id: 'c-kube' }, h('legend', null, 'Kubeconfig'),
	    field('c-kubeconfig', 'Kubeconfig file', file), field('c-context', 'Context', context),
	    h('p', { class: 'muted small' }, 'Credentials must be inline (token, *-data); exec and auth-provider users are refused.'));
	const radios = ['manual', 'kubeconfig'].map((m) => h('input', {
		type: 'radio', name: 'c-mode', value: m, id: 'c-mode-' + m, checked: m === mode,
	}));
	const sync = () => {
		const m = radios[1].checked ? 'kubeconfig' : 'manual';
		manual.hidden = m !== 'manual';
		kube.hidden = m !== 'kubeconfig';
		server.required = m === 'manual';
		name.required = m === 'manual';
		file.required = m === 'kubeconfig';
		const cc = authKind.value === 'client_cert';
		tokenBox.hidden = cc;
		certBox.hidden = !cc;
		// The register mode is part of the page's address.
		const q = new URLSearchParams(location.hash.split('?')[1] || '');
		if (m === 'kubeconfig')
			q.set('register', 'kubeconfig');
		else
			q.delete('register');
		const qs = q.toString();
		history.replaceState(null, '', '#/admin' + (qs ? '?' + qs : ''));
	};
	for (const r of radios)
		r.addEventListener('change', sync);
	authKind.addEventListener('change', sync);
	sync();

	return h('section', { class: 'card', 'aria-labelledby': 'h-register' },
	    h('h2', { id: 'h-register' }, 'Register a cluster'),
	    h('p', { class: 'muted' }, 'Use a read-only service account (deploy/kubernetes/remote-access). Credentials are sealed before they are stored and never shown again.'),
	    h('form', {
		id: 'register-form', onsubmit: (ev) => {
			ev.preventDefault();
			submit(status, async () => {
				const ns = namespaces.value.split(',').map((x) => x.trim()).filter(Boolean);
				let c;
				if (radios[1].checked) {
					if (!file.files[0])
						throw new Error('choose a kubeconfig file');
					const body = { kubeconfig: await file.files[0].text() };
					if (name.value.trim())
						body.name = name.value.trim();
					if (context.value.trim())
						body.context = context.value.trim();
					if (ns.length)
						body.namespaces = ns;
					if (selector.value.trim())
						body.label_selector = selector.value.trim();
					c = await call('POST', '/api/v1/clusters/import', body);
				} else {
					const body = { name: name.value.trim(), server: server.value.trim() };
					const caText = ca.value.trim() || (await textOf(caFile)).trim();
					if (caText)
						body.ca_pem = caText;
					if (insecure.checked)
						body.insecure_skip_tls_verify = true;
					if (authKind.value === 'token') {
						if (!tokenIn.value.trim())
							throw new Error('enter the bearer token');
						body.auth = { token: tokenIn.value.trim() };
					} else {
						const certText = cert.value.trim() || (await textOf(certFile)).trim();
						const keyText = key.value.trim() || (await textOf(keyFile)).trim();
						if (!certText || !keyText)
							throw new Error('give both the client certificate and its key');
						body.auth = { client_cert_pem: certText, client_key_pem: keyText };
					}
					if (ns.length)
						body.namespaces = ns;
					if (selector.value.trim())
						body.label_selector = selector.value.trim();
					c = await call('POST', '/api/v1/clusters', body);
				}
				// The secrets leave the page once sent.
				tokenIn.value = '';
				key.value = '';
				keyFile.value = '';
				const cname = c.name || name.value.trim();
				let pulled;
				try {
					const r = await call('POST', '/api/v1/clusters/' + encodeURIComponent(cname) + '/collect');
					pulled = `first pull: ${(r.snapshots || []).length} target(s), ${(r.errors || []).length} error(s).`;
				} catch (e) {
					pulled = 'first pull failed: ' + e.message;
				}
				setTimeout(route, 800);
				return `Registered cluster ${cname}; ${pulled}`;
			});
		},
	    }, h('fieldset', { class: 'modes' }, h('legend', null, 'How'),
		h('label', { class: 'check' }, radios[0], ' server URL and credentials'),
		h('label', { class: 'check' }, radios[1], ' kubeconfig upload')),
	    field('c-name', 'Name', name), manual, kube,
	    field('c-namespaces', 'Namespaces', namespaces), field('c-selector', 'Label selector', selector),
	    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Register')), status));
}

function webhookSection(list) {
	const name = h('input', { required: true, pattern: '[a-z0-9]([a-z0-9\\-]*[a-z0-9])?' });
	const url = h('input', { type: 'url', required: true, placeholder: 'https://hooks.example/…' });
	const format = h('select', null, h('option', { value: 'json' }, 'json'), h('option', { value: 'slack' }, 'slack'));
	const minsev = h('select', null, SEVERITIES.map((s) => h('option', { value: s, selected: s === 'high' }, s)));
	const secret = h('input', { type: 'password', autocomplete: 'off' });
	const status = formStatus();
	const rows = list.map((w) => h('tr', { dataset: { webhook: w.name } }, h('td', null, w.name),
	    h('td', { class: 'mono small' }, show(w.url)), h('td', null, w.format || 'json'),
	    h('td', null, w.min_severity || '—'), h('td', null, w.has_secret ? 'yes' : 'no'),
	    h('td', null, deliveryText(w.delivery)),
	    confirmAction(h('td', { class: 'actions' }), {
		label: 'Delete', cls: 'delete', aria: `Delete webhook ${w.name}`, yes: 'Yes, delete',
		question: `Stop sending to ${w.name}?`,
		run: () => submit(status, async () => {
			await call('DELETE', '/api/v1/webhooks/' + encodeURIComponent(w.name));
			setTimeout(route, 600);
			return `Deleted webhook ${w.name}.`;
		}),
	    })));
	return h('section', { class: 'card', 'aria-labelledby': 'h-webhooks' },
	    h('h2', { id: 'h-webhooks' }, 'Webhooks'),
	    rows.length ? h('div', { class: 'table-wrap' }, h('table', null,
	        h('thead', null, h('tr', null, ['Name', 'URL', 'Format', 'Min severity', 'Secret', 'Delivery', '']
	            .map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows)))
	        : h('p', { class: 'muted' }, 'No webhook.'),
	    h('form', {
		class: 'inline', onsubmit: (ev) => {
			ev.preventDefault();
			submit(status, async () => {
				const body = { name: name.value.trim(), url: url.value.trim(), format: format.value,
				    min_severity: minsev.value };
				if (secret.value)
					body.secret = secret.value;
				await call('POST', '/api/v1/webhooks', body);
				setTimeout(route, 800);
				return `Added webhook ${body.name}.`;
			});
		},
	    }, field('w-name', 'Name', name), field('w-url', 'URL', url), field('w-format', 'Format', format),
	    field('w-minsev', 'Min severity', minsev), field('w-secret', 'Secret', secret),
	    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Add webhook')), status));
}

function deliveryText(d) {
	if (!d)
		return '—';
	const parts = [`${d.deliveries || 0} delivered`, `${d.failures || 0} failed`];
	if (d.last_success_at)
		parts.push('last success ' + ago(d.last_success_at));
	if (d.last_error)
		parts.push('last error: ' + d.last_error);
	return parts.join(' · ');
}

function tokenSection(list) {
	const name = h('input', { required: true });
	const role = h('select', null, ['viewer', 'editor', 'admin'].map((r) => h('option', { value: r }, r)));
	const status = formStatus();
	const shown = h('div', { id: 'new-token' });
	const rows = list.map((t) => h('tr', { class: t.revoked ? 'gone' : null, dataset: { token: t.name } }, h('td', null, t.name),
	    h('td', null, t.role), h('td', null, when(t.created_at)), h('td', null, when(t.last_used_at)),
	    t.revoked ? h('td', null, 'revoked') : confirmAction(h('td', { class: 'actions' }), {
		label: 'Revoke', cls: 'revoke', aria: `Revoke token ${t.name}`, yes: 'Yes, revoke',
		question: `Revoke ${t.name}? Whoever uses it is signed out.`,
		run: () => submit(status, async () => {
			await call('DELETE', '/api/v1/tokens/' + encodeURIComponent(t.name));
			setTimeout(route, 800);
			return `Revoked token ${t.name}.`;
		}),
	    })));
	return h('section', { class: 'card', 'aria-labelledby': 'h-tokens' },
	    h('h2', { id: 'h-tokens' }, 'Tokens'),
	    h('div', { class: 'table-wrap' }, h('table', { id: 'tokens' },
	        h('thead', null, h('tr', null, ['Name', 'Role', 'Created', 'Last used', '']
	            .map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows))),
	    h('form', {
		class: 'inline', onsubmit: (ev) => {
			ev.preventDefault();
			submit(status, async () => {
				const r = await call('POST', '/api/v1/tokens', { name: name.value.trim(), role: role.value });
				fill(shown, h('p', null, 'The new token, shown only this once:'),
				    h('code', { class: 'secret' }, r.token || ''));
				return `Created token ${r.name || name.value}.`;
			});
		},
	    }, field('t-name', 'Name', name), field('t-role', 'Role', role),
	    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Create token')), status, shown));
}

// ---------------------------------------------------------------- router

export async function route() {
	const seq = ++routeSeq;
	stopRefresh();
	const { parts, query } = parseHash();
	notice('');
	if (parts[0] === 'signin') {
		renderSignin('');
		return;
	}
	try {
		if (session.who === null)
			await loadWho();
		if (parts.length === 0 || parts[0] === 'overview')
			await renderOverview(query, seq);
		else if (parts[0] === 'targets' && parts.length === 5)
			await renderTarget({ cluster: parts[1], namespace: parts[2], kind: parts[3], name: parts[4] }, query, seq,
			    () => seq === routeSeq);
		else if (parts[0] === 'bundles')
			await renderBundles(query, seq);
		else if (parts[0] === 'admin')
			await renderAdmin(query, seq);
		else
			fill(view, h('h1', null, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.')));
		if (seq === routeSeq)
			view.dataset.ready = String(seq);
	} catch (e) {
		if (seq !== routeSeq)
			return;
		if (e instanceof ApiError && e.status === 0)
			fill(view, h('h1', null, 'Cannot reach skewd'), h('p', { class: 'error', role: 'alert' }, e.message),
			    h('button', { type: 'button', onclick: route }, 'Try again'));
		else
			showError(e, view);
		view.dataset.ready = String(seq);
	}
}

window.addEventListener('hashchange', () => {
	route();
	view.focus({ preventScroll: true });
});
route();
