// responses.mjs - the real skewd answers as openapi.yaml says it does.
//
// Starts kubesim ($SKEWD_KUBESIM) on the fixture cluster and `skewd serve`
// ($SKEWD_BIN) with a temporary data dir, makes admin, editor and viewer
// tokens with `skewd token create`, then calls every operation of
// openapi.yaml: the successes (every diff and report format too) and the
// documented error answers (400, 401, 403, 404, 405, 409, 413, 415, 502,
// 504). Each answer is checked against the operation it belongs to:
//
//   - its status is documented for that operation;
//   - its Content-Type is one of the documented media types (no body when
//     the answer documents none), and every answer has X-Request-Id;
//   - a JSON body validates against the documented schema (JSON Schema
//     2020-12, the dialect of OpenAPI 3.1, with Ajv; $refs resolve inside
//     openapi.yaml); other bodies are non-empty, text is UTF-8, a gzip
//     archive starts with a tar header;
//   - headers the answer marks `required` are there.
//
// It fails when an operation + documented status got no validated answer,
// unless EXEMPT below names it with a reason (and when an exempted one got
// validated after all: the list stays honest). Prints "N passed, M failed".
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const BIN = need('SKEWD_BIN');
const KUBESIM = need('SKEWD_KUBESIM');
const SRC = need('SKEWD_SOURCE_DIR');
const FIX = need('SKEWD_FIXTURES');
const MAX_BODY = 262144;

// 408 takes a body that arrives slower than request_timeout_ms; the same code
// answers it on every route with a body, shown in tests/integration/test_hostile_clients.c.
const SLOW_BODY = 'needs a body slower than request_timeout_ms (test_hostile_clients.c sends one)';

// Operation + status pairs with no validated answer on purpose, and why.
const EXEMPT = {
  'getReadyz 503': 'needs an unusable database under a running server',
  'collectCluster 503': 'the collector thread always runs under `skewd serve`',
  'collectTarget 503': 'the collector thread always runs under `skewd serve`',
  'createWebhook 503': 'needs a server without a seal key; `serve` always opens or makes one',
  'importBaseline 503': 'needs a server without a seal key; `serve` always opens or makes one',
  'createToken 408': SLOW_BODY,
  'createCluster 408': SLOW_BODY,
  'importCluster 408': SLOW_BODY,
  'updateCluster 408': SLOW_BODY,
  'attachNvidiaSmi 408': SLOW_BODY,
  'createBundle 408': SLOW_BODY,
  'createWebhook 408': SLOW_BODY,
  'setBaseline 408': SLOW_BODY,
  'importBaseline 408': SLOW_BODY,
};

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.log(`${name} is not set`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  return v;
}

let passed = 0;
let failed = 0;
const problems = [];
function ok() { passed++; }
function bad(msg) { failed++; problems.push(msg); console.log(`FAIL: ${msg}`); }

// ---- the spec ------------------------------------------------------------

const spec = YAML.parse(fs.readFileSync(path.join(SRC, 'openapi.yaml'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
// The OpenAPI keywords of schemas, and the document's top-level members (the
// document is registered whole so that its $refs resolve; only the schemas
// inside it are compiled).
ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example',
  'openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components', 'webhooks', 'jsonSchemaDialect']);
ajv.addSchema(spec, 'openapi.yaml');
const compiled = new Map();

const ptrEsc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function deref(obj, ptr) {
  // Follows a local $ref of a non-schema object (a response, a parameter, a
  // header); returns [object, its JSON pointer].
  let seen = 0;
  while (obj && obj.$ref) {
    if (!obj.$ref.startsWith('#/') || ++seen > 10) throw new Error(`cannot follow ${obj.$ref}`);
    ptr = obj.$ref.slice(1);
    obj = ptr.split('/').slice(1).reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return [obj, ptr];
}

// Every operation: { id, method, template, re, nparams, op, ptr }.
const ops = [];
for (const [template, item] of Object.entries(spec.paths)) {
  for (const method of METHODS) {
    if (!item[method]) continue;
    const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    ops.push({
      id: item[method].operationId, method, template, re, item,
      nparams: (template.match(/\{/g) || []).length,
      op: item[method], ptr: `/paths/${ptrEsc(template)}/${method}`,
    });
  }
}

// The operations a request belongs to: the one with this method on the most
// specific matching path, or for a method the path lacks (a 405) every
// operation of that path.
function opsFor(method, p) {
  const matching = ops.filter((o) => o.re.test(p));
  if (matching.length === 0) return { found: [], path: null };
  const withMethod = matching.filter((o) => o.method === method).sort((a, b) => a.nparams - b.nparams);
  if (withMethod.length > 0) return { found: [withMethod[0]], known: true };
  const least = Math.min(...matching.map((o) => o.nparams));
  return { found: matching.filter((o) => o.nparams === least), known: false };
}

const validated = new Map(); // "opId status" -> count
function record(op, status) {
  const k = `${op.id} ${status}`;
  validated.set(k, (validated.get(k) || 0) + 1);
}

function validateJson(schemaPtr, value) {
  let v = compiled.get(schemaPtr);
  if (!v) {
    v = ajv.compile({ $ref: `openapi.yaml#${schemaPtr}` });
    compiled.set(schemaPtr, v);
  }
  if (v(value)) return null;
  return ajv.errorsText(v.errors, { separator: '; ', dataVar: 'body' });
}

// Checks one answer against one operation; returns a list of problems.
function checkAnswer(o, res, buf) {
  const out = [];
  const status = String(res.status);
  if (!o.op.responses[status]) return [`status ${status} is not documented`];
  const [resp, rptr] = deref(o.op.responses[status], `${o.ptr}/responses/${status}`);
  if (!res.headers.get('x-request-id')) out.push('no X-Request-Id header');
  for (const [name, h0] of Object.entries(resp.headers || {})) {
    const [h] = deref(h0, '');
    if (h.required && res.headers.get(name) === null) out.push(`no ${name} header`);
  }
  if (!resp.content) {
    if (buf.length !== 0) out.push(`a body of ${buf.length} bytes where none is documented`);
    return out;
  }
  const ct = res.headers.get('content-type');
  if (!ct) return [...out, 'no Content-Type'];
  const mt = ct.split(';')[0].trim().toLowerCase();
  if (!resp.content[mt]) return [...out, `Content-Type ${mt} is not one of ${Object.keys(resp.content).join(', ')}`];
  if (buf.length === 0) return [...out, 'an empty body'];
  const schemaPtr = `${rptr}/content/${ptrEsc(mt)}/schema`;
  if (mt === 'application/json') {
    let v;
    try {
      v = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      return [...out, `the body is not JSON: ${e.message}`];
    }
    const why = validateJson(schemaPtr, v);
    if (why) out.push(`the body does not match ${schemaPtr}: ${why}`);
  } else if (mt.startsWith('text/')) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      out.push('the text is not UTF-8');
    }
  } else if (mt === 'application/gzip') {
    try {
      const tar = zlib.gunzipSync(buf);
      if (tar.subarray(257, 262).toString('latin1') !== 'ustar') out.push('the archive is not a tar file');
    } catch (e) {
      out.push(`the archive is not gzip: ${e.message}`);
    }
  } else {
    out.push(`no check for ${mt}`);
  }
  return out;
}

// ---- the processes -------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skewd-contract-'));
const children = [];
function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(1));

function start(bin, args, name) {
  const out = path.join(tmp, `${name}.out`);
  const err = path.join(tmp, `${name}.err`);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SKEWD_') && k !== 'SKEWD_BIN') delete env[k];
  const c = spawn(bin, args, { stdio: ['ignore', fs.openSync(out, 'w'), fs.openSync(err, 'w')], env });
  children.push(c);
  return { c, out, err };
}

async function waitFor(file, re, proc, what) {
  for (let i = 0; i < 300; i++) {
    const m = fs.readFileSync(file, 'utf8').match(re);
    if (m) return m[1];
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start: ${fs.readFileSync(file.replace(/\.out$/, '.err'), 'utf8').slice(-2000)}`);
}

const SIM_TOKEN = 'contract-collector-token-4b1f';
const SIM_ADMIN = 'contract-admin-token-77c2';
const sim = start(KUBESIM, ['--state', path.join(FIX, 'cluster', 'lastgood'), '--tls-dir', tmp,
  '--role', path.join(SRC, 'deploy', 'kubernetes', 'clusterrole-collector.yaml'),
  '--token', SIM_TOKEN, '--admin-token', SIM_ADMIN], 'kubesim');
const simUrl = await waitFor(sim.out, /^\S+\s+(https:\/\/127\.0\.0\.1:\d+)/m, sim.c, 'kubesim');
const simCa = fs.readFileSync(path.join(tmp, 'ca.crt'), 'utf8');

const config = path.join(tmp, 'config.yaml');
fs.writeFileSync(config, [
  'listen: 127.0.0.1:0',
  `data_dir: ${path.join(tmp, 'data')}`,
  'collect_interval_s: 0',
  'collect_timeout_ms: 4000', // the hang fault's 504 waits this long; slow machines need room
  `max_body_bytes: ${MAX_BODY}`,
  'public_url: https://skewd.example.com/',
  'log_level: warn',
  '',
].join('\n'));
const tokens = {};
for (const role of ['viewer', 'editor', 'admin']) {
  tokens[role] = execFileSync(BIN, ['token', 'create', '--name', `contract-${role}`, '--role', role,
    '--config', config], { encoding: 'utf8' }).split('\n')[0].trim();
}
const srv = start(BIN, ['serve', '--config', config], 'skewd');
const base = await waitFor(srv.out, /^listening on (http:\S+)$/m, srv.c, 'skewd serve');

// ---- requests ------------------------------------------------------------

// call(method, path, {as, json, raw, type, want}): one request; checks the
// status is `want` and the answer against its operation(s). Returns
// { status, body (Buffer), json, headers }.
async function call(method, p, { as, json, raw, type, want } = {}) {
  const headers = {};
  if (as) headers.Authorization = `Bearer ${tokens[as] || as}`;
  let body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers['Content-Type'] = 'application/json';
  } else if (raw !== undefined) {
    body = raw;
    headers['Content-Type'] = type || 'application/json';
  }
  let res;
  try {
    res = await fetch(base + p, { method: method.toUpperCase(), headers, body, redirect: 'manual' });
  } catch (e) {
    bad(`${method.toUpperCase()} ${p}: no answer: ${e.cause?.message || e.message}`);
    return { status: 0, body: Buffer.alloc(0), json: null, headers: new Headers() };
  }
  const buf = Buffer.from(await res.arrayBuffer());
  const what = `${method.toUpperCase()} ${p.length > 120 ? p.slice(0, 120) + '...' : p} -> ${res.status}`;
  let parsed = null;
  try { parsed = JSON.parse(buf.toString('utf8')); } catch { /* not JSON */ }
  if (want !== undefined && res.status !== want) {
    bad(`${what}, wanted ${want}: ${buf.toString('utf8').slice(0, 300)}`);
    return { status: res.status, body: buf, json: parsed, headers: res.headers };
  }
  if (process.env.CONTRACT_DUMP) {
    // For debugging the spec: every answer, numbered, in that folder.
    fs.appendFileSync(path.join(process.env.CONTRACT_DUMP, 'answers.txt'),
      `=== ${what} ${res.headers.get('content-type')}\n${buf.toString('utf8').slice(0, 20000)}\n`);
  }
  const { found } = opsFor(method.toLowerCase(), p.split('?')[0]);
  if (found.length === 0) {
    bad(`${what}: no operation of openapi.yaml has this path`);
  }
  for (const o of found) {
    const why = checkAnswer(o, res, buf);
    if (why.length === 0) {
      ok();
      record(o, res.status);
    } else {
      bad(`${what} (${o.id}): ${why.join('; ')}`);
    }
  }
  return { status: res.status, body: buf, json: parsed, headers: res.headers };
}

async function simAdmin(q) {
  // kubesim's own admin endpoints (state switch, faults); not skewd's API.
  const r = execFileSync('curl', ['-sS', '--cacert', path.join(tmp, 'ca.crt'), '-H',
    `Authorization: Bearer ${SIM_ADMIN}`, `${simUrl}/_kubesim/${q}`], { encoding: 'utf8' });
  if (!/^\{"(state|fault|faults)"/.test(r)) throw new Error(`kubesim ${q}: ${r}`);
}

const T = '/api/v1/targets/sim/llm/deployment/vllm-llama';
const TGI = '/api/v1/targets/sim/llm/deployment/tgi-gemma';
const NOPE = '/api/v1/targets/sim/llm/deployment/no-such-app';
const t0 = Date.now();

// Probes, meta.
await call('get', '/healthz', { want: 200 });
await call('get', '/readyz', { want: 200 });
const metrics = await call('get', '/metrics', { want: 200 });
await call('get', '/api/v1/version', { as: 'viewer', want: 200 });
await call('get', '/api/v1/whoami', { as: 'viewer', want: 200 });

// Tokens.
await call('get', '/api/v1/tokens', { as: 'admin', want: 200 });
await call('post', '/api/v1/tokens', { as: 'admin', json: { name: 'contract-bot', role: 'viewer' }, want: 201 });
await call('post', '/api/v1/tokens', { as: 'admin', json: { name: 'contract-bot', role: 'editor' }, want: 409 });
await call('post', '/api/v1/tokens', { as: 'admin', json: { name: 'x', role: 'root' }, want: 400 });
await call('delete', '/api/v1/tokens/contract-bot', { as: 'admin', want: 204 });
await call('delete', '/api/v1/tokens/contract-bot', { as: 'admin', want: 404 });

// Clusters.
const clusterBody = (name) => ({
  name, server: simUrl, ca_pem: simCa, auth: { token: SIM_TOKEN }, namespaces: ['llm'],
});
await call('post', '/api/v1/clusters', { as: 'admin', json: clusterBody('sim'), want: 201 });
await call('post', '/api/v1/clusters', { as: 'admin', json: clusterBody('sim'), want: 409 });
await call('post', '/api/v1/clusters', { as: 'admin', json: { ...clusterBody('bad'), server: 'ftp://x' }, want: 400 });
const kubeconfig = YAML.stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'k',
  clusters: [{ name: 'sim2', cluster: { server: simUrl, 'certificate-authority-data': Buffer.from(simCa).toString('base64') } }],
  users: [{ name: 'u', user: { token: SIM_TOKEN } }],
  contexts: [{ name: 'k', context: { cluster: 'sim2', user: 'u' } }],
});
await call('post', '/api/v1/clusters/import', { as: 'admin', json: { kubeconfig, namespaces: ['llm'] }, want: 201 });
await call('post', '/api/v1/clusters/import', { as: 'admin', json: { kubeconfig }, want: 409 });
await call('post', '/api/v1/clusters/import', { as: 'admin', json: { kubeconfig: 'users: [{name: u, user: {exec: {command: sh}}}]' }, want: 400 });
await call('get', '/api/v1/clusters', { as: 'viewer', want: 200 });
await call('get', '/api/v1/clusters/sim', { as: 'viewer', want: 200 });
await call('get', '/api/v1/clusters/nosuch', { as: 'viewer', want: 404 });
await call('patch', '/api/v1/clusters/sim2', { as: 'admin', json: { label_selector: 'app' }, want: 200 });
await call('patch', '/api/v1/clusters/sim2', { as: 'admin', json: { server: 'ftp://x' }, want: 400 });
await call('patch', '/api/v1/clusters/nosuch', { as: 'admin', json: { label_selector: '' }, want: 404 });
await call('post', '/api/v1/clusters/nosuch/collect', { as: 'editor', want: 404 });

// The cluster failing: a 500 from its API server is a 502, no answer a 504.
await simAdmin('fault?kind=500&prefix=/apis');
await call('post', '/api/v1/clusters/sim2/collect', { as: 'editor', want: 502 });
await simAdmin('fault?kind=clear');
await call('patch', '/api/v1/clusters/sim2', { as: 'admin', json: { label_selector: '' }, want: 200 });
await call('post', '/api/v1/clusters/sim2/collect', { as: 'editor', want: 200 });
await simAdmin('fault?kind=500&prefix=/apis/apps/v1/namespaces/llm/deployments/vllm-llama');
await call('post', '/api/v1/targets/sim2/llm/deployment/vllm-llama/collect', { as: 'editor', want: 502 });
await simAdmin('fault?kind=hang&prefix=/apis');
await call('post', '/api/v1/clusters/sim2/collect', { as: 'editor', want: 504 });
await call('post', '/api/v1/targets/sim2/llm/deployment/vllm-llama/collect', { as: 'editor', want: 504 });
await simAdmin('fault?kind=clear');

// Pull "last good".
const pulled = await call('post', '/api/v1/clusters/sim/collect', { as: 'editor', want: 200 });
if (!(pulled.json?.snapshots?.length >= 2)) bad(`the first pull took ${JSON.stringify(pulled.json)}`);

// Targets, snapshots, figures.
await call('get', '/api/v1/targets', { as: 'viewer', want: 200 });
await call('get', '/api/v1/targets?cluster=sim', { as: 'viewer', want: 200 });
await call('get', '/api/v1/targets?cluster=nosuch', { as: 'viewer', want: 404 });
await call('get', '/api/v1/targets?drift=maybe', { as: 'viewer', want: 400 });
const target = await call('get', T, { as: 'viewer', want: 200 });
const good = target.json?.latest_snapshot_id;
await call('get', NOPE, { as: 'viewer', want: 404 });
await call('post', `${T}/collect`, { as: 'editor', want: 200 });
await call('post', `${NOPE}/collect`, { as: 'editor', want: 404 });
await call('get', `${T}/snapshots`, { as: 'viewer', want: 200 });
await call('get', `${T}/snapshots?limit=1`, { as: 'viewer', want: 200 });
await call('get', `${T}/snapshots?limit=0`, { as: 'viewer', want: 400 });
await call('get', `${NOPE}/snapshots`, { as: 'viewer', want: 404 });
await call('get', `/api/v1/snapshots/${good}`, { as: 'viewer', want: 200 });
await call('get', '/api/v1/snapshots/999999', { as: 'viewer', want: 404 });
await call('get', `${T}/metrics`, { as: 'viewer', want: 200 });
await call('get', `${T}/metrics?window=15m`, { as: 'viewer', want: 200 });
await call('get', `${T}/metrics?window=forever`, { as: 'viewer', want: 400 });
await call('get', `${NOPE}/metrics`, { as: 'viewer', want: 404 });

// nvidia-smi output.
const nvsmi = fs.readFileSync(path.join(FIX, 'nvidia-smi',
  'nvgpuexp__linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__query-gpu.csv'), 'utf8');
await call('post', `${T}/nvidia-smi`, { as: 'editor', json: { text: nvsmi }, want: 201 });
await call('post', `${T}/nvidia-smi`, { as: 'editor', json: { text: 'not nvidia-smi output' }, want: 400 });
await call('post', `${NOPE}/nvidia-smi`, { as: 'editor', json: { text: nvsmi }, want: 404 });
await call('get', `${T}/metrics`, { as: 'viewer', want: 200 });

// Baselines.
await call('get', `${T}/baseline`, { as: 'viewer', want: 404 });
await call('put', `${T}/baseline`, { as: 'editor', json: { snapshot: 'latest', note: 'contract: last good' }, want: 200 });
await call('put', `${T}/baseline`, { as: 'editor', json: { snapshot: 'soon' }, want: 400 });
await call('put', `${NOPE}/baseline`, { as: 'editor', json: { snapshot: 'latest' }, want: 404 });
await call('put', `${TGI}/baseline`, { as: 'editor', json: { snapshot: 'latest' }, want: 200 });
await call('get', `${T}/baseline`, { as: 'viewer', want: 200 });
await call('get', `${T}/baselines`, { as: 'viewer', want: 200 });
await call('get', `${T}/baselines?limit=999`, { as: 'viewer', want: 400 });
await call('get', `${NOPE}/baselines`, { as: 'viewer', want: 404 });

// Pull "current": the regression.
await simAdmin('state?name=current');
await call('post', '/api/v1/clusters/sim/collect', { as: 'editor', want: 200 });
const now = (await call('get', T, { as: 'viewer', want: 200 })).json?.latest_snapshot_id;
if (!(now > good)) bad(`the second pull made no new snapshot (${good} -> ${now})`);
await call('get', '/api/v1/targets?drift=true', { as: 'viewer', want: 200 });
await call('get', `/api/v1/snapshots/${now}`, { as: 'viewer', want: 200 });

// Diffs and reports in every format.
const DIFF_TYPES = { json: 'application/json', markdown: 'text/markdown', text: 'text/plain', patch: 'text/x-diff', slack: 'application/json' };
for (const [f, mt] of Object.entries(DIFF_TYPES)) {
  for (const p of [`${T}/diff?format=${f}`, `${T}/diff?from=${good}&to=${now}&format=${f}`,
    `/api/v1/diff?from=${good}&to=${now}&format=${f}`]) {
    const r = await call('get', p, { as: 'viewer', want: 200 });
    const got = (r.headers.get('content-type') || '').split(';')[0];
    if (got !== mt) bad(`${p}: Content-Type ${got}, want ${mt}`);
  }
}
await call('get', `${T}/diff`, { as: 'viewer', want: 200 });
await call('get', `${T}/diff?format=html`, { as: 'viewer', want: 400 });
await call('get', `${T}/diff?from=999999`, { as: 'viewer', want: 404 });
await call('get', `${NOPE}/diff`, { as: 'viewer', want: 404 });
await call('get', `/api/v1/diff?from=${good}`, { as: 'viewer', want: 400 });
await call('get', `/api/v1/diff?from=${good}&to=999999`, { as: 'viewer', want: 404 });
for (const [f, mt] of Object.entries({ json: 'application/json', markdown: 'text/markdown', slack: 'application/json' })) {
  const r = await call('get', `${T}/report?format=${f}`, { as: 'viewer', want: 200 });
  const got = (r.headers.get('content-type') || '').split(';')[0];
  if (got !== mt) bad(`report ${f}: Content-Type ${got}, want ${mt}`);
}
await call('get', `${T}/report?format=text`, { as: 'viewer', want: 400 });
await call('get', `${NOPE}/report`, { as: 'viewer', want: 404 });

// Bundles.
const b1 = await call('post', `${T}/bundles`, { as: 'editor', want: 201 });
const b2 = await call('post', `${T}/bundles`, { as: 'editor', json: { from: good, to: now }, want: 201 });
await call('post', `${T}/bundles`, { as: 'editor', json: { from: 'yesterday' }, want: 400 });
await call('post', `${T}/bundles`, { as: 'editor', json: { from: 999999 }, want: 404 });
await call('post', `${NOPE}/bundles`, { as: 'editor', want: 404 });
await call('get', '/api/v1/bundles', { as: 'viewer', want: 200 });
const page = await call('get', '/api/v1/bundles?limit=1', { as: 'viewer', want: 200 });
if (page.json?.next_before) await call('get', `/api/v1/bundles?limit=1&before=${page.json.next_before}`, { as: 'viewer', want: 200 });
await call('get', '/api/v1/bundles?limit=-3', { as: 'viewer', want: 400 });
const bid = b1.json?.id;
const bid2 = b2.json?.id;
await call('get', `/api/v1/bundles/${bid}`, { as: 'viewer', want: 200 });
await call('get', `/api/v1/bundles/${bid}/download`, { as: 'viewer', want: 200 });
await call('get', `/b/${bid}`, { want: 200 });
await call('get', '/api/v1/bundles/aaaaaaaaaaaaaaaaaaaaaaaaaa', { as: 'viewer', want: 404 });
await call('get', '/api/v1/bundles/aaaaaaaaaaaaaaaaaaaaaaaaaa/download', { as: 'viewer', want: 404 });
await call('delete', `/api/v1/bundles/${bid2}`, { as: 'admin', want: 204 });
await call('delete', `/api/v1/bundles/${bid2}`, { as: 'admin', want: 404 });
await call('get', `/b/${bid2}`, { want: 404 });

// Baseline import: the saved last-good manifests.
const lastgood = ['01-nodes.yaml', '10-vllm-llama.yaml', '11-vllm-llama-routing.yaml']
  .map((f) => fs.readFileSync(path.join(FIX, 'cluster', 'lastgood', f), 'utf8')).join('\n---\n');
await call('post', `${T}/baseline/import`, { as: 'editor', json: { document: lastgood, note: 'from git' }, want: 201 });
await call('post', `${T}/baseline/import`, { as: 'editor', json: { document: 'kind: ConfigMap\nmetadata: {name: x}\n' }, want: 400 });
await call('post', `${NOPE}/baseline/import`, { as: 'editor', json: { document: lastgood }, want: 404 });
const hist = await call('get', `${T}/snapshots`, { as: 'viewer', want: 200 });
const sources = (hist.json?.snapshots || []).map((x) => x.source).sort().join(',');
if (sources !== 'import,pull,pull') bad(`the history after an import has sources ${sources}, want import,pull,pull`);
await call('get', `${T}/report`, { as: 'viewer', want: 200 });

// A target the cluster lists but that was never pulled: 409 where a snapshot is needed.
await call('post', '/api/v1/clusters', { as: 'admin', json: { ...clusterBody('sim3'), label_selector: '' }, want: 201 });
await simAdmin('fault?kind=500&prefix=/api/v1/namespaces/llm/pods');
await call('post', '/api/v1/clusters/sim3/collect', { as: 'editor', want: 200 });
await simAdmin('fault?kind=clear');
const NEVER = '/api/v1/targets/sim3/llm/deployment/tgi-gemma';
await call('put', `${NEVER}/baseline`, { as: 'editor', json: { snapshot: 'latest' }, want: 409 });
await call('post', `${NEVER}/bundles`, { as: 'editor', want: 409 });
await call('post', `${NEVER}/nvidia-smi`, { as: 'editor', json: { text: nvsmi }, want: 409 });
await call('delete', '/api/v1/clusters/sim3', { as: 'admin', want: 204 });
await call('delete', '/api/v1/clusters/sim3', { as: 'admin', want: 404 });

// Webhooks (loopback, nothing listens: a delivery would fail fast).
const hook = { name: 'contract-hook', url: 'https://127.0.0.1:9/hook', format: 'slack', min_severity: 'high', secret: 's3cret-s3cret' };
await call('post', '/api/v1/webhooks', { as: 'admin', json: hook, want: 201 });
await call('post', '/api/v1/webhooks', { as: 'admin', json: hook, want: 409 });
await call('post', '/api/v1/webhooks', { as: 'admin', json: { ...hook, name: 'h2', url: 'http://127.0.0.1:9/' }, want: 400 });
await call('get', '/api/v1/webhooks', { as: 'admin', want: 200 });
await call('get', '/api/v1/webhooks/contract-hook', { as: 'admin', want: 200 });
await call('get', '/api/v1/webhooks/nosuch', { as: 'admin', want: 404 });
await call('delete', '/api/v1/webhooks/contract-hook', { as: 'admin', want: 204 });
await call('delete', '/api/v1/webhooks/contract-hook', { as: 'admin', want: 404 });

// ---- the documented errors every operation of a kind has ------------------

// A concrete path for each template, for the checks that do not reach a handler.
const sample = {
  cluster: 'sim', namespace: 'llm', kind: 'deployment', name: 'vllm-llama', id: bid || 'x',
};
const concrete = (o) => {
  let p = o.template.replace(/\{([^}]+)\}/g, (_, k) => sample[k]);
  if (o.template === '/api/v1/tokens/{name}' || o.template === '/api/v1/webhooks/{name}') p = p.replace('vllm-llama', 'nosuch');
  if (o.template === '/api/v1/snapshots/{id}') p = `/api/v1/snapshots/${good}`;
  if (o.template === '/api/v1/diff') p += `?from=${good}&to=${now}`;
  return p;
};
const LEVEL = { none: 0, viewer: 1, editor: 2, admin: 3 };
const hasBody = (o) => !!o.op.requestBody;
for (const o of ops) {
  const p = concrete(o);
  const role = o.op['x-skewd-role'];
  // Whether or not the operation documents these answers, the requests that
  // must get them are sent: an undocumented status fails the check.
  // No token; a token skewd does not know.
  if (LEVEL[role] >= 1) {
    await call(o.method, p, { want: 401 });
    await call(o.method, p, { as: 'skewd-no-such-token', want: 401 });
  }
  // A role below the least one.
  if (LEVEL[role] >= 2) await call(o.method, p, { as: 'viewer', json: hasBody(o) ? {} : undefined, want: 403 });
  if (LEVEL[role] >= 3) await call(o.method, p, { as: 'editor', json: hasBody(o) ? {} : undefined, want: 403 });
  const as = Object.keys(LEVEL).find((k) => LEVEL[k] === LEVEL[role] && k !== 'none') || 'admin';
  if (hasBody(o)) {
    await call(o.method, p, { as, raw: '{"unfinished": ', want: 400 });
    await call(o.method, p, { as, raw: 'name=x', type: 'application/x-www-form-urlencoded', want: 415 });
    await call(o.method, p, { as, raw: `{"text": "${'x'.repeat(MAX_BODY)}"}`, want: 413 });
  }
}
// Every path with a method it lacks: 405 (for each operation of the path).
for (const [template, item] of Object.entries(spec.paths)) {
  const o = ops.find((x) => x.template === template);
  const m = ['put', 'patch', 'delete', 'post', 'get'].find((x) => !item[x]);
  await call(m, concrete(o), { as: 'admin', json: m === 'get' || m === 'delete' ? undefined : {}, want: 405 });
}

// ---- what was not validated ----------------------------------------------

const seen = new Set();
for (const o of ops) {
  const got = Object.keys(o.op.responses).filter((st) => validated.has(`${o.id} ${st}`));
  console.log(`validated: ${o.method.toUpperCase()} ${o.template} (${o.id}): ${got.join(' ')}`);
}
for (const o of ops) {
  for (const status of Object.keys(o.op.responses)) {
    const k = `${o.id} ${status}`;
    seen.add(k);
    if (validated.has(k)) {
      if (EXEMPT[k]) bad(`${k} is exempted but was validated: remove it from EXEMPT`); else ok();
    } else if (EXEMPT[k]) {
      console.log(`exempt: ${k}: ${EXEMPT[k]}`);
    } else {
      bad(`${o.method.toUpperCase()} ${o.template} (${k}): no answer with this documented status was validated`);
    }
  }
}
for (const k of Object.keys(EXEMPT)) if (!seen.has(k)) bad(`EXEMPT names ${k}, which openapi.yaml does not document`);

// The metrics name routes as patterns only.
if (!/skewd_build_info\{version="/.test(metrics.body.toString())) bad('/metrics has no skewd_build_info');

srv.c.kill('SIGTERM');
await new Promise((r) => srv.c.exitCode !== null ? r() : srv.c.once('exit', r));
if (srv.c.exitCode !== 0) bad(`skewd serve exited ${srv.c.exitCode} on SIGTERM: ${fs.readFileSync(srv.err, 'utf8').slice(-1000)}`);
if (/Sanitizer|runtime error:/.test(fs.readFileSync(srv.err, 'utf8'))) bad(`skewd serve's stderr has a sanitizer report: ${srv.err}`);
sim.c.kill('SIGTERM');

const nops = ops.length;
const nval = new Set([...validated.keys()].map((k) => k.split(' ')[0])).size;
console.log(`${nops} operations, ${nval} with validated answers, ${validated.size} operation+status pairs validated, ${Object.keys(EXEMPT).length} exempt, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
