// Designer page: bpmn-js Modeler + our side form; validation and deployment go to the Flask app.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import motcuaDescriptor from './motcua-moddle.json';
import { pendingSchemaProblems, renderElementForm, renderProcedureForm } from './side-form.js';
import { collectChoices, renderImportReport } from './import-report.js';

const root = document.getElementById('designer');
const status = document.getElementById('designer-status');
const issuesList = document.getElementById('designer-issues');
const elementForm = document.getElementById('element-properties');
const procedureForm = document.getElementById('procedure-properties');
const importPanel = document.getElementById('import-report');

const modeler = new BpmnModeler({
  container: '#designer-canvas',
  moddleExtensions: { motcua: motcuaDescriptor },
});
const state = {
  modeler, importErrors: [], importWarnings: [], marked: [], lastReport: null, ready: false, importReport: null, importSource: null,
};
window.motcuaDesigner = state;

function say(text, ok) {
  status.textContent = text;
  status.className = `designer-status ${ok ? 'ok' : 'bad'}`;
}

function clearMarkers() {
  const canvas = modeler.get('canvas');
  for (const [id, marker] of state.marked) canvas.removeMarker(id, marker);
  state.marked = [];
}

function showIssues(issues) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  clearMarkers();
  issuesList.replaceChildren();
  for (const issue of issues) {
    const item = document.createElement('li');
    item.className = issue.severity;
    item.dataset.elementId = issue.element_id || '';
    const where = issue.element_id ? `[${issue.element_id}] ` : '';
    item.textContent = `${issue.severity === 'error' ? 'Lỗi' : 'Cảnh báo'}: ${where}${issue.message}`;
    const shape = issue.element_id && registry.get(issue.element_id);
    if (shape) {
      canvas.addMarker(issue.element_id, issue.severity);
      state.marked.push([issue.element_id, issue.severity]);
      item.addEventListener('click', () => modeler.get('selection').select(shape));
    }
    issuesList.appendChild(item);
  }
}

async function post(url) {
  const { xml } = await modeler.saveXML({ format: true });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf },
    credentials: 'same-origin',
    body: JSON.stringify({ xml }),
  });
  const body = await response.json().catch(() => ({ ok: false, issues: [], message: `Lỗi ${response.status}` }));
  return { response, body };
}

// "Lưu và kiểm tra": the server stores the editor's state as a draft (even when it does not validate
// yet, so no work is lost) and answers with the validation report.
function blockedBySchemas() {
  const problems = pendingSchemaProblems();
  if (!problems.length) return null;
  const issues = problems.map((p) => ({ severity: 'error', element_id: p.element_id, message: `Biểu mẫu: ${p.message}` }));
  showIssues(issues);
  say(`Chưa lưu: biểu mẫu của ${problems.length} phần tử chưa hợp lệ. Sửa ở khung bên phải rồi thử lại.`, false);
  return { ok: false, saved: false, issues };
}

async function validate() {
  const blocked = blockedBySchemas();
  if (blocked) { state.lastReport = blocked; return blocked; }
  say('Đang lưu và kiểm tra…', true);
  const { body } = await post(root.dataset.saveUrl);
  state.lastReport = body;
  showIssues(body.issues || []);
  const errors = (body.issues || []).filter((i) => i.severity === 'error').length;
  const saved = body.saved ? `Đã lưu bản nháp lúc ${body.saved_at}. ` : 'Chưa lưu. ';
  if (body.ok) say(`${saved}Hợp lệ: có thể triển khai phiên bản mới.`, true);
  else say(saved + (body.message || `Chưa hợp lệ: ${errors} lỗi. Sửa các phần tử được đánh dấu đỏ.`), false);
  return body;
}

function selectElement(id) {
  const shape = modeler.get('elementRegistry').get(id);
  if (shape) modeler.get('selection').select(shape);
}

async function showDiagram(xml) {
  const result = await modeler.importXML(xml);
  state.importWarnings = result.warnings.map((w) => String(w.message || w));
  modeler.get('canvas').zoom('fit-viewport');
  renderProcedureForm(procedureForm, modeler);
  renderElementForm(elementForm, modeler, null);
  showIssues([]);
}

// The import assistant (the engine's, through the JSON API): one report of what the file lacks, with
// proposals; ``choices`` are the designer's confirmed values. Stores nothing.
async function assist(choices) {
  const response = await fetch(root.dataset.importUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf },
    credentials: 'same-origin',
    body: JSON.stringify({
      xml: state.importSource.xml, source: state.importSource.name, procedure_id: root.dataset.procedureId, choices,
    }),
  });
  const body = await response.json().catch(() => ({ message: `Lỗi ${response.status}` }));
  if (!response.ok) throw new Error(body.message || `Lỗi ${response.status}`);
  state.importReport = body;
  return body;
}

// "Áp dụng": the engine fills the confirmed values into the file as it was opened, and the editor
// takes that copy; it is saved or deployed only by the usual buttons, with every check.
async function applyImport() {
  const name = state.importSource.name;
  try {
    const report = await assist(collectChoices(importPanel));
    if (!report.prepared) {
      renderImportReport(importPanel, report, { onApply: applyImport, onSelect: selectElement });
      say(`Chưa áp dụng được vào ${name}: ${report.problems.join('; ')}`, false);
      return report;
    }
    await showDiagram(report.prepared);
    renderImportReport(importPanel, report, { applied: true, onApply: applyImport, onSelect: selectElement });
    const verdict = report.deployable ? 'Nhấn "Lưu và kiểm tra" rồi "Triển khai".' : `Còn ${report.problems.length} lỗi cần sửa trong sơ đồ.`;
    say(`Đã áp dụng giá trị mặc định vào sơ đồ ${name}. ${verdict}`, report.deployable);
    return report;
  } catch (error) {
    say(`Không áp dụng được: ${error.message || error}`, false);
    return null;
  }
}

// A BPMN file from the designer's disk opens in the modeler and goes to the import assistant, which
// lists what motcua still needs; nothing is stored until it is saved or deployed, where the hardened
// parser and every check run on it.
async function openFile(file) {
  if (!file) return;
  if (file.size > Number(root.dataset.maxBytes || Infinity)) {
    say(`Tệp ${file.name} quá lớn.`, false);
    return;
  }
  const xml = await file.text();
  state.importSource = { name: file.name, xml };
  try {
    await showDiagram(xml);
  } catch (error) {
    say(`Không mở được tệp ${file.name}: ${error.message || error}`, false);
    return;
  }
  try {
    const report = await assist({});
    renderImportReport(importPanel, report, { onApply: applyImport, onSelect: selectElement });
    const needed = report.findings.filter((f) => f.kind === 'missing').length;
    const toApply = report.findings.some((f) => f.kind !== 'note');
    const more = needed ? ` Trợ lý nhập sơ đồ: thiếu ${needed} thông tin, xem đề xuất bên dưới.` : '';
    const next = toApply
      ? 'Xác nhận hoặc sửa các giá trị rồi nhấn "Áp dụng các giá trị vào sơ đồ".'
      : 'Nhấn "Lưu và kiểm tra" để lưu bản nháp.';
    say(`Đã mở tệp ${file.name}.${more} ${next}`, true);
  } catch (error) {
    say(`Đã mở tệp ${file.name}; trợ lý nhập sơ đồ không trả lời: ${error.message || error}`, false);
  }
}

// After a deploy the page shows the new version everywhere at once: heading, download link, and no
// draft banner (the draft became the version).
function reflectDeploy(version) {
  document.getElementById('designer-version').textContent = String(version);
  const notice = document.getElementById('designer-draft-notice');
  if (notice) notice.remove();
  const download = document.getElementById('designer-download');
  if (download) {
    download.href = download.dataset.template.replace('__VERSION__', String(version));
    download.textContent = `Tải BPMN phiên bản ${version}`;
  }
}

async function deploy() {
  const blocked = blockedBySchemas();
  if (blocked) { state.lastReport = blocked; return blocked; }
  say('Đang triển khai…', true);
  const { body } = await post(root.dataset.deployUrl);
  state.lastReport = body;
  showIssues(body.issues || []);
  if (body.ok) {
    say(`Đã triển khai phiên bản ${body.version}. ${body.summary || ''}`, true);
    reflectDeploy(body.version);
  } else {
    say(body.message || 'Chưa triển khai: quy trình còn lỗi.', false);
  }
  return body;
}

async function load() {
  const response = await fetch(root.dataset.xmlUrl, { credentials: 'same-origin' });
  const xml = await response.text();
  try {
    const result = await modeler.importXML(xml);
    state.importWarnings = result.warnings.map((w) => String(w.message || w));
  } catch (error) {
    state.importErrors.push(String(error.message || error));
    say(`Không mở được sơ đồ: ${error.message || error}`, false);
  }
  modeler.get('canvas').zoom('fit-viewport');
  renderProcedureForm(procedureForm, modeler);
  renderElementForm(elementForm, modeler, null);
  modeler.on('selection.changed', ({ newSelection }) => {
    renderElementForm(elementForm, modeler, newSelection.length === 1 ? newSelection[0] : null);
  });
  state.ready = state.importErrors.length === 0;
  root.dataset.state = state.ready ? 'ready' : 'failed';
}

document.getElementById('designer-validate').addEventListener('click', () => { validate(); });
document.getElementById('designer-deploy').addEventListener('click', () => { deploy(); });
document.getElementById('designer-file').addEventListener('change', (event) => { openFile(event.target.files[0]); });
state.validate = validate;
state.deploy = deploy;
state.applyImport = applyImport;
load();
