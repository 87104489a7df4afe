// The import assistant's panel: what a diagram from another modelling tool lacks for motcua, in one
// report (procedure metadata, role and hours of each step, status codes), with the proposed values
// in inputs the designer confirms or edits. The engine (POST /api/designer/import-assist) proposes,
// fills in and validates; this file only shows the report and collects the designer's answers.
import { LEGAL_UNITS, ONLINE, RESULTS, ROLES, statusChoices } from './side-form.js';

const KIND_LABELS = { missing: 'Thiếu', proposed: 'Đề xuất', changed: 'Sẽ đổi', note: 'Lưu ý' };
// Procedure facts by XML attribute name (what the file will say), with their labels.
const PROCEDURE_FIELDS = [
  ['name', 'Tên thủ tục', null],
  ['code', 'Mã thủ tục quốc gia', null],
  ['field', 'Lĩnh vực', null],
  ['legalTime', 'Thời hạn giải quyết', null],
  ['legalUnit', 'Đơn vị thời hạn', LEGAL_UNITS],
  ['fee', 'Phí, lệ phí (đồng)', null],
  ['onlineLevel', 'Mức dịch vụ trực tuyến', ONLINE],
  ['resultType', 'Loại kết quả', RESULTS],
];

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

function choiceSelect(name, choices, value) {
  const select = el('select', { name });
  for (const [optionValue, label] of choices) {
    const option = el('option', { value: optionValue, text: label });
    if (String(optionValue) === String(value ?? '')) option.selected = true;
    select.appendChild(option);
  }
  if (value && !choices.some(([v]) => String(v) === String(value))) {
    select.appendChild(el('option', { value, text: value, selected: 'selected' }));
  }
  return select;
}

function section(title, children) {
  return el('div', { class: 'import-section' }, [el('h3', { text: title }), ...children]);
}

function procedureTable(report) {
  const values = { ...report.procedure, name: report.process_name };
  const rows = PROCEDURE_FIELDS.map(([attribute, label, choices]) => {
    const input = choices
      ? choiceSelect(attribute, choices, values[attribute])
      : el('input', { name: attribute, value: values[attribute] ?? '' });
    input.dataset.attribute = attribute;
    return el('tr', {}, [
      el('th', { text: label }),
      el('td', {}, [el('code', { text: attribute === 'name' ? 'name' : attribute })]),
      el('td', {}, [input]),
    ]);
  });
  return el('table', { id: 'import-procedure', class: 'import-table' }, [el('tbody', {}, rows)]);
}

function stepsTable(report) {
  const head = el('tr', {}, ['Mã', 'Tên bước', 'Làn', 'Vai trò (role)', 'Số giờ (hours)', 'Trạng thái (status code)'].map((t) => el('th', { text: t })));
  const rows = report.steps.map((step) => el('tr', { 'data-element-id': step.element_id, class: step.proposed ? 'proposed' : '' }, [
    el('td', {}, [el('code', { text: step.element_id })]),
    el('td', { text: step.name || '—' }),
    el('td', { text: step.lane || '—' }),
    el('td', {}, [choiceSelect('role', ROLES.filter(([v]) => v), step.role)]),
    el('td', {}, [el('input', { name: 'hours', type: 'number', min: '0.25', step: '0.25', value: String(step.hours) })]),
    el('td', {}, [choiceSelect('status', statusChoices(), step.status)]),
  ]));
  return el('table', { id: 'import-steps', class: 'import-table' }, [el('thead', {}, [head]), el('tbody', {}, rows)]);
}

function findingItem(finding) {
  const where = finding.element_id ? `[${finding.element_id}] ` : '';
  const attribute = finding.attribute ? ` (thuộc tính ${finding.attribute})` : '';
  return el('li', { class: finding.kind, 'data-element-id': finding.element_id || '', 'data-attribute': finding.attribute || '' }, [
    el('strong', { text: `${KIND_LABELS[finding.kind] || finding.kind}: ` }),
    `${where}${finding.message}${attribute}`,
  ]);
}

// Renders the report into ``panel``; ``onApply`` is called when the designer confirms the values.
// ``onSelect(elementId)`` highlights the element a finding is about.
export function renderImportReport(panel, report, { applied = false, onApply, onSelect } = {}) {
  panel.hidden = false;
  const missing = report.findings.filter((f) => f.kind === 'missing').length;
  const toFill = report.findings.filter((f) => f.kind !== 'note').length;
  const verdict = report.deployable
    ? 'Sau khi điền các giá trị dưới đây, quy trình triển khai được.'
    : `Còn ${report.problems.length} lỗi chặn triển khai (xem cuối báo cáo).`;
  const summary = toFill
    ? `Tệp thiếu ${missing} thông tin bắt buộc; ${toFill} mục sẽ được điền hoặc đổi. ${verdict}`
    : `Tệp đã có đủ thông tin motcua cần. ${verdict}`;
  const children = [
    el('h2', { text: `Trợ lý nhập sơ đồ: ${report.source}` }),
    el('p', { class: 'import-summary', id: 'import-summary', text: (applied ? 'Đã áp dụng vào sơ đồ. ' : '') + summary }),
  ];
  if (report.process_id) {
    children.push(section('Thông tin thủ tục (motcua:procedure)', [procedureTable(report)]));
  }
  if (report.steps.length) {
    children.push(section('Các bước do người xử lý (motcua:step, motcua:status)', [stepsTable(report)]));
  }
  if (report.findings.length) {
    const items = report.findings.map(findingItem);
    if (onSelect) {
      for (const item of items) {
        if (item.dataset.elementId) item.addEventListener('click', () => onSelect(item.dataset.elementId));
      }
    }
    children.push(section('Những gì trợ lý điền hoặc đổi', [el('ul', { id: 'import-findings' }, items)]));
  }
  if (report.problems.length) {
    children.push(section('Còn chặn triển khai', [el('ul', { id: 'import-problems', class: 'designer-issues' },
      report.problems.map((p) => el('li', { class: 'error', text: p })))]));
  }
  if (report.warnings.length) {
    children.push(section('Cảnh báo', [el('ul', { id: 'import-warnings', class: 'designer-issues' },
      report.warnings.map((w) => el('li', { class: 'warning', text: w })))]));
  }
  if (report.process_id && onApply) {
    const button = el('button', { type: 'button', id: 'import-apply', text: 'Áp dụng các giá trị vào sơ đồ' });
    button.addEventListener('click', () => onApply());
    children.push(el('p', {}, [button]));
  }
  panel.replaceChildren(...children);
}

// The designer's answers, in the shape the API takes (XML attribute names; steps by element id).
export function collectChoices(panel) {
  const procedure = {};
  for (const input of panel.querySelectorAll('#import-procedure [data-attribute]')) {
    const value = input.value.trim();
    if (value || input.dataset.attribute !== 'name') procedure[input.dataset.attribute] = value;
  }
  const steps = {};
  for (const row of panel.querySelectorAll('#import-steps tbody tr')) {
    const hours = Number(row.querySelector('[name="hours"]').value);
    const status = row.querySelector('[name="status"]').value;
    const choice = { role: row.querySelector('[name="role"]').value || null };
    if (Number.isFinite(hours) && hours > 0) choice.hours = hours;
    if (status) choice.status = Number(status);
    steps[row.dataset.elementId] = choice;
  }
  return { procedure, steps };
}
