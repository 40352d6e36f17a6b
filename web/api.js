// api.js - the REST API with the session's token, and errors a person can act on.

const KEY = 'skewd.token';

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

export function token() {
	return sessionStorage.getItem(KEY) || '';
}

export function setToken(t) {
	if (t)
		sessionStorage.setItem(KEY, t);
	else
		sessionStorage.removeItem(KEY);
}

// The target's API path from its four parts, each encoded.
export function targetPath(t) {
	return '/api/v1/targets/' + [t.cluster, t.namespace, t.kind, t.name].map(encodeURIComponent).join('/');
}

function explain(status, body) {
	const msg = body && body.error && typeof body.error.message === 'string' ? body.error.message : '';
	if (status === 401)
		return 'Sign in: the server did not accept ' + (token() ? 'this token' : 'a request without a token') +
		    ' (401)' + (msg ? ': ' + msg : '.');
	if (status === 403)
		return 'Your token\'s role may not do this (403)' + (msg ? ': ' + msg : '.');
	return (msg || `the server answered ${status}`) + ` (${status})`;
}

// Calls the API; resolves to the parsed JSON (or the Response when raw),
// rejects with ApiError. status 0 means the server could not be reached.
export async function call(method, path, body, opts = {}) {
	const headers = {};
	const t = token();
	if (t)
		headers.Authorization = 'Bearer ' + t;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	let r;
	try {
		r = await fetch(path, {
			method, headers, cache: 'no-store',
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch (e) {
		throw new ApiError(0, 'unreachable',
		    `Cannot reach the skewd server at ${location.origin}: it may be stopped or the network is down.`);
	}
	if (opts.raw && r.ok)
		return r;
	const text = await r.text();
	let data = null;
	if (text && (r.headers.get('Content-Type') || '').includes('json')) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = null;
		}
	}
	if (!r.ok) {
		const code = data && data.error ? data.error.code : 'http_' + r.status;
		throw new ApiError(r.status, code, explain(r.status, data));
	}
	return data !== null ? data : text;
}

export const get = (path, opts) => call('GET', path, undefined, opts);
