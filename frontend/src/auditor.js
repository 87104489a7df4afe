// Auditor pages: the case player (bpmn-js NavigatedViewer with the path taken, a slider over the
// events, the replayed state from the server) and the Decision 766 charts (Chart.js).
// Every page works without JavaScript: the slider is a GET form and prev/next are plain links.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
} from 'chart.js';

const DONE = 'motcua-done';
const CURRENT = 'motcua-current';

function jsonFrom(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

// ----------------------------------------------------------------------------- the case player

// The sequence flows actually taken, from the order in which elements completed: each arrival at an
// element came along the flow from the nearest earlier element among its sources (a loop's way back
// is only lit when it was taken); a parallel or inclusive join is reached by all its done sources.
function takenFlows(registry, order, current) {
  const sequence = [...order, ...current];
  const taken = new Set();
  sequence.forEach((id, index) => {
    const element = registry.get(id);
    const incoming = ((element && element.incoming) || []).filter((f) => f.type === 'bpmn:SequenceFlow');
    if (!incoming.length) return;
    const earlier = sequence.slice(0, index);
    if (incoming.length > 1 && /Parallel|Inclusive/.test(element.type)) {
      incoming.forEach((flow) => { if (earlier.includes(flow.source.id)) taken.add(flow.id); });
      return;
    }
    for (let k = earlier.length - 1; k >= 0; k -= 1) {
      const flow = incoming.find((f) => f.source.id === earlier[k]);
      if (flow) { taken.add(flow.id); return; }
    }
  });
  return taken;
}
function setupPlayer(root) {
  const total = Number(root.dataset.total);
  const slider = document.getElementById('player-slider');
  const prev = document.getElementById('player-prev');
  const next = document.getElementById('player-next');
  const position = document.getElementById('player-position');
  const panel = document.getElementById('state-panel');
  const diagramStatus = document.getElementById('diagram-status');
  const viewer = new NavigatedViewer({ container: '#auditor-diagram' });
  const cache = new Map();
  const state = {
    viewer, at: Number(root.dataset.at), ready: false, marks: jsonFrom('diagram-marks') || { done: [], current: [] },
    marked: [], importErrors: [], loads: 0,
  };
  window.motcuaAuditor = state;
  document.getElementById('player-go').remove(); // the slider answers at once

  function mark() {
    if (!state.ready) return;
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    for (const [id, marker] of state.marked) canvas.removeMarker(id, marker);
    state.marked = [];
    const done = new Set(state.marks.done.filter((id) => registry.get(id)));
    const current = new Set(state.marks.current.filter((id) => registry.get(id)));
    // A step inside a called sub-process is not on this diagram: the call activity that was
    // entered (an incoming flow from the path) and not yet left stands for it.
    if (state.marks.current.some((id) => !registry.get(id))) {
      registry.filter((e) => e.type === 'bpmn:CallActivity' && !done.has(e.id)).forEach((e) => {
        if ((e.incoming || []).some((flow) => done.has(flow.source.id))) current.add(e.id);
      });
    }
    const order = state.marks.done.filter((id) => registry.get(id));
    for (const id of current) done.delete(id);
    for (const id of takenFlows(registry, order, [...current])) done.add(id);
    for (const id of done) { canvas.addMarker(id, DONE); state.marked.push([id, DONE]); }
    for (const id of current) { canvas.addMarker(id, CURRENT); state.marked.push([id, CURRENT]); }
    diagramStatus.textContent = `${done.size} phần tử đã đi qua, ${current.size} đang xử lý`;
  }

  function link(at) {
    const url = new URL(window.location.href);
    url.searchParams.set('at', String(at));
    return url.pathname + url.search;
  }

  function show(at, answer) {
    state.at = at;
    state.marks = { done: answer.done, current: answer.current };
    panel.innerHTML = answer.html;
    slider.value = String(at);
    position.textContent = `Sự kiện ${at} / ${total}`;
    prev.href = link(Math.max(1, at - 1));
    next.href = link(Math.min(total, at + 1));
    prev.classList.toggle('disabled', at <= 1);
    next.classList.toggle('disabled', at >= total);
    // Rows are numbered by position (`at`), which is the seq unless events were deleted.
    document.querySelectorAll('#auditor-timeline tr[data-at]').forEach((row) => {
      const selected = Number(row.dataset.at) === at;
      row.classList.toggle('selected', selected);
      if (selected) row.setAttribute('aria-current', 'true'); else row.removeAttribute('aria-current');
    });
    window.history.replaceState(null, '', link(at));
    mark();
    state.loads += 1;
    root.dataset.at = String(at);
  }

  async function go(at) {
    const wanted = Math.min(total, Math.max(1, at));
    root.dataset.state = 'loading';
    try {
      if (!cache.has(wanted)) {
        const url = new URL(root.dataset.stateUrl, window.location.href);
        url.searchParams.set('at', String(wanted));
        const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        const body = await response.json();
        if (!response.ok) throw new Error(body.message || `Lỗi ${response.status}`);
        cache.set(wanted, body);
      }
      if (Number(slider.value) === wanted || at !== wanted) show(wanted, cache.get(wanted));
      root.dataset.state = 'ready';
    } catch (error) {
      panel.insertAdjacentHTML('afterbegin', '<p class="flash flash-error" role="alert"></p>');
      panel.firstElementChild.textContent = `Không tải được trạng thái: ${error.message}`;
      root.dataset.state = 'error';
    }
  }

  let timer = null;
  slider.addEventListener('input', () => {
    position.textContent = `Sự kiện ${slider.value} / ${total}`;
    clearTimeout(timer);
    timer = setTimeout(() => go(Number(slider.value)), 120);
  });
  prev.addEventListener('click', (event) => { event.preventDefault(); slider.value = String(state.at - 1); go(state.at - 1); });
  next.addEventListener('click', (event) => { event.preventDefault(); slider.value = String(state.at + 1); go(state.at + 1); });
  document.querySelectorAll('#auditor-timeline a[data-at]').forEach((anchor) => {
    anchor.addEventListener('click', (event) => {
      event.preventDefault();
      slider.value = anchor.dataset.at;
      go(Number(anchor.dataset.at));
      root.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  });
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement && event.target !== slider) return;
    if (event.key === 'ArrowLeft' && event.target !== slider) prev.click();
    if (event.key === 'ArrowRight' && event.target !== slider) next.click();
  });

  // Readable first: the whole process is fitted only while that keeps text legible; otherwise the
  // diagram opens at a readable scale on the step the dossier is at. Buttons and +/- zoom.
  const READABLE = 0.8;
  function fit() {
    const canvas = viewer.get('canvas');
    canvas.zoom('fit-viewport');
    if (canvas.zoom() < READABLE) canvas.zoom(READABLE);
    state.scale = canvas.zoom();
  }
  function focusCurrent() {
    const registry = viewer.get('elementRegistry');
    const target = state.marked.map(([id]) => id).reverse().map((id) => registry.get(id)).find(Boolean);
    if (target && viewer.get('canvas').zoom() <= READABLE + 0.01) viewer.get('canvas').scrollToElement(target);
  }
  function zoomBy(factor) {
    const canvas = viewer.get('canvas');
    canvas.zoom(Math.min(4, Math.max(0.2, canvas.zoom() * factor)), 'auto');
    state.scale = canvas.zoom();
  }
  const zoomIn = document.getElementById('diagram-zoom-in');
  const zoomOut = document.getElementById('diagram-zoom-out');
  const zoomFit = document.getElementById('diagram-zoom-fit');
  const big = document.getElementById('diagram-big');
  if (zoomIn) zoomIn.addEventListener('click', () => zoomBy(1.25));
  if (zoomOut) zoomOut.addEventListener('click', () => zoomBy(0.8));
  if (zoomFit) zoomFit.addEventListener('click', () => { viewer.get('canvas').zoom('fit-viewport'); state.scale = viewer.get('canvas').zoom(); });
  if (big) {
    big.addEventListener('click', () => {
      const box = document.getElementById('auditor-diagram');
      const on = box.classList.toggle('large');
      big.setAttribute('aria-pressed', String(on));
      viewer.get('canvas').resized();
      fit();
      focusCurrent();
    });
  }

  (async () => {
    try {
      const response = await fetch(root.dataset.diagramUrl, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`Lỗi ${response.status}`);
      const { warnings } = await viewer.importXML(await response.text());
      state.importErrors = warnings || [];
      fit();
      state.ready = true;
      mark();
      focusCurrent();
      root.dataset.state = 'ready';
    } catch (error) {
      diagramStatus.textContent = `Không hiển thị được sơ đồ: ${error.message}`;
      root.dataset.state = 'error';
    }
  })();
}

// ----------------------------------------------------------------------------- 766 charts
function short(name) {
  return name.length > 34 ? `${name.slice(0, 33)}…` : name;
}

function setupScorecard(box) {
  Chart.register(
    BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement,
    Legend, Tooltip,
  );
  const card = jsonFrom('scorecard-data');
  const groups = card.groups;
  const charts = [];
  const trendCanvas = document.getElementById('chart-trend');
  if (trendCanvas && card.trend) {
    // One line per plan target; a month without data is a gap in the line, never 0 %.
    const palette = ['#a4161a', '#1d4e89', '#1e7b34', '#d98c00', '#6a4c93', '#00798c', '#5f0f40', '#7f7f7f'];
    const lines = card.lines.filter((l) => card.trend.some((p) => p.values[l.code] !== null));
    charts.push(new Chart(trendCanvas, {
      type: 'line',
      data: {
        labels: card.trend.map((p) => p.month),
        datasets: lines.map((l, index) => ({
          label: l.name,
          data: card.trend.map((p) => (p.values[l.code] === null ? null : Math.round(p.values[l.code] * 1000) / 10)),
          borderColor: palette[index % palette.length],
          backgroundColor: palette[index % palette.length],
          spanGaps: false,
        })),
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true, max: 100 } } },
    }));
  }
  charts.push(new Chart(document.getElementById('chart-groups'), {
    type: 'bar',
    data: {
      labels: groups.map((g) => `${g.code} — ${g.name}`),
      datasets: [
        { label: 'Điểm đạt', data: groups.map((g) => g.points ?? 0), backgroundColor: '#a4161a' },
        { label: 'Điểm đo được', data: groups.map((g) => g.measured_max), backgroundColor: '#9aa6b2' },
        { label: 'Điểm tối đa', data: groups.map((g) => g.max_points), backgroundColor: '#d8dee6' },
      ],
    },
    options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } },
  }));
  const indicators = groups.flatMap((g) => g.indicators).filter((i) => i.rate !== null);
  charts.push(new Chart(document.getElementById('chart-indicators'), {
    type: 'bar',
    data: {
      labels: indicators.map((i) => `${i.code} ${short(i.name)}`),
      datasets: [{
        label: 'Tỷ lệ (%)',
        data: indicators.map((i) => Math.round(i.rate * 1000) / 10),
        backgroundColor: indicators.map((i) => (i.rate >= 0.9 ? '#1e7b34' : i.rate >= 0.5 ? '#d98c00' : '#b3261e')),
      }],
    },
    options: {
      indexAxis: 'y', responsive: true, animation: false,
      scales: { x: { beginAtZero: true, max: 100 } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: (items) => indicators[items[0].dataIndex].name } },
      },
    },
  }));
  window.motcuaCharts = charts;
  box.dataset.state = 'ready';
}

const player = document.getElementById('auditor-player');
if (player) setupPlayer(player);
const charts = document.getElementById('scorecard-charts');
if (charts) setupScorecard(charts);
