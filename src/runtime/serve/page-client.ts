/**
 * The browser page's script, served as /page.js (a module; the content security policy allows
 * no inline script). It is browser code kept as a string because the project compiles for Node
 * (no DOM types); the browser tests (test/browser/serve-page.test.ts) run it in Chromium.
 *
 * What it does: reads /info, loads /model.onnx into onnxruntime-web (wasm, one thread, its files
 * served by bnnas from node_modules), and for each drawing or dropped image takes the canvas's
 * pixels at the model's input size, normalises them as the server does ((p/255 - mean)/std),
 * runs the model in the browser and POSTs the same pixels to /predict, then shows both
 * probability columns side by side with their largest difference.
 */
export const PAGE_SCRIPT = String.raw`
import * as ort from "/ort/ort.wasm.min.mjs";

const $ = (id) => document.getElementById(id);
const state = { info: null, session: null, last: null };
const status = (text, kind) => {
  const el = $("status");
  el.textContent = text;
  el.className = kind || "";
  document.body.dataset.state = kind === "error" ? "error" : document.body.dataset.state;
};

function softmax(logits) {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

// The pixels the model sees: the drawing canvas reduced to the input size by averaging the
// canvas pixels whose centres fall in each input pixel (an exact box filter: a canvas-sized
// enlargement of an input-sized image gives its pixels back, which the browser's own smoothed
// downscaling does not), per channel 0..255; one channel is luma 0.299 R + 0.587 G + 0.114 B,
// as the server converts PNGs.
function pixels() {
  const { channels, height, width } = state.info.image;
  const canvas = $("draw");
  const W = canvas.width, H = canvas.height;
  const rgba = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, W, H).data;
  const out = [];
  for (let c = 0; c < channels; c++) {
    const plane = [];
    for (let y = 0; y < height; y++) {
      const row = [];
      const y0 = Math.round((y * H) / height), y1 = Math.max(y0 + 1, Math.round(((y + 1) * H) / height));
      for (let x = 0; x < width; x++) {
        const x0 = Math.round((x * W) / width), x1 = Math.max(x0 + 1, Math.round(((x + 1) * W) / width));
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const i = 4 * (yy * W + xx);
            sum += channels === 1 ? 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2] : rgba[i + c];
          }
        }
        row.push(Math.round(sum / ((y1 - y0) * (x1 - x0))));
      }
      plane.push(row);
    }
    out.push(plane);
  }
  return out;
}

async function inBrowser(px) {
  const { channels, height, width } = state.info.image;
  const { mean, std } = state.info.normalize;
  const per = (v, c) => (v.length === 1 ? v[0] : v[c]);
  const x = new Float32Array(channels * height * width);
  let k = 0;
  for (let c = 0; c < channels; c++) for (const row of px[c]) for (const p of row) x[k++] = (p / 255 - per(mean, c)) / per(std, c);
  const feeds = { [state.info.input.name]: new ort.Tensor("float32", x, [1, channels, height, width]) };
  const out = await state.session.run(feeds);
  return softmax(out[state.session.outputNames[0]].data);
}

async function onServer(px) {
  const res = await fetch("/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels: px }) });
  const body = await res.json();
  if (!res.ok) throw new Error("the server answered " + res.status + ": " + body.error);
  return { probabilities: body.predictions[0].probabilities, body };
}

function labels(body, n) {
  // Class names when the server gives them (a "labels"/"classes" list), else the class index.
  const names = (body && (body.labels || body.classes)) || (state.info.labels) || null;
  return Array.from({ length: n }, (_, i) => (Array.isArray(names) && names[i] !== undefined ? String(names[i]) : String(i)));
}

function show(browser, server, body) {
  const names = labels(body, browser.length);
  const best = browser.indexOf(Math.max(...browser));
  const rows = browser.map((p, i) => {
    const tr = document.createElement("tr");
    tr.dataset.browser = String(p);
    tr.dataset.server = String(server[i]);
    if (i === best) tr.className = "best";
    // Built with the DOM (element.style), not markup: the policy forbids inline style attributes.
    const cell = (text, v) => {
      const td = document.createElement("td");
      if (v !== undefined) {
        const bar = document.createElement("span");
        bar.className = "bar";
        const fill = document.createElement("span");
        fill.style.width = (100 * v).toFixed(1) + "%";
        bar.append(fill);
        td.append(bar, " " + (100 * v).toFixed(2) + "%");
      } else td.textContent = text;
      return td;
    };
    tr.append(cell(names[i]), cell("", p), cell("", server[i]));
    return tr;
  });
  const tbody = $("probs");
  tbody.replaceChildren(...rows);
  const diff = Math.max(...browser.map((p, i) => Math.abs(p - server[i])));
  $("diff").textContent = "largest difference between the two: " + diff.toExponential(2);
  $("answer").textContent = names[best];
}

async function classify() {
  if (!state.session) return;
  const px = pixels();
  document.body.dataset.state = "busy";
  try {
    const [browser, server] = await Promise.all([inBrowser(px), onServer(px)]);
    state.last = { pixels: px, browser, server: server.probabilities };
    show(browser, server.probabilities, server.body);
    status("", "");
    document.body.dataset.state = "done";
  } catch (e) {
    status(String(e.message || e), "error");
  }
}

function clear() {
  const ctx = $("draw").getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, $("draw").width, $("draw").height);
  $("probs").replaceChildren();
  $("answer").textContent = "";
  $("diff").textContent = "";
}

function setupDrawing() {
  const canvas = $("draw");
  const ctx = canvas.getContext("2d");
  let drawing = false;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) * canvas.width) / r.width, ((ev.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    drawing = true;
    canvas.setPointerCapture(ev.pointerId);
    const [x, y] = at(ev);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y);
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drawing) return;
    const [x, y] = at(ev);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    classify();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = canvas.width / 12;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
}

// A dropped or chosen image: decoded by the browser (createImageBitmap), drawn over black to fill
// the canvas; one it cannot decode is refused with a message.
async function useImage(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    status("cannot decode " + (file.name || "the image") + " as an image (PNG, JPEG, GIF, WebP or BMP); nothing was classified", "error");
    return;
  }
  clear();
  const canvas = $("draw");
  const ctx = canvas.getContext("2d");
  // Enlarged without smoothing (each source pixel a block), so scaling back to the input size
  // gives an input-sized image its own pixels again; larger images are smoothed down.
  ctx.imageSmoothingEnabled = bitmap.width > canvas.width || bitmap.height > canvas.height;
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  await classify();
}

function setupImages() {
  $("file").addEventListener("change", (ev) => {
    const f = ev.target.files && ev.target.files[0];
    if (f) useImage(f);
    ev.target.value = "";
  });
  const zone = $("drop");
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    const f = ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) useImage(f);
  });
}

async function start() {
  setupDrawing();
  setupImages();
  $("clear").addEventListener("click", clear);
  clear();
  try {
    const res = await fetch("/info");
    state.info = await res.json();
    const [, channels, height, width] = state.info.input.shape;
    state.info.image = { channels, height, width };
    $("model").textContent = state.info.file + ": " + channels + "x" + height + "x" + width + " -> " + state.info.classes + " classes";
    if (!state.info.normalize) throw new Error("this model has no input normalisation (no bnnas manifest); start serve with --mean/--std to use this page");
    if (channels !== 1 && channels !== 3) throw new Error("the page draws 1- or 3-channel images; this model takes " + channels);
    status("loading the model into onnxruntime-web...", "");
    ort.env.wasm.wasmPaths = "/ort/";
    // One thread: several need SharedArrayBuffer, i.e. cross-origin isolation headers and workers.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const model = await fetch("/model.onnx");
    if (!model.ok) throw new Error((await model.json()).error);
    state.session = await ort.InferenceSession.create(new Uint8Array(await model.arrayBuffer()), { executionProviders: ["wasm"] });
    status("", "");
    document.body.dataset.state = "ready";
  } catch (e) {
    status("in-browser inference is unavailable: " + String(e.message || e), "error");
  }
}

window.bnnasPage = state;
start();
`;
