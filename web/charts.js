// charts.js - a target's key metrics over time, from the stored series
// (GET .../metrics?window=), with the baseline and the configuration changes
// marked on the time axis. uPlot draws; nothing here parses API values as HTML.

import { h, fill, when } from './dom.js';
import { ApiError, get, targetPath } from './api.js';

// Windows offered in the selector; the URL's ?window= may hold any the API accepts.
export const WINDOWS = ['15m', '1h', '6h', '24h', '7d', '30d'];
export const DEFAULT_WINDOW = '1h';

// The key metrics in the order. `agg` combines the target's pods (or
// GPUs) at one point: rates add up, latencies and cache usage take the worst.
const CHARTS = [
	{ key: 'request_rate', label: 'Request rate', unit: 'req/s', agg: 'sum' },
	{ key: 'generation_tokens_per_s', label: 'Generation tokens/s', unit: 'tokens/s', agg: 'sum' },
	{ key: 'e2e_latency_p99', label: 'p99 latency (end to end)', unit: 's', agg: 'max' },
	{ key: 'ttft_p99', label: 'p99 time to first token', unit: 's', agg: 'max' },
	{ key: 'gpu_utilization', label: 'GPU utilisation (mean)', unit: '%', gpu: 'utilization_percent', agg: 'mean' },
	{ key: 'gpu_memory', label: 'GPU memory used', unit: 'MiB', gpu: 'fb_used_mib', agg: 'sum' },
	{ key: 'kv_cache_usage', label: 'KV-cache usage (fullest pod)', unit: '%', scale: 100, agg: 'max' },
	{ key: 'running_requests', label: 'Running requests', unit: 'requests', agg: 'sum' },
	{ key: 'waiting_requests', label: 'Waiting requests', unit: 'requests', agg: 'sum' },
];

const BASELINE_COLOR = '#c58a00';
const CHANGE_COLOR = '#8e44ad';

export function windowOf(query) {
	const w = query.get('window');
	return w && /^[0-9]{1,4}[smhd]$/.test(w) ? w : DEFAULT_WINDOW;
}

function combine(values, agg) {
	if (values.length === 0)
		return null;
	if (agg === 'sum')
		return values.reduce((a, b) => a + b, 0);
	if (agg === 'mean')
		return values.reduce((a, b) => a + b, 0) / values.length;
	return Math.max(...values);
}

// One value per point for a chart, and why it is missing where it is.
function extract(points, c) {
	const xs = [], ys = [];
	let reason = null, present = 0;
	for (const p of points) {
		const vals = [];
		const scrapes = Array.isArray(p.scrapes) ? p.scrapes : [];
		if (c.gpu) {
			const seen = new Set();
			for (const s of scrapes.filter((x) => x.source === 'dcgm')) {
				if (s.error)
					reason = s.error;
				for (const g of Array.isArray(s.gpus) ? s.gpus : []) {
					const id = `${s.pod}/${g.id}`;
					if (seen.has(id) || typeof g[c.gpu] !== 'number')
						continue;
					seen.add(id);
					vals.push(g[c.gpu]);
				}
			}
			if (vals.length === 0 && !reason)
				reason = scrapes.some((x) => x.source === 'dcgm')
				    ? 'the DCGM exporter reports no such figure for the target\'s GPUs'
				    : 'no GPU exporter (DCGM) found on the nodes of the target\'s pods';
		} else {
			const pods = scrapes.filter((x) => x.source === 'pod');
			for (const s of pods) {
				const v = s.figures ? s.figures[c.key] : undefined;
				if (typeof v === 'number' && Number.isFinite(v))
					vals.push(v * (c.scale || 1));
				else if (s.absent && s.absent[c.key])
					reason = s.absent[c.key];
				else if (s.error)
					reason = s.error;
			}
			if (pods.length === 0)
				reason = 'no serving engine /metrics scraped from the target\'s pods';
		}
		xs.push(p.at);
		const y = combine(vals, c.agg);
		ys.push(y);
		if (y !== null)
			present++;
	}
	return { xs, ys, present, reason };
}

// The configuration changes in the window: where the series moves to another
// snapshot, and each snapshot (after the target's first) first seen in the window.
function changeMarkers(points, snapshots, since) {
	const marks = new Map();
	for (let i = 1; i < points.length; i++) {
		if (points[i].snapshot_id !== points[i - 1].snapshot_id && !marks.has(points[i].snapshot_id))
			marks.set(points[i].snapshot_id, points[i].at);
	}
	const oldest = snapshots.length ? Math.min(...snapshots.map((s) => s.id)) : null;
	for (const s of snapshots) {
		const t = Date.parse(s.first_seen) / 1000;
		if (s.id !== oldest && !marks.has(s.id) && Number.isFinite(t) && t >= since)
			marks.set(s.id, t);
	}
	return [...marks.entries()].map(([id, x]) => ({ id, x })).sort((a, b) => a.x - b.x);
}

// The baseline point: the last point taken while the target ran its baseline
// configuration (else that snapshot's last_seen, when it falls in the window).
function baselineMarker(points, snapshots, baselineId, since) {
	if (!baselineId)
		return null;
	const on = points.filter((p) => p.snapshot_id === baselineId);
	if (on.length)
		return { id: baselineId, x: on[on.length - 1].at, from: on[0].at };
	const s = snapshots.find((x) => x.id === baselineId);
	const t = s ? Date.parse(s.last_seen) / 1000 : NaN;
	return Number.isFinite(t) && t >= since ? { id: baselineId, x: t, from: Date.parse(s.first_seen) / 1000 } : null;
}

function fmt(v, unit) {
	if (typeof v !== 'number')
		return '—';
	const n = Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
	return unit ? `${n} ${unit}` : n;
}

let instances = [];

// The charts card: a window selector kept in the URL, one chart per key
// metric. ctx: { t, baselineId, snapshots, window, onWindow(w) }.
export function chartsCard(ctx) {
	const card = h('section', { class: 'card', id: 'charts', 'aria-labelledby': 'h-charts' });
	const sel = h('select', { id: 'chart-window', 'aria-label': 'Time window' },
	    (WINDOWS.includes(ctx.window) ? WINDOWS : [ctx.window, ...WINDOWS]).map((w) =>
		h('option', { value: w, selected: w === ctx.window }, `last ${w}`)));
	const body = h('div', { id: 'charts-body' }, h('p', { class: 'muted' }, 'Loading the metric series…'));
	sel.addEventListener('change', () => ctx.onWindow(sel.value));
	fill(card, h('div', { class: 'card-head' }, h('h2', { id: 'h-charts' }, 'Key metrics over time'),
	    h('label', { class: 'check' }, 'Window ', sel)), body);
	loadCharts(ctx, card, body);
	return card;
}

async function loadCharts(ctx, card, body) {
	let series;
	try {
		series = await get(targetPath(ctx.t) + '/metrics?window=' + encodeURIComponent(ctx.window));
	} catch (e) {
		fill(body, h('p', { class: 'error' }, e instanceof ApiError ? e.message : 'Cannot load the metric series: ' + e.message));
		card.dataset.ready = 'error';
		return;
	}
	if (!card.isConnected)
		return;
	renderCharts(ctx, card, body, series);
}

function renderCharts(ctx, card, body, series) {
	for (const u of instances)
		u.destroy();
	instances = [];
	const points = Array.isArray(series.points) ? series.points : [];
	const since = Date.parse(series.since) / 1000;
	card.dataset.window = ctx.window;
	card.dataset.points = String(points.length);
	card.dataset.first = points.length ? String(points[0].at) : '';
	card.dataset.last = points.length ? String(points[points.length - 1].at) : '';
	if (points.length === 0) {
		fill(body, h('p', { class: 'muted', id: 'charts-empty' },
		    `No pull of this target in the last ${ctx.window}: choose a longer window.`));
		card.dataset.ready = '1';
		document.dispatchEvent(new Event('skewd:charts'));
		return;
	}
	const changes = changeMarkers(points, ctx.snapshots, since);
	const base = baselineMarker(points, ctx.snapshots, ctx.baselineId, since);
	const lib = typeof window.uPlot === 'function';
	const grid = h('div', { class: 'charts' });
	const todo = [];
	for (const c of CHARTS) {
		const s = extract(points, c);
		const last = [...s.ys].reverse().find((v) => v !== null);
		const box = h('figure', {
			class: 'chart', dataset: { metric: c.key, points: String(s.present), of: String(points.length) },
		}, h('figcaption', null, h('span', { class: 'name' }, c.label), ` (${c.unit})`,
		    s.present ? h('span', { class: 'latest' }, ` · latest ${fmt(last, c.unit)}`) : null));
		if (s.present === 0) {
			box.classList.add('absent');
			box.appendChild(h('p', { class: 'muted absent-reason' }, `absent: ${s.reason || 'no value in this window'}`));
		} else {
			if (s.present < points.length && s.reason)
				box.appendChild(h('p', { class: 'muted small gap-reason' },
				    `${points.length - s.present} of ${points.length} points absent: ${s.reason}`));
			if (lib)
				todo.push({ box, s, c });
		}
		grid.appendChild(box);
	}
	const legend = h('p', { class: 'muted small chart-legend' },
	    h('span', { class: 'swatch swatch-line', 'aria-hidden': 'true' }), ' figure at each pull  ',
	    base ? [h('span', { class: 'swatch swatch-baseline', 'aria-hidden': 'true' }), ` baseline (snapshot ${base.id}, last seen ${when(new Date(base.x * 1000).toISOString())})  `] : 'no baseline in this window  ',
	    changes.length ? [h('span', { class: 'swatch swatch-change', 'aria-hidden': 'true' }),
		` configuration change${changes.length > 1 ? 's' : ''} (${changes.map((m) => 'snapshot ' + m.id).join(', ')})`]
		: 'no configuration change in this window',
	    series.truncated ? ' · more pulls than one answer holds: the oldest are left out' : '');
	fill(body, lib ? null : h('p', { class: 'error' }, 'The chart library (uPlot) did not load; the latest values are listed.'),
	    grid, legend);
	card.dataset.changes = changes.map((m) => m.id).join(',');
	card.dataset.baseline = base ? String(base.id) : '';
	for (const { box, s, c } of todo)
		draw(box, s, c, changes, base);
	card.dataset.ready = '1';
	document.dispatchEvent(new Event('skewd:charts'));
}

function draw(box, s, c, changes, base) {
	const css = getComputedStyle(document.documentElement);
	const stroke = css.getPropertyValue('--accent').trim() || '#2f6fd6';
	const axis = css.getPropertyValue('--muted').trim() || '#666';
	const xs = s.xs.slice();
	const marksX = changes.map((m) => m.x).concat(base ? [base.x, base.from] : []);
	let lo = Math.min(...xs, ...marksX), hi = Math.max(...xs, ...marksX);
	const pad = Math.max(1, (hi - lo) * 0.04);
	lo -= pad;
	hi += pad;
	const drawn = { changes: 0, baseline: 0 };
	const line = (u, x, color, dash, label, left) => {
		const px = u.valToPos(x, 'x', true);
		if (!(px >= u.bbox.left - 1 && px <= u.bbox.left + u.bbox.width + 1))
			return false;
		const g = u.ctx;
		g.save();
		g.strokeStyle = color;
		g.lineWidth = 1.5 * devicePixelRatio;
		g.setLineDash(dash.map((d) => d * devicePixelRatio));
		g.beginPath();
		g.moveTo(px, u.bbox.top);
		g.lineTo(px, u.bbox.top + u.bbox.height);
		g.stroke();
		g.fillStyle = color;
		g.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
		g.textAlign = left ? 'right' : 'left';
		g.fillText(label, px + (left ? -3 : 3) * devicePixelRatio, u.bbox.top + 10 * devicePixelRatio);
		g.restore();
		return true;
	};
	const opts = {
		width: Math.max(240, Math.min(520, box.clientWidth || 320)),
		height: 170,
		legend: { show: false },
		cursor: { drag: { x: false, y: false } },
		scales: { x: { time: true, range: [lo, hi] }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
		axes: [{ stroke: axis, grid: { stroke: 'rgba(128,128,128,0.15)' } },
			{ stroke: axis, grid: { stroke: 'rgba(128,128,128,0.15)' }, size: 56 }],
		series: [{}, { label: c.label, stroke, width: 2, spanGaps: false, points: { show: true, size: 6 } }],
		hooks: {
			draw: [(u) => {
				drawn.changes = 0;
				drawn.baseline = 0;
				if (base) {
					const a = u.valToPos(base.from, 'x', true), b = u.valToPos(base.x, 'x', true);
					u.ctx.save();
					u.ctx.fillStyle = 'rgba(197,138,0,0.10)';
					u.ctx.fillRect(Math.min(a, b), u.bbox.top, Math.max(2, Math.abs(b - a)), u.bbox.height);
					u.ctx.restore();
					drawn.baseline = line(u, base.x, BASELINE_COLOR, [5, 4], 'baseline', true) ? 1 : 0;
				}
				for (const m of changes)
					drawn.changes += line(u, m.x, CHANGE_COLOR, [], '#' + m.id, false) ? 1 : 0;
				box.dataset.changeMarks = String(drawn.changes);
				box.dataset.baselineMark = String(drawn.baseline);
			}],
		},
	};
	const u = new window.uPlot(opts, [xs, s.ys], box);
	box.dataset.drawnPoints = String(u.data[1].filter((v) => v !== null).length);
	box.setAttribute('aria-label', `${c.label}: ${s.present} points`);
	instances.push(u);
}

// Charts follow the width of their column.
let resizeTimer = null;
window.addEventListener('resize', () => {
	clearTimeout(resizeTimer);
	resizeTimer = setTimeout(() => {
		instances = instances.filter((u) => u.root.isConnected);
		for (const u of instances) {
			const w = Math.max(240, Math.min(520, u.root.parentElement.clientWidth || 320));
			u.setSize({ width: w, height: 170 });
		}
	}, 150);
});
