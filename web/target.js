// target.js - one target: identity, baseline, timeline, charts, verdict, diff, actions.

import { h, fill, show, when, ago } from './dom.js';
import { ApiError, call, get, targetPath } from './api.js';
import { CATEGORIES, SEVERITIES, can, session, sevBadge, verdictBadge, targetHash, bundleLinks, showError,
	route } from './app.js';
import { chartsCard, windowOf } from './charts.js';

const view = document.getElementById('view');

function optional(p) {
	return p.catch((e) => {
		if (e instanceof ApiError && e.status === 404)
			return null;
		throw e;
	});
}

export async function renderTarget(t, query, seq, current) {
	document.title = `${t.name} · skewd`;
	const base = targetPath(t);
	const from = query.get('from');
	const to = query.get('to');
	const compare = from && to;
	const [detail, snaps, baseline, baselines, all] = await Promise.all([
		get(base), get(base + '/snapshots?limit=100'), optional(get(base + '/baseline')),
		optional(get(base + '/baselines')), get('/api/v1/targets').catch(() => ({ targets: [] })),
	]);
	// The same workload (kind and name) in other clusters or namespaces.
	const twins = (all.targets || []).filter((x) => x.kind === t.kind && x.name === t.name &&
	    !(x.cluster === t.cluster && x.namespace === t.namespace) && x.latest_snapshot_id);
	let diffQuery = null;
	if (compare)
		diffQuery = `/api/v1/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
	else if (baseline)
		diffQuery = base + '/diff?from=baseline&to=latest';
	const [diff, patch] = diffQuery ? await Promise.all([
		get(diffQuery + '&format=json'),
		get(diffQuery + '&format=patch').catch(() => null),
	]) : [null, null];
	if (!current())
		return;

	const snapshots = snaps.snapshots || [];
	const facts = detail.latest_snapshot ? detail.latest_snapshot.facts || {} : {};
	const sides = compare ? `snapshot ${from} → snapshot ${to}`
	    : baseline ? `baseline (snapshot ${baseline.snapshot_id}) → latest (snapshot ${detail.latest_snapshot_id})` : null;

	fill(view,
	    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Overview'), ' / ',
	        `${t.cluster} / ${t.namespace} / ${t.kind} / `, h('strong', null, t.name)),
	    h('h1', null, t.name, detail.gone ? h('span', { class: 'muted' }, ' (gone)') : null),
	    sectionNav(t, query),
	    h('div', { class: 'grid' },
	        identity(t, detail, facts),
	        baselineCard(t, baseline, baselines, snapshots, detail)),
	    verdictCard(diff, sides, !compare && baseline ? base + '/report?format=markdown' : null),
	    charts(t, query, baseline, snapshots),
	    diffCard(diff, sides, (id) => sectionHash(t, query, id)),
	    yamlCard(patch),
	    timelineCard(t, snapshots, baseline, from, to, twins, detail),
	    actionsCard(t, baseline, compare ? { from: Number(from), to: Number(to) } : null));
	// ?section= opens the page at that card (or diff group): a link to one part of the page.
	const section = query.get('section');
	const el = section && /^[a-z][a-z0-9-]*$/.test(section) ? document.getElementById(section) : null;
	if (el) {
		el.scrollIntoView({ block: 'start' });
		el.classList.add('linked');
		// The charts above it take their height when their series arrives.
		document.addEventListener('skewd:charts', () => {
			if (el.isConnected && el.id !== 'charts')
				el.scrollIntoView({ block: 'start' });
		}, { once: true });
	}
}

const SECTIONS = [['verdict', 'Verdict'], ['charts', 'Metrics'], ['diff', 'What changed'], ['yaml', 'YAML'],
	['snapshots', 'Snapshots'], ['actions', 'Bundle']];

// The address of one part of this page, with the page's other parameters.
function sectionHash(t, query, id) {
	const q = new URLSearchParams(query);
	q.set('section', id);
	return targetHash(t, q);
}

function sectionNav(t, query) {
	return h('nav', { class: 'sections', 'aria-label': 'On this page' },
	    SECTIONS.map(([id, label]) => h('a', { href: sectionHash(t, query, id), dataset: { section: id } }, label)));
}

// The charts card; a new window is kept in the URL (?window=) and redraws the charts only.
function charts(t, query, baseline, snapshots) {
	const ctx = {
		t, snapshots, baselineId: baseline ? baseline.snapshot_id : null, window: windowOf(query),
		onWindow: (w) => {
			const q = new URLSearchParams(query);
			q.set('window', w);
			history.replaceState(null, '', targetHash(t, q));
			const old = document.getElementById('charts');
			if (old)
				old.replaceWith(charts(t, q, baseline, snapshots));
			document.getElementById('chart-window')?.focus();
		},
	};
	return chartsCard(ctx);
}

function identity(t, detail, facts) {
	const rt = facts.runtime || {};
	const hw = facts.hardware || {};
	const model = facts.model || {};
	const pods = Array.isArray(hw.pods) ? hw.pods : [];
	const digests = Array.isArray(rt.image_digests) ? rt.image_digests : [];
	return h('section', { class: 'card', id: 'identity', 'aria-labelledby': 'h-identity' },
	    h('h2', { id: 'h-identity' }, 'Identity'),
	    h('dl', { class: 'kv' },
	        h('dt', null, 'Workload'), h('dd', null, `${t.cluster} / ${t.namespace} / ${t.kind} / ${t.name}`),
	        h('dt', null, 'Engine'), h('dd', null, show(rt.engine)),
	        h('dt', null, 'Model'), h('dd', null, show(model.model)),
	        h('dt', null, 'Image'), h('dd', { class: 'mono' }, show(rt.image)),
	        h('dt', null, 'Digest'), h('dd', { class: 'mono' }, digests.length ? digests.join(', ') : '—'),
	        h('dt', null, 'Seen'), h('dd', null, `${when(detail.first_seen)} – ${when(detail.last_seen)}`)),
	    pods.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'pods' },
	        h('thead', null, h('tr', null, ['Pod', 'Node', 'GPU', 'Driver / CUDA', 'Digest']
	            .map((x) => h('th', { scope: 'col' }, x)))),
	        h('tbody', null, pods.map((p) => h('tr', null,
	            h('td', null, show(p.pod)), h('td', null, show(p.node)),
	            h('td', null, `${show(p.gpu_product)} ×${show(p.gpu_count)}`),
	            h('td', null, `${show(p.driver)} / ${show(p.cuda)}`),
	            h('td', { class: 'mono' }, p.image_digest ? show(p.image_digest) : digests.length === 1 ? digests[0] : '—'))))))
	        : h('p', { class: 'muted' }, 'No pod facts in the latest snapshot.'));
}

function baselineCard(t, baseline, baselines, snapshots, detail) {
	const card = h('section', { class: 'card', id: 'baseline', 'aria-labelledby': 'h-baseline' },
	    h('h2', { id: 'h-baseline' }, 'Last good (baseline)'));
	if (baseline) {
		card.appendChild(h('dl', { class: 'kv' },
		    h('dt', null, 'Snapshot'), h('dd', null, String(baseline.snapshot_id),
		        baseline.imported ? h('span', { class: 'muted' }, ' (imported)') : null),
		    h('dt', null, 'Marked'), h('dd', null, `${when(baseline.set_at)} (${ago(baseline.set_at)})`),
		    h('dt', null, 'By'), h('dd', null, show(baseline.set_by)),
		    h('dt', null, 'Note'), h('dd', { class: 'note' }, baseline.note ? baseline.note : '—')));
	} else {
		card.appendChild(h('p', { class: 'muted' }, 'No baseline yet: mark a snapshot as last good to compare against it.'));
	}
	const hist = baselines && Array.isArray(baselines.baselines) ? baselines.baselines : [];
	if (hist.length > 1) {
		card.appendChild(h('details', null, h('summary', null, `History (${hist.length})`),
		    h('ul', null, hist.map((b) => h('li', null,
		        `snapshot ${b.snapshot_id} · ${when(b.set_at)} · ${show(b.set_by)}`, b.note ? ` · ${b.note}` : '')))));
	}
	if (can('editor')) {
		const sel = h('select', { id: 'mark-snapshot' }, snapshots.map((s) =>
		    h('option', { value: s.id, selected: s.id === detail.latest_snapshot_id },
		        `snapshot ${s.id} · ${when(s.first_seen)}${s.id === detail.latest_snapshot_id ? ' (latest)' : ''}`)));
		const note = h('input', { id: 'mark-note', maxlength: 1024, placeholder: 'why this is known good' });
		const status = h('p', { class: 'status', role: 'status' });
		card.appendChild(h('form', {
			class: 'mark', id: 'mark-form', onsubmit: async (ev) => {
				ev.preventDefault();
				fill(status, 'Marking…');
				try {
					const b = await call('PUT', targetPath(t) + '/baseline',
					    { snapshot: Number(sel.value), note: note.value });
					fill(status, `Marked snapshot ${b.snapshot_id} as last good.`);
					status.className = 'status ok';
					setTimeout(route, 600);
				} catch (e) {
					fill(status, e.message);
					status.className = 'status error';
				}
			},
		}, h('h3', null, 'Mark last good'),
		h('label', { for: 'mark-snapshot' }, 'Snapshot'), sel,
		h('label', { for: 'mark-note' }, 'Note'), note,
		h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Mark last good')), status));
	}
	return card;
}

function verdictCard(diff, sides, reportPath) {
	const card = h('section', { class: 'card', id: 'verdict', 'aria-labelledby': 'h-verdict' },
	    h('h2', { id: 'h-verdict' }, 'Verdict'));
	const v = diff && diff.verdict;
	if (!v) {
		card.appendChild(h('p', { class: 'muted' }, diff ? 'No verdict for these two sides.'
		    : 'No verdict: the target has no baseline to compare with.'));
		return card;
	}
	card.appendChild(h('p', { class: 'verdict-line' }, verdictBadge(v.verdict), sides ? h('span', { class: 'muted' }, ' ' + sides) : null));
	if (reportPath)
		card.appendChild(reportButton(reportPath));
	if (Array.isArray(v.reasons) && v.reasons.length)
		card.appendChild(h('ul', { class: 'reasons' }, v.reasons.map((r) => h('li', null, show(r)))));
	if (Array.isArray(v.next_steps) && v.next_steps.length)
		card.appendChild(h('div', null, h('h3', null, 'Next steps'), h('ul', null, v.next_steps.map((r) => h('li', null, show(r))))));
	const figs = v.figures && typeof v.figures === 'object' ? Object.entries(v.figures) : [];
	if (figs.length) {
		card.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'figures' },
		    h('thead', null, h('tr', null, ['Metric', 'Baseline', 'Current', 'Change'].map((x) => h('th', { scope: 'col' }, x)))),
		    h('tbody', null, figs.map(([k, f]) => h('tr', null, h('td', null, k.replace(/_/g, ' ')),
		        h('td', null, fmt(f.before, f.unit)), h('td', null, fmt(f.after, f.unit)),
		        h('td', null, typeof f.change_pct === 'number' ? `${f.change_pct > 0 ? '+' : ''}${f.change_pct.toFixed(1)} %` : '—')))))));
	}
	return card;
}

// Copies the Markdown report (verdict, changes, figures, links) for a chat or a ticket.
function reportButton(path) {
	const status = h('span', { class: 'muted small', role: 'status' });
	return h('p', null, h('button', {
		type: 'button', id: 'copy-report', onclick: async () => {
			try {
				const md = await get(path);
				await navigator.clipboard.writeText(String(md));
				fill(status, ' Copied the Markdown report.');
			} catch (e) {
				fill(status, ' ' + (e instanceof ApiError ? e.message : 'Copy failed: ' + e.message));
			}
		},
	}, 'Copy report (Markdown)'), status);
}

function fmt(v, unit) {
	if (typeof v !== 'number')
		return show(v);
	const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
	return unit ? `${n} ${unit}` : n;
}

// ---------------------------------------------------------------- diff

function changeValue(v) {
	if (v === null || v === undefined)
		return h('span', { class: 'muted' }, 'absent');
	if (Array.isArray(v))
		return h('ul', { class: 'vals' }, v.map((x) => h('li', null, show(x))));
	return show(v);
}

function diffCard(diff, sides, linkTo) {
	const card = h('section', { class: 'card', id: 'diff', 'aria-labelledby': 'h-diff' },
	    h('h2', { id: 'h-diff' }, 'What changed'));
	if (!diff) {
		card.appendChild(h('p', { class: 'muted' }, 'Nothing to compare yet: mark a baseline, or pick two snapshots in the timeline.'));
		return card;
	}
	const changes = Array.isArray(diff.changes) ? diff.changes : [];
	const sum = diff.summary || {};
	card.appendChild(h('p', null, `${changes.length} change(s)`, sides ? ` · ${sides}` : '',
	    sum.suppressed && sum.suppressed.count ? h('span', { class: 'muted' }, ` · ${sum.suppressed.count} suppressed as noise`) : null));
	if (changes.length === 0) {
		card.appendChild(h('p', { class: 'ok' }, 'No drift: the two sides are the same.'));
		return card;
	}
	const rank = (c) => {
		const i = SEVERITIES.indexOf(c.severity);
		return i < 0 ? SEVERITIES.length : i;
	};
	const groups = new Map();
	for (const c of changes) {
		const cat = CATEGORIES.includes(c.category) ? c.category : 'other';
		if (!groups.has(cat))
			groups.set(cat, []);
		groups.get(cat).push(c);
	}
	const ordered = [...groups.entries()].map(([cat, list]) => {
		list.sort((a, b) => rank(a) - rank(b));
		return { cat, list, worst: rank(list[0]) };
	}).sort((a, b) => a.worst - b.worst || b.list.length - a.list.length || CATEGORIES.indexOf(a.cat) - CATEGORIES.indexOf(b.cat));
	for (const g of ordered) {
		card.appendChild(h('div', { class: 'group', id: 'diff-' + g.cat, dataset: { category: g.cat } },
		    h('h3', null, h('span', { class: 'cat cat-' + g.cat }, g.cat), ` ${g.list.length} change(s), worst `, sevBadge(SEVERITIES[g.worst]),
		        h('a', { href: linkTo('diff-' + g.cat), class: 'anchor', title: `Link to the ${g.cat} changes`,
		            'aria-label': `Link to the ${g.cat} changes` }, '#')),
		    h('div', { class: 'table-wrap' }, h('table', { class: 'changes' },
		        h('thead', null, h('tr', null, ['Severity', 'Change', 'Before', 'After'].map((x) => h('th', { scope: 'col' }, x)))),
		        h('tbody', null, g.list.map((c) => h('tr', { dataset: { setting: c.setting || '' } },
		            h('td', null, sevBadge(c.severity)),
		            h('td', null, h('div', { class: 'summary' }, show(c.summary)),
		                h('div', { class: 'muted small mono' }, `${show(c.object)} ${show(c.path)} (${show(c.kind)})`)),
		            h('td', { class: 'before mono' }, changeValue(c.before)),
		            h('td', { class: 'after mono' }, changeValue(c.after)))))))));
	}
	return card;
}

// The side-by-side YAML diff: diff2html parses the unified patch; the rows are
// built here as text nodes (its HTML renderer would need innerHTML).
function yamlCard(patch) {
	const card = h('section', { class: 'card', id: 'yaml', 'aria-labelledby': 'h-yaml' },
	    h('h2', { id: 'h-yaml' }, 'YAML, side by side'));
	if (typeof patch !== 'string' || patch.trim() === '') {
		card.appendChild(h('p', { class: 'muted' }, patch === null ? 'No YAML diff for these sides.' : 'The normalised YAML of both sides is the same.'));
		return card;
	}
	if (!window.Diff2Html || typeof window.Diff2Html.parse !== 'function') {
		card.appendChild(h('p', { class: 'error' }, 'The diff library (diff2html) did not load; the raw patch follows.'));
		card.appendChild(h('pre', null, patch));
		return card;
	}
	const files = window.Diff2Html.parse(patch);
	const details = h('details', { open: true }, h('summary', null, 'normalised YAML: baseline (left) and current (right)'));
	for (const f of files) {
		const tbody = h('tbody');
		for (const b of f.blocks || []) {
			tbody.appendChild(h('tr', { class: 'hunk' }, h('td', { colspan: 4 }, b.header)));
			const del = [], add = [];
			const flush = () => {
				const n = Math.max(del.length, add.length);
				for (let i = 0; i < n; i++)
					tbody.appendChild(sideRow(del[i], add[i]));
				del.length = 0;
				add.length = 0;
			};
			for (const l of b.lines || []) {
				if (l.type === 'delete')
					del.push(l);
				else if (l.type === 'insert')
					add.push(l);
				else {
					flush();
					tbody.appendChild(sideRow(l, l));
				}
			}
			flush();
		}
		details.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'sbs d2h-file-side-diff' },
		    h('colgroup', null, h('col', { class: 'ln' }), h('col'), h('col', { class: 'ln' }), h('col')), tbody)));
	}
	card.appendChild(details);
	return card;
}

function sideRow(l, r) {
	const cell = (x, side) => {
		if (!x)
			return [h('td', { class: 'ln' }), h('td', { class: 'code empty' })];
		const cls = x.type === 'delete' ? 'del' : x.type === 'insert' ? 'ins' : 'ctx';
		const num = side === 'l' ? x.oldNumber : x.newNumber;
		return [h('td', { class: 'ln' }, num === undefined ? '' : String(num)),
		    h('td', { class: 'code ' + cls }, x.content.replace(/^[-+ ]/, ''))];
	};
	return h('tr', null, cell(l, 'l'), cell(r, 'r'));
}

// ---------------------------------------------------------------- timeline and actions

function timelineCard(t, snapshots, baseline, from, to, twins, detail) {
	const bid = baseline ? baseline.snapshot_id : null;
	const fromSel = h('select', { id: 'cmp-from', 'aria-label': 'From snapshot' });
	const toSel = h('select', { id: 'cmp-to', 'aria-label': 'To snapshot' });
	snapshots.forEach((s, i) => {
		fromSel.appendChild(h('option', { value: s.id, selected: from ? String(s.id) === from : (bid ? s.id === bid : i === 1) }, `#${s.id}`));
		toSel.appendChild(h('option', { value: s.id, selected: to ? String(s.id) === to : i === 0 }, `#${s.id}`));
	});
	const list = h('ol', { class: 'timeline', id: 'timeline' }, snapshots.map((s, i) => h('li', { class: s.id === bid ? 'is-baseline' : null },
	    h('span', { class: 'marker', 'aria-hidden': 'true' }),
	    h('strong', null, `#${s.id}`), ` ${when(s.first_seen)}`,
	    s.last_seen !== s.first_seen ? h('span', { class: 'muted' }, ` – ${when(s.last_seen)}`) : null,
	    i === 0 ? h('span', { class: 'tag' }, 'latest') : null,
	    s.id === bid ? h('span', { class: 'tag tag-baseline' }, 'baseline') : null,
	    h('span', { class: 'muted small mono' }, ' ' + String(s.hash || '').slice(0, 12)))));
	return h('section', { class: 'card', id: 'snapshots', 'aria-labelledby': 'h-timeline' },
	    h('h2', { id: 'h-timeline' }, 'Snapshots'),
	    h('p', { class: 'muted' }, 'A new snapshot is kept only when the configuration changed.'),
	    list,
	    h('form', {
		class: 'inline', onsubmit: (ev) => {
			ev.preventDefault();
			const q = new URLSearchParams({ from: fromSel.value, to: toSel.value });
			keepWindow(q);
			location.hash = targetHash(t, q);
		},
	    }, h('span', null, 'Compare '), fromSel, h('span', null, ' with '), toSel,
	    h('button', { type: 'submit' }, 'Compare'),
	    from ? h('a', { href: targetHash(t), class: 'button' }, 'Back to baseline vs latest') : null),
	    twins.length && detail.latest_snapshot_id ? twinForm(t, twins, detail.latest_snapshot_id) : null);
}

// The chart window of the current address carries over to a comparison.
function keepWindow(q) {
	const w = new URLSearchParams(location.hash.split('?')[1] || '').get('window');
	if (w)
		q.set('window', w);
}

// Compares this target's latest snapshot with the latest of the same workload elsewhere.
function twinForm(t, twins, latest) {
	const sel = h('select', { id: 'cmp-twin', 'aria-label': 'Same workload elsewhere' },
	    twins.map((x) => h('option', { value: x.latest_snapshot_id }, `${x.cluster} / ${x.namespace}`)));
	return h('form', {
		class: 'inline', id: 'twin-form', onsubmit: (ev) => {
			ev.preventDefault();
			const q = new URLSearchParams({ from: sel.value, to: String(latest) });
			keepWindow(q);
			location.hash = targetHash(t, q);
		},
	}, h('span', null, 'Compare the latest with the same workload in '), sel,
	h('button', { type: 'submit' }, 'Compare'));
}

function actionsCard(t, baseline, sides) {
	const card = h('section', { class: 'card', id: 'actions', 'aria-labelledby': 'h-actions' },
	    h('h2', { id: 'h-actions' }, 'Evidence bundle'));
	if (!can('editor')) {
		card.appendChild(h('p', { class: 'muted' }, `Creating bundles needs the editor role; you are ${session.who ? session.who.role : 'not signed in'}. `,
		    h('a', { href: '#/bundles' }, 'Existing bundles.')));
		return card;
	}
	const out = h('div', { id: 'bundle-result' });
	const status = h('p', { class: 'status', role: 'status' });
	card.appendChild(h('p', null, 'A tar.gz with both normalised sides, the diff, the verdict, recent events and logs, redacted, with a MANIFEST.sha256.'));
	card.appendChild(h('button', {
		type: 'button', class: 'primary', id: 'create-bundle', disabled: !baseline && !sides, onclick: async () => {
			fill(status, 'Building the bundle…');
			status.className = 'status';
			try {
				const b = await call('POST', targetPath(t) + '/bundles', sides || {});
				fill(status, `Bundle ${b.id} is ready.`);
				status.className = 'status ok';
				fill(out, bundleLinks(b));
			} catch (e) {
				fill(status, e.message);
				status.className = 'status error';
				if (e instanceof ApiError && e.status === 401)
					showError(e);
			}
		},
	}, sides ? `Create a bundle of #${sides.from} → #${sides.to}` : 'Create a bundle (baseline → latest)'));
	if (!baseline && !sides)
		card.appendChild(h('p', { class: 'muted' }, 'Mark a baseline first.'));
	card.appendChild(status);
	card.appendChild(out);
	return card;
}
