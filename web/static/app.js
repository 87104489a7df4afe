// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    window.print();
  }
});

// In-page checks for forms marked data-validate: the same rules the server applies, said in
// Vietnamese next to each field (the browser's own bubbles follow its UI language and vanish).
const MAX_BYTES_DEFAULT = 10 * 1024 * 1024;

function problemOf(input) {
  if (input.type === "file") {
    const limit = Number(input.dataset.maxBytes || MAX_BYTES_DEFAULT);
    if (input.required && input.files.length === 0) return "chưa đính kèm tệp";
    for (const file of input.files) {
      if (file.size > limit) return `tệp '${file.name}' vượt quá ${Math.round(limit / 1048576)} MB`;
      if (file.size === 0) return `tệp '${file.name}' rỗng`;
    }
    return "";
  }
  const v = input.validity;
  if (v.valueMissing) return "bắt buộc";
  if (v.patternMismatch || v.typeMismatch) return input.dataset.msg || "sai định dạng";
  if (v.tooLong) return `tối đa ${input.maxLength} ký tự`;
  if (v.rangeUnderflow) return `không nhỏ hơn ${input.min}`;
  if (v.rangeOverflow) return `không lớn hơn ${input.max}`;
  if (v.badInput || v.stepMismatch) return "sai kiểu dữ liệu";
  return "";
}

function show(input, message) {
  const field = input.closest(".field");
  if (!field) return;
  const text = field.querySelector(".error-text");
  field.classList.toggle("has-error", Boolean(message));
  if (text) {
    text.textContent = message;
    text.hidden = !message;
  }
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function checkForm(form) {
  let first = null;
  const seenRadio = new Set();
  for (const input of form.querySelectorAll("input, select, textarea")) {
    if (input.type === "hidden" || input.disabled) continue;
    if (input.type === "radio") {
      if (seenRadio.has(input.name)) continue;
      seenRadio.add(input.name);
    }
    const message = problemOf(input);
    show(input, message);
    if (message && !first) first = input;
  }
  return first;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.hasAttribute("data-validate")) {
    const first = checkForm(form);
    if (first) {
      event.preventDefault();
      first.focus();
      return;
    }
  }
  // One submission per click: a second click while the first is on its way does nothing.
  const button = form.querySelector("button[data-once]");
  if (button) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    button.setAttribute("aria-busy", "true");
  }
});

// Re-checked while typing (not on blur: a message vanishing on blur would move the page under the
// pointer that is about to click the next field).
document.addEventListener("input", (event) => {
  const input = event.target;
  if (
    (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) &&
    input.closest("form[data-validate]")
  ) {
    show(input, problemOf(input));
  }
});

// "Đủ tất cả": tick every box of a checkbox group at once.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-check-all]") : null;
  if (!button) return;
  event.preventDefault();
  const name = button.getAttribute("data-check-all");
  for (const box of button.closest("form").querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    box.checked = true;
  }
});
