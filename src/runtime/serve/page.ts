/**
 * The browser page of `bnnas serve` and the files it needs, all served by bnnas itself:
 *   GET /           the page (draw on a canvas, or drop an image)
 *   GET /page.js    its script (page-client.ts), GET /page.css its style, GET /favicon.svg
 *   GET /model.onnx the served model's bytes, for onnxruntime-web
 *   GET /ort/<f>    onnxruntime-web's module, its wasm glue and its wasm binary, read from
 *                   node_modules (no CDN); only those three files, by exact name
 * Every answer carries its content type, `nosniff`, and a content security policy that lets the
 * page load scripts, styles, images and connections from its own origin only.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { decodeModel } from "../../model/model-io.js";
import { PAGE_SCRIPT } from "./page-client.js";

/**
 * Only the page's own origin. 'wasm-unsafe-eval' is not an origin: without it the browser
 * refuses to compile any WebAssembly, and onnxruntime-web is WebAssembly. No inline script or
 * style, no plugins, no framing, no form posts elsewhere.
 */
export const PAGE_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** onnxruntime-web's files the page uses (the wasm-only build), with their content types. */
export const ORT_FILES: Record<string, string> = {
  "ort.wasm.min.mjs": "text/javascript; charset=utf-8",
  "ort-wasm-simd-threaded.mjs": "text/javascript; charset=utf-8",
  "ort-wasm-simd-threaded.wasm": "application/wasm",
};

export interface Asset {
  status: number;
  type: string;
  body: Buffer;
  /** Seconds a browser may cache it (0: revalidate every time). */
  maxAge: number;
}

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:980px;margin:0 auto;padding:18px 22px}
h1{font-size:20px;margin:0 0 2px}.sub{color:#5b6470;margin:0 0 14px}
.cols{display:flex;flex-wrap:wrap;gap:22px}
.pad{background:#fff;border:1px solid #d7dce2;border-radius:8px;padding:12px}
canvas#draw{width:280px;height:280px;image-rendering:pixelated;touch-action:none;cursor:crosshair;border-radius:4px;display:block}
#drop{margin-top:10px;border:2px dashed #9aa3ad;border-radius:6px;padding:10px;text-align:center;color:#5b6470;width:280px;box-sizing:border-box}
#drop.over{border-color:#0b5cad;color:#0b5cad}
button{font:inherit;padding:4px 12px;margin-top:8px}
#status{min-height:1.4em;margin:8px 0}#status.error{color:#a4161a;font-weight:600}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{padding:3px 8px;border-bottom:1px solid #e5e8ec;text-align:left}
tr.best td{font-weight:600}
.bar{display:inline-block;width:120px;height:9px;background:#e8ecf1;vertical-align:middle}.bar span{display:block;height:100%;background:#0b5cad}
#answer{font-size:22px;font-weight:600}#diff{color:#5b6470;font-size:13px}
`;

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>bnnas serve</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/page.css"><script type="module" src="/page.js"></script></head>
<body data-state="loading"><main>
<h1>bnnas serve</h1><p class="sub" id="model">loading...</p>
<div class="cols">
  <div class="pad">
    <canvas id="draw" width="280" height="280" aria-label="draw here"></canvas>
    <div id="drop">drop an image here, or <label>choose one <input type="file" id="file" accept="image/*"></label></div>
    <button id="clear" type="button">clear</button>
  </div>
  <div class="pad">
    <div id="answer" aria-live="polite"></div>
    <div id="status" role="alert"></div>
    <table><thead><tr><th>class</th><th>in this browser (onnxruntime-web)</th><th>server (POST /predict)</th></tr></thead><tbody id="probs"></tbody></table>
    <p id="diff"></p>
  </div>
</div>
<p class="sub">Draw with the mouse (light on dark, like Fashion-MNIST) or drop an image. The same pixels go to the model in this page and to the server's <code>/predict</code>.</p>
</main></body></html>
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 12V4h5a2 2 0 0 1 0 4H4h6a2 2 0 0 1 0 4z" fill="none" stroke="#fff" stroke-width="1.6"/></svg>`;

let ortDir: string | undefined;
/** onnxruntime-web's dist folder, found through Node's resolution (wherever npm put it). */
function ortDist(): string {
  if (!ortDir) ortDir = dirname(createRequire(import.meta.url).resolve("onnxruntime-web"));
  return ortDir;
}

/** Thrown for a route that exists but cannot answer; the server turns it into a JSON error. */
export class AssetError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The asset router of one served model, or a function answering undefined for paths that are not
 * the page's (the server then routes them as before). `modelFile` is read when first asked for.
 */
export function pageAssets(modelFile: string): (path: string) => Asset | undefined {
  const cache = new Map<string, Asset>();
  const text = (type: string, body: string): Asset => ({ status: 200, type, body: Buffer.from(body), maxAge: 0 });
  const fixed: Record<string, () => Asset> = {
    "/": () => text("text/html; charset=utf-8", HTML),
    "/index.html": () => text("text/html; charset=utf-8", HTML),
    "/page.js": () => text("text/javascript; charset=utf-8", PAGE_SCRIPT),
    "/page.css": () => text("text/css; charset=utf-8", CSS),
    // Browsers ask for an icon; answering keeps their console free of a 404.
    "/favicon.svg": () => text("image/svg+xml", ICON),
    "/favicon.ico": () => text("image/svg+xml", ICON),
    "/model.onnx": () => {
      const bytes = readFileSync(modelFile);
      // A model whose weights live in a .data file next to it cannot be handed to the browser as one file.
      const external = decodeModelLight(bytes);
      if (external) throw new AssetError(501, `the model keeps its weights in external data (${external}); the browser page needs a single-file model`);
      return { status: 200, type: "application/octet-stream", body: bytes, maxAge: 0 };
    },
  };
  return (path) => {
    const hit = cache.get(path);
    if (hit) return hit;
    let asset: Asset | undefined;
    if (fixed[path]) asset = fixed[path]!();
    else if (path.startsWith("/ort/")) {
      const name = path.slice("/ort/".length);
      const type = ORT_FILES[name];
      if (!type) throw new AssetError(404, `no such file '${path}'; the page uses ${Object.keys(ORT_FILES).map((f) => `/ort/${f}`).join(", ")}`);
      let body: Buffer;
      try {
        body = readFileSync(join(ortDist(), name));
      } catch (e) {
        throw new AssetError(500, `onnxruntime-web's ${name} is not installed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run npm install`);
      }
      asset = { status: 200, type, body, maxAge: 3600 };
    }
    if (asset) cache.set(path, asset);
    return asset;
  };
}

/** The location of the first external tensor of a model, or undefined when every weight is inside the file. */
function decodeModelLight(bytes: Buffer): string | undefined {
  let model;
  try {
    model = decodeModel(bytes);
  } catch {
    return undefined; // the predictor already opened this file; the browser will say what is wrong
  }
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation === 1) return t.externalData.find((e) => e.key === "location")?.value ?? "a .data file";
  }
  return undefined;
}
