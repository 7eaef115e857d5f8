// A QuickChart-compatible chart renderer: Chart.js 4 + @napi-rs/canvas, JSON configs only.
//
//   PORT=13400 HOST=127.0.0.1 node server.mjs
//
// Routes (same as QuickChart's): GET /chart?c=…&w&h&bkg&devicePixelRatio&f&v, POST /chart (JSON body
// {chart, width, height, backgroundColor, devicePixelRatio, format, version}), POST /chart/create →
// {"success":true,"url":…}, GET /chart/render/<id>, GET /healthcheck. Errors: HTTP 400 with the reason
// in the `x-quickchart-error` header (and as the JSON body), as QuickChart does.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PIXELS = 4000;
const MAX_STORED = Number(process.env.MAX_STORED_CHARTS || 1000);
const FONT_FAMILY = 'DejaVu Sans';
const FONT_DIRS = [process.env.FONT_DIR, '/usr/share/fonts/truetype/dejavu'].filter(Boolean);

class BadRequest extends Error {}

function loadFonts() {
  for (const dir of FONT_DIRS) {
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir)) {
      if (/^DejaVuSans(-Bold)?\.ttf$/.test(file)) GlobalFonts.registerFromPath(path.join(dir, file), FONT_FAMILY);
    }
  }
}

// Fills the canvas before Chart.js draws, so PNGs are not transparent (QuickChart's `backgroundColor`).
const background = {
  id: 'background',
  beforeDraw(chart, _args, options) {
    if (!options.color || options.color === 'transparent') return;
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = options.color;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

function setup() {
  loadFonts();
  Chart.register(...registerables, background);
  Chart.defaults.font.family = FONT_FAMILY;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = false;
  Chart.defaults.maintainAspectRatio = false;
}

function number(value, fallback, min, max, name) {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new BadRequest(`${name} must be a number from ${min} to ${max}`);
  return n;
}

function parseConfig(chart) {
  if (chart === undefined || chart === null || chart === '') throw new BadRequest('missing chart config');
  let cfg = chart;
  if (typeof chart === 'string') {
    try { cfg = JSON.parse(chart); } catch (e) {
      throw new BadRequest(`chart config is not JSON (this renderer takes JSON only): ${e.message}`);
    }
  }
  if (typeof cfg !== 'object' || Array.isArray(cfg) || !cfg.type) throw new BadRequest('chart config must be an object with a type');
  return cfg;
}

// Normalises a request (body or query string) into render parameters; throws BadRequest.
function renderRequest(p) {
  const format = p.format ?? 'png';
  if (format !== 'png') throw new BadRequest(`format ${format} is not supported (png only)`);
  const version = String(p.version ?? '4');
  if (!version.startsWith('4')) throw new BadRequest(`Chart.js version ${version} is not supported (4 only)`);
  return {
    config: parseConfig(p.chart),
    width: number(p.width, 500, 1, MAX_PIXELS, 'width'),
    height: number(p.height, 300, 1, MAX_PIXELS, 'height'),
    background: p.backgroundColor || '#ffffff',
    dpr: number(p.devicePixelRatio, 1, 0.5, 4, 'devicePixelRatio'),
  };
}

// Draws synchronously, then encodes the PNG on libuv's thread pool (the slow part), so the event
// loop can draw the next chart meanwhile.
async function render({ config, width, height, background: color, dpr }) {
  const canvas = createCanvas(Math.round(width * dpr), Math.round(height * dpr));
  const options = config.options || {};
  const plugins = { ...(options.plugins || {}), background: { color } };
  let chart;
  try {
    chart = new Chart(canvas.getContext('2d'), {
      ...config,
      options: { ...options, plugins, devicePixelRatio: dpr, animation: false, responsive: false },
    });
  } catch (e) {
    throw new BadRequest(`Chart.js rejected the config: ${e.message}`);
  }
  try { return await canvas.encode('png'); } finally { chart.destroy(); }
}

function fromQuery(searchParams) {
  const q = Object.fromEntries(searchParams);
  return {
    chart: q.c ?? q.chart, width: q.w ?? q.width, height: q.h ?? q.height,
    backgroundColor: q.bkg ?? q.backgroundColor, devicePixelRatio: q.devicePixelRatio,
    format: q.f ?? q.format, version: q.v ?? q.version,
  };
}

function parseBody(body) {
  try { return JSON.parse(body || '{}'); } catch (e) { throw new BadRequest(`request body is not JSON: ${e.message}`); }
}

const store = new Map();
let nextId = 1;

function remember(request) {
  const id = String(nextId++);
  store.set(id, request);
  if (store.size > MAX_STORED) store.delete(store.keys().next().value);
  return id;
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function sendPng(res, png) {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
  res.end(png);
}

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://local');
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
  if (route === 'GET /healthcheck') return sendJson(res, 200, { success: true, version: Chart.version });
  if (route === 'GET /chart') return sendPng(res, await render(renderRequest(fromQuery(url.searchParams))));
  if (route === 'POST /chart') return sendPng(res, await render(renderRequest(parseBody(body))));
  if (route === 'POST /chart/create') {
    const request = renderRequest(parseBody(body));
    await render(request); // fail now, not when Slack fetches the image
    const id = remember(request);
    return sendJson(res, 200, { success: true, url: `http://${req.headers.host}/chart/render/${id}` });
  }
  if (req.method === 'GET' && url.pathname.startsWith('/chart/render/')) {
    const request = store.get(url.pathname.split('/').pop());
    if (!request) return sendJson(res, 404, { success: false, error: 'unknown or expired chart id' });
    return sendPng(res, await render(request));
  }
  return sendJson(res, 404, { success: false, error: `no route ${route}` });
}

function fail(res, status, message) {
  const reason = String(message).replace(/[^\x20-\x7e]/g, ' ').slice(0, 300);
  res.setHeader('x-quickchart-error', reason);
  sendJson(res, status, { success: false, error: reason });
}

function serve(req, res) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) { fail(res, 413, 'request body too large'); req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
      if (!(e instanceof BadRequest)) console.error(e);
      fail(res, e instanceof BadRequest ? 400 : 500, e.message);
    });
  });
}

setup();
const server = http.createServer(serve);
server.listen(Number(process.env.PORT || 13400), process.env.HOST || '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`chart renderer listening on http://${address}:${port} (Chart.js ${Chart.version})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
