/// `GET /`: what the tagger hears, live. One self-contained page (inline style and script, no
/// external scripts, fonts or images: the box may have no internet), fed by `/api/live`
/// (Server-Sent Events; the browser reconnects by itself when the daemon restarts).
///
/// The page counts the updates it has drawn in `<body data-updates=…>`, which the headless
/// browser test reads.
enum LivePage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mast-tagger: live</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #111; color: #ddd; }
  header { padding: 8px 16px; background: #1c1c1c; display: flex; gap: 16px; align-items: baseline; }
  h1 { font-size: 16px; margin: 0; }
  #state { color: #888; }
  #state.live { color: #6c6; }
  main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; padding: 16px; }
  section { background: #1a1a1a; padding: 10px; border-radius: 6px; }
  h2 { font-size: 13px; margin: 0 0 8px; color: #aaa; font-weight: 600; }
  canvas { width: 100%; display: block; background: #000; image-rendering: pixelated; }
  .bar { position: relative; height: 20px; margin: 3px 0; background: #262626; border-radius: 3px; overflow: hidden; }
  .bar span { position: absolute; left: 6px; top: 1px; white-space: nowrap; }
  .bar i { position: absolute; left: 0; top: 0; bottom: 0; background: #2d6a8f; }
  .bar.on i { background: #b5651d; }
  #meter .bar i { background: #3a8f4b; }
  #meter .bar.peak i { background: #8f8f3a; }
  table { width: 100%; border-collapse: collapse; font-size: 12px; }
  td { padding: 2px 4px; border-bottom: 1px solid #262626; }
</style>
</head>
<body data-updates="0" data-frames="0">
<header><h1>mast-tagger</h1><span id="state">connecting…</span><span id="clock"></span></header>
<main>
  <div>
    <section><h2>Log-mel spectrogram (what the model sees)</h2><canvas id="spectrogram" width="1024" height="128"></canvas></section>
    <section style="margin-top:16px"><h2>Events, last <span id="span">10</span> minutes</h2><canvas id="timeline" width="1024" height="160"></canvas></section>
    <section style="margin-top:16px"><h2>Recent events</h2><table id="events"></table></section>
  </div>
  <div>
    <section id="meter"><h2>Input level (last window)</h2>
      <div class="bar" id="rms"><i></i><span></span></div>
      <div class="bar peak" id="peak"><i></i><span></span></div></section>
    <section style="margin-top:16px"><h2>Top classes (last window)</h2><div id="top"></div></section>
  </div>
</main>
<script>
"use strict";
const spectrogram = document.getElementById("spectrogram"), sg = spectrogram.getContext("2d");
const timeline = document.getElementById("timeline"), tl = timeline.getContext("2d");
let events = [], active = [], updates = 0, frames = 0, lastTime = Date.now();
const spanMinutes = 10;
document.getElementById("span").textContent = spanMinutes;

// A dark-to-bright colour scale (black, purple, orange, pale yellow) as 256 RGB entries.
const palette = (() => {
  const stops = [[0, 0, 0, 4], [0.3, 87, 16, 110], [0.6, 221, 81, 58], [0.85, 252, 165, 10], [1, 252, 255, 164]];
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255; let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1][0]) k++;
    const [t0, ...a] = stops[k], [t1, ...b] = stops[k + 1], f = (t - t0) / (t1 - t0);
    for (let c = 0; c < 3; c++) table[i * 3 + c] = a[c] + (b[c] - a[c]) * f;
  }
  return table;
})();

function drawFrames(bins, base64) {
  if (!bins || !base64) return;
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0)), n = bytes.length / bins;
  if (n < 1) return;
  if (spectrogram.height !== bins) spectrogram.height = bins;
  const w = spectrogram.width, shift = Math.min(n, w);
  sg.drawImage(spectrogram, -shift, 0);
  const image = sg.createImageData(shift, bins);
  for (let x = 0; x < shift; x++) {
    const frame = n - shift + x;
    for (let m = 0; m < bins; m++) {
      const v = bytes[frame * bins + m], p = ((bins - 1 - m) * shift + x) * 4;  // low frequencies at the bottom
      image.data[p] = palette[v * 3]; image.data[p + 1] = palette[v * 3 + 1]; image.data[p + 2] = palette[v * 3 + 2];
      image.data[p + 3] = 255;
    }
  }
  sg.putImageData(image, w - shift, 0);
  frames += n;
}

function bar(text, fraction, on) {
  const div = document.createElement("div");
  div.className = on ? "bar on" : "bar";
  const fill = document.createElement("i"), label = document.createElement("span");
  fill.style.width = (Math.max(0, Math.min(1, fraction)) * 100).toFixed(1) + "%";
  label.textContent = text;
  div.append(fill, label);
  return div;
}

function meter(id, name, dbfs) {
  const el = document.getElementById(id);
  el.querySelector("i").style.width = (Math.max(0, Math.min(1, (dbfs + 90) / 90)) * 100).toFixed(1) + "%";
  el.querySelector("span").textContent = name + " " + dbfs.toFixed(1) + " dBFS";
}

function drawTimeline(now) {
  const w = timeline.width, h = timeline.height, span = spanMinutes * 60000;
  const recent = events.filter(e => Date.parse(e.time) > now - span);
  const labels = [...new Set(recent.map(e => e.label).concat(active.map(a => a.label)))].slice(0, 8);
  tl.fillStyle = "#000"; tl.fillRect(0, 0, w, h);
  tl.fillStyle = "#333";
  for (let m = 1; m < spanMinutes; m++) tl.fillRect(w - (m * 60000 / span) * w, 0, 1, h);
  const row = h / Math.max(labels.length, 1);
  tl.font = "12px sans-serif";
  labels.forEach((label, i) => {
    tl.fillStyle = "#2d6a8f";
    for (const e of recent.filter(e => e.label === label)) {
      // Wall time of the end; the length from stream seconds.
      const end = Date.parse(e.time), start = end - (e.end - e.start) * 1000;
      const x0 = w - (now - start) / span * w, x1 = w - (now - end) / span * w;
      tl.fillRect(x0, i * row + 2, Math.max(2, x1 - x0), row - 4);
    }
    tl.fillStyle = "#b5651d";
    for (const a of active.filter(a => a.label === label)) {
      const x0 = w - (now - Date.parse(a.time)) / span * w;
      tl.fillRect(x0, i * row + 2, Math.max(2, w - x0), row - 4);
    }
    tl.fillStyle = "#ddd"; tl.fillText(label, 4, i * row + row / 2 + 4);
  });
}

function show(u) {
  lastTime = Date.parse(u.time);
  document.getElementById("clock").textContent = "stream " + u.stream.toFixed(1) + " s";
  meter("rms", "RMS", u.level.rms_dbfs);
  meter("peak", "peak", u.level.peak_dbfs);
  const on = new Set(u.active.map(a => a.label));
  document.getElementById("top").replaceChildren(...u.top.map(l => bar(l.label + " " + l.score.toFixed(2), l.score, on.has(l.label))));
  active = u.active;
  events = events.concat(u.events).slice(-1000);
  drawFrames(u.melBins, u.mel);
  drawTimeline(lastTime);
  const rows = events.slice(-15).reverse().map(e => {
    const tr = document.createElement("tr");
    for (const text of [e.time.slice(11, 19), e.label, (e.end - e.start).toFixed(1) + " s", e.peak.toFixed(2)]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    return tr;
  });
  document.getElementById("events").replaceChildren(...rows);
  updates++;
  document.body.dataset.updates = updates;
  document.body.dataset.frames = frames;
}

const source = new EventSource("api/live");
const state = document.getElementById("state");
source.addEventListener("hello", m => { events = []; state.textContent = "live"; state.className = "live"; show(JSON.parse(m.data)); });
source.addEventListener("update", m => show(JSON.parse(m.data)));
source.onerror = () => { state.textContent = "reconnecting…"; state.className = ""; };
</script>
</body>
</html>
"""#
}
