// dom.js - building the page from data without ever parsing it as HTML.
//
// Every value from the API reaches the page as a text node or an attribute
// set through the DOM; nothing here assigns innerHTML, outerHTML or
// insertAdjacentHTML, so a label like <img src=x onerror=...> stays text.

// h('tag', {attr: value, onclick: fn}, child...) builds an element. A child
// that is a string or number becomes a text node; null/false are skipped;
// arrays are flattened.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'class')
				el.className = v;
			else if (k === 'dataset')
				Object.assign(el.dataset, v);
			else if (k === 'value')
				el.value = v;
			else if (k === 'checked' || k === 'disabled' || k === 'selected')
				el[k] = Boolean(v);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

// Replaces the children of el.
export function fill(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

// A same-origin path for an href: only "/x", never "//host" or "javascript:".
export function safePath(p) {
	return typeof p === 'string' && /^\/(?!\/)/.test(p) ? p : null;
}

// A value as display text: strings as they are, the rest as compact JSON.
export function show(v) {
	if (v === null || v === undefined)
		return '—';
	if (typeof v === 'string')
		return v;
	return JSON.stringify(v);
}

// "2026-11-27T09:28:57Z" as a local date and time, and how long ago.
export function when(iso) {
	if (!iso)
		return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return String(iso);
	return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function ago(iso) {
	const t = new Date(iso).getTime();
	if (!iso || Number.isNaN(t))
		return '';
	const s = Math.max(0, Math.round((Date.now() - t) / 1000));
	if (s < 60)
		return `${s}s ago`;
	if (s < 3600)
		return `${Math.round(s / 60)}m ago`;
	if (s < 86400)
		return `${Math.round(s / 3600)}h ago`;
	return `${Math.round(s / 86400)}d ago`;
}
