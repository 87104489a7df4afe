// Side form for our BPMN extensions (namespace urn:motcua:bpmn:1), written through bpmn-js moddle.
// Values go straight into the business objects; saveXML() then writes them as motcua:* elements.

export const ROLES = [
  ['', '— chưa chọn —'],
  ['desk_clerk', 'Cán bộ tiếp nhận (một cửa)'],
  ['specialist', 'Chuyên viên'],
  ['head_of_department', 'Lãnh đạo phòng'],
  ['director', 'Lãnh đạo Sở'],
  ['other_department', 'Phòng/đơn vị phối hợp'],
  ['citizen', 'Công dân'],
];
// Step kinds come from the page (engine/domain/vocab.py STEP_KIND_LABELS), the registry lint,
// assignment and reports read too.
function stepKindChoices() {
  const box = document.getElementById('designer');
  let kinds = {};
  try {
    kinds = JSON.parse((box && box.dataset.stepKinds) || '{}');
  } catch (error) {
    kinds = {};
  }
  const choices = Object.entries(kinds).map(([value, label]) => [value, label]);
  return choices.length ? choices : [['', 'Bước xử lý']];
}
// The national status names come from the page (engine/statuses.py STATUS_LABELS), one source.
export function statusChoices() {
  const box = document.getElementById('designer');
  let names = {};
  try {
    names = JSON.parse((box && box.dataset.statuses) || '{}');
  } catch (error) {
    names = {};
  }
  return [['', '— không đặt —']].concat(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => [String(n), names[n] ? `${n} — ${names[n]}` : `Trạng thái ${n}`]),
  );
}

// Form schemas typed into the side panel that do not parse yet, by element id: "Lưu và kiểm tra"
// and "Triển khai" refuse while any is left, instead of saving the last valid one silently.
const schemaDrafts = new Map();
export function pendingSchemaProblems() {
  return [...schemaDrafts.entries()].map(([id, draft]) => ({ element_id: id, message: draft.message }));
}
export const LEGAL_UNITS = [['same_working_day', 'Trong ngày làm việc (sau giờ chốt: ngày làm việc tiếp theo)'], ['working_days', 'Ngày làm việc'], ['working_hours', 'Giờ làm việc'], ['calendar_days', 'Ngày']];
export const ONLINE = [['full', 'Toàn trình'], ['partial', 'Một phần']];
export const RESULTS = [['paper', 'Bản giấy'], ['electronic', 'Bản điện tử']];
const CLOCK_MODES = [['restart', 'Tính lại thời hạn từ đầu (mặc định)'], ['extend', 'Cộng thêm thời gian chờ bổ sung']];
const REPEAT_SUPPLEMENT = [
  ['refuse', 'Chỉ một lần; lần thứ hai bị từ chối (mặc định)'],
  ['head_approval', 'Lần thứ hai khi Lãnh đạo phòng phê duyệt (gắn cờ, tính trễ theo QĐ 766)'],
];
const DOCUMENT_KINDS = [['original', 'Bản chính'], ['copy', 'Bản sao'], ['certified_copy', 'Bản sao chứng thực']];
const TIMER_KINDS = [['timeDate', 'Thời điểm (giờ hành chính)'], ['timeDuration', 'Khoảng thời gian'], ['timeCycle', 'Chu kỳ']];

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.appendChild(child);
  return node;
}

function extension(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.get('values')) || [];
  return values.find((v) => v.$type === type);
}

function ensureExtension(moddle, bo, type) {
  if (!bo.extensionElements) {
    bo.extensionElements = moddle.create('bpmn:ExtensionElements', { values: [] });
    bo.extensionElements.$parent = bo;
  }
  let found = extension(bo, type);
  if (!found) {
    found = moddle.create(type);
    found.$parent = bo.extensionElements;
    bo.extensionElements.get('values').push(found);
  }
  return found;
}

function dropExtension(bo, type) {
  if (!bo.extensionElements) return;
  const values = bo.extensionElements.get('values');
  const index = values.findIndex((v) => v.$type === type);
  if (index >= 0) values.splice(index, 1);
}

function field(form, id, label, control) {
  form.appendChild(el('label', { for: id, text: label }));
  control.id = id;
  form.appendChild(control);
  return control;
}

function select(options, value) {
  const node = el('select');
  for (const [key, text] of options) {
    const option = el('option', { value: key, text });
    if (key === (value || '')) option.selected = true;
    node.appendChild(option);
  }
  return node;
}

function input(value, type = 'text') {
  const node = el('input', { type });
  node.value = value || '';
  return node;
}

export function executableProcess(modeler) {
  const definitions = modeler.getDefinitions();
  const processes = definitions.rootElements.filter((e) => e.$type === 'bpmn:Process');
  return processes.find((p) => p.isExecutable) || processes[0];
}

// Procedure metadata (motcua:procedure on the executable process).
export function renderProcedureForm(container, modeler) {
  const moddle = modeler.get('moddle');
  const process = executableProcess(modeler);
  container.replaceChildren();
  if (!process) return;
  const proc = ensureExtension(moddle, process, 'motcua:Procedure');
  const form = el('fieldset', { id: 'procedure-form' }, [el('legend', { text: 'Thông tin thủ tục' })]);
  const bind = (id, label, attr, control) => {
    field(form, id, label, control);
    const update = () => { proc.set(attr, control.value); };
    control.addEventListener('change', update);
    control.addEventListener('input', update);
  };
  bind('proc-code', 'Mã thủ tục quốc gia', 'code', input(proc.code));
  bind('proc-legal-time', 'Thời hạn giải quyết', 'legalTime', input(proc.legalTime, 'number'));
  bind('proc-legal-unit', 'Đơn vị thời hạn', 'legalUnit', select(LEGAL_UNITS, proc.legalUnit));
  bind('proc-fee', 'Lệ phí (đồng)', 'fee', input(proc.fee, 'number'));
  // Online payment through the payment gateway (Decision 766 indicator 3.5); absent means no.
  const paid = el('input', { type: 'checkbox' });
  paid.checked = proc.paymentIntegrated === 'true';
  field(form, 'proc-payment-integrated', 'Thanh toán trực tuyến qua cổng thanh toán', paid);
  paid.addEventListener('change', () => { proc.set('paymentIntegrated', paid.checked ? 'true' : undefined); });
  bind('proc-online-level', 'Mức độ trực tuyến', 'onlineLevel', select(ONLINE, proc.onlineLevel));
  bind('proc-result-type', 'Loại kết quả', 'resultType', select(RESULTS, proc.resultType));
  const cutoff = input(proc.receiptCutoff, 'time');
  field(form, 'proc-receipt-cutoff', 'Nhận sau giờ này thì tính từ ngày làm việc sau (để trống nếu không áp dụng)', cutoff);
  cutoff.addEventListener('change', () => { proc.set('receiptCutoff', cutoff.value || undefined); });
  bind('proc-clock-mode', 'Khi công dân bổ sung hồ sơ', 'clockMode', select(CLOCK_MODES, proc.clockMode || 'restart'));
  bind(
    'proc-repeat-supplement', 'Yêu cầu bổ sung hồ sơ lần thứ hai', 'repeatSupplement',
    select(REPEAT_SUPPLEMENT, proc.repeatSupplement || 'refuse'),
  );
  renderDocuments(form, moddle, proc);
  renderDueExtensions(form, moddle, proc);
  container.appendChild(form);
}

// Rows of a motcua:procedure child list (documents, due extensions): each input writes its attribute
// at once; "Xoá" removes the child; "Thêm" appends an empty one and redraws the table.
function renderRows(form, moddle, proc, spec) {
  const list = proc.get(spec.property);
  const table = el('table', { class: 'rows', id: spec.id });
  table.appendChild(el('tr', {}, spec.columns.map(([, label]) => el('th', { text: label })).concat([el('th')])));
  list.forEach((child, index) => {
    const row = el('tr', { 'data-index': String(index) });
    for (const [attr, , kind] of spec.columns) {
      let control;
      if (kind === 'bool') {
        control = el('input', { type: 'checkbox', name: attr });
        control.checked = child.get(attr) !== 'false';
        control.addEventListener('change', () => { child.set(attr, control.checked ? undefined : 'false'); });
      } else if (Array.isArray(kind)) {
        control = select(kind, child.get(attr));
        control.name = attr;
        control.addEventListener('change', () => { child.set(attr, control.value || undefined); });
      } else {
        control = input(child.get(attr), kind || 'text');
        control.name = attr;
        control.addEventListener('input', () => { child.set(attr, control.value || undefined); });
      }
      row.appendChild(el('td', {}, [control]));
    }
    const remove = el('button', { type: 'button', class: 'link remove', text: 'Xoá' });
    remove.addEventListener('click', () => {
      list.splice(list.indexOf(child), 1);
      redraw();
    });
    row.appendChild(el('td', {}, [remove]));
    table.appendChild(row);
  });
  const add = el('button', { type: 'button', id: `${spec.id}-add`, text: spec.addLabel });
  add.addEventListener('click', () => {
    const child = moddle.create(spec.type, spec.defaults());
    child.$parent = proc;
    list.push(child);
    redraw();
  });
  const box = el('div', { class: 'rows-box', id: `${spec.id}-box` }, [el('p', { class: 'rows-title', text: spec.title }), table, add]);
  function redraw() {
    const fresh = el('div');
    renderRows(fresh, moddle, proc, spec);
    box.replaceWith(fresh.firstChild);
  }
  form.appendChild(box);
}

function renderDocuments(form, moddle, proc) {
  renderRows(form, moddle, proc, {
    id: 'proc-documents',
    property: 'documents',
    type: 'motcua:Document',
    title: 'Thành phần hồ sơ',
    addLabel: 'Thêm giấy tờ',
    columns: [['code', 'Mã'], ['name', 'Tên giấy tờ'], ['kind', 'Loại', DOCUMENT_KINDS], ['count', 'Số bản', 'number'], ['required', 'Bắt buộc', 'bool'], ['dataCode', 'Mã dữ liệu dùng lại'], ['validMonths', 'Hiệu lực (tháng)', 'number']],
    defaults: () => ({ code: `TP${proc.get('documents').length + 1}`, name: '', kind: 'original', count: '1' }),
  });
}

function renderDueExtensions(form, moddle, proc) {
  renderRows(form, moddle, proc, {
    id: 'proc-extensions',
    property: 'dueExtensions',
    type: 'motcua:DueExtension',
    title: 'Gia hạn theo câu trả lời có/không của một bước',
    addLabel: 'Thêm gia hạn',
    columns: [['field', 'Trường (có/không)'], ['workingDays', 'Số ngày làm việc', 'number'], ['note', 'Ghi chú']],
    defaults: () => ({ field: '', workingDays: '1' }),
  });
}

function renderStep(form, moddle, bo) {
  const step = extension(bo, 'motcua:Step');
  const role = field(form, 'step-role', 'Vai trò thực hiện', select(ROLES, step && step.role));
  const hours = field(form, 'step-hours', 'Số giờ phân bổ', input(step && step.hours, 'number'));
  hours.step = '0.5';
  const kind = field(form, 'step-kind', 'Loại bước', select(stepKindChoices(), step && step.kind));
  const unit = field(form, 'step-unit', 'Đơn vị xử lý (để trống: theo làn)', input(step && step.unit));
  const update = () => {
    if (!role.value && !hours.value && !kind.value && !unit.value.trim()) {
      dropExtension(bo, 'motcua:Step');
      return;
    }
    const target = ensureExtension(moddle, bo, 'motcua:Step');
    target.set('role', role.value || undefined);
    target.set('hours', hours.value || undefined);
    target.set('kind', kind.value || undefined);
    target.set('unit', unit.value.trim() || undefined);
  };
  for (const control of [role, hours, kind, unit]) {
    control.addEventListener('change', update);
    control.addEventListener('input', update);
  }
}

// The unit a lane's steps are routed to (motcua:assignment): its staff alone work and read them.
function renderLaneUnit(form, moddle, bo) {
  const assignment = extension(bo, 'motcua:Assignment');
  const unit = field(form, 'lane-unit', 'Đơn vị xử lý các bước trong làn', input(assignment && assignment.unit));
  unit.addEventListener('input', () => {
    if (!unit.value.trim()) dropExtension(bo, 'motcua:Assignment');
    else ensureExtension(moddle, bo, 'motcua:Assignment').set('unit', unit.value.trim());
  });
}

function renderStatus(form, moddle, bo) {
  const status = extension(bo, 'motcua:Status');
  const code = field(form, 'status-code', 'Trạng thái hồ sơ (DVCQG)', select(statusChoices(), status && status.code));
  code.addEventListener('change', () => {
    if (!code.value) dropExtension(bo, 'motcua:Status');
    else ensureExtension(moddle, bo, 'motcua:Status').set('code', code.value);
  });
}

function schemaProblem(text) {
  if (!text.trim()) return null;
  let schema;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return `JSON không hợp lệ: ${error.message}`;
  }
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return 'Biểu mẫu phải là một đối tượng JSON';
  if (schema.type !== 'object') return 'Biểu mẫu phải có "type": "object"';
  if (schema.properties && typeof schema.properties !== 'object') return '"properties" phải là một đối tượng';
  return null;
}

function renderForm(form, moddle, bo) {
  const existing = extension(bo, 'motcua:Form');
  const area = field(form, 'form-schema', 'Biểu mẫu (JSON Schema)', el('textarea', { spellcheck: 'false' }));
  const pending = schemaDrafts.get(bo.id);
  area.value = pending ? pending.text : (existing ? (existing.body || '').trim() : '');
  const problem = el('p', { class: 'field-error', id: 'form-schema-error', role: 'alert' });
  problem.textContent = pending ? pending.message : '';
  form.appendChild(problem);
  area.addEventListener('input', () => {
    const message = schemaProblem(area.value);
    problem.textContent = message || '';
    if (message) {
      // The model keeps the last valid schema, but the page remembers the broken text and blocks saving.
      schemaDrafts.set(bo.id, { text: area.value, message });
      return;
    }
    schemaDrafts.delete(bo.id);
    if (!area.value.trim()) dropExtension(bo, 'motcua:Form');
    else ensureExtension(moddle, bo, 'motcua:Form').set('body', area.value);
  });
}

function timerDefinition(bo) {
  return (bo.eventDefinitions || []).find((d) => d.$type === 'bpmn:TimerEventDefinition');
}

function renderTimer(form, moddle, timer) {
  const current = TIMER_KINDS.map(([k]) => k).find((k) => timer[k]) || 'timeDate';
  const kind = field(form, 'timer-kind', 'Loại hẹn giờ', select(TIMER_KINDS, current));
  const expr = field(form, 'timer-expression', 'Biểu thức (ví dụ working_hours(8))',
    input(timer[current] ? timer[current].body : ''));
  const update = () => {
    for (const [k] of TIMER_KINDS) timer.set(k, undefined);
    const value = moddle.create('bpmn:FormalExpression', { body: expr.value });
    value.$parent = timer;
    timer.set(kind.value, value);
  };
  kind.addEventListener('change', update);
  expr.addEventListener('input', update);
  expr.addEventListener('change', update);
}

function renderCondition(form, moddle, bo) {
  const area = field(form, 'flow-condition', 'Điều kiện (biểu thức Python)',
    input(bo.conditionExpression ? bo.conditionExpression.body : ''));
  area.addEventListener('input', () => {
    if (!area.value.trim()) {
      bo.set('conditionExpression', undefined);
      return;
    }
    const value = moddle.create('bpmn:FormalExpression', { body: area.value });
    value.$parent = bo;
    bo.set('conditionExpression', value);
  });
}

// The form for one selected diagram element.
export function renderElementForm(container, modeler, element) {
  const moddle = modeler.get('moddle');
  container.replaceChildren();
  if (!element || element.type === 'bpmn:Process' || element.type === 'bpmn:Collaboration') {
    container.appendChild(el('p', { class: 'hint', text: 'Chọn một phần tử trên sơ đồ để sửa thông tin của nó.' }));
    return;
  }
  const bo = element.businessObject;
  const form = el('fieldset', { id: 'element-form', 'data-element-id': bo.id }, [
    el('legend', { text: `${bo.name || bo.id} (${bo.id})` }),
  ]);
  const type = element.type;
  if (type === 'bpmn:UserTask') {
    renderStep(form, moddle, bo);
    renderForm(form, moddle, bo);
  }
  const timer = timerDefinition(bo);
  if (timer) renderTimer(form, moddle, timer);
  if (type === 'bpmn:Lane') renderLaneUnit(form, moddle, bo);
  if (type === 'bpmn:SequenceFlow') renderCondition(form, moddle, bo);
  else if (!['bpmn:Lane', 'bpmn:Participant', 'bpmn:TextAnnotation', 'label'].includes(type)) {
    renderStatus(form, moddle, bo);
  }
  container.appendChild(form);
}
