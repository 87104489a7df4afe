"""Vietnamese reasons for what SpiffWorkflow, Python, lxml and json say in English.

Users read every refusal (validation, deployment, a step that fails at run time) in Vietnamese, with
the element it is about by id and name. The libraries' own text is kept as ``detail`` (the error's
``details`` and the log) for whoever has to dig further; it never follows a Vietnamese prefix.

Pure: strings in, strings out. The patterns are the messages SpiffWorkflow 3.x raises from its parser,
serializer and script engine, and the Python/lxml errors a foreign diagram reaches; anything
unknown gets a generic Vietnamese sentence (the English stays in ``detail``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# SpiffWorkflow's element kinds in its messages -> what a Vietnamese designer calls them.
_KINDS = {
    "message": "thông điệp",
    "signal": "tín hiệu",
    "error": "lỗi (error)",
    "escalation": "leo thang (escalation)",
    "correlation": "tương quan (correlation)",
    "data store": "kho dữ liệu",
}

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, render: str | Callable[[re.Match[str]], str]) -> _Rule:
    compiled = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    if isinstance(render, str):
        text = render
        return compiled, lambda m: text.format(*m.groups())
    return compiled, render


def _python_value(text: str) -> str:
    return text.strip().strip("'\"")


# Most specific first: SpiffWorkflow wraps Python errors ("Error evaluating expression 'x', name 'y'
# is not defined"), so the inner cause is tried before the wrapper's generic sentence.
_RULES: tuple[_Rule, ...] = (
    # --- SpiffWorkflow parser
    _rule(
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        "quy trình con phải có đúng một sự kiện bắt đầu (đang có {0})",
    ),
    _rule(r"A SubWorkflow Must contain an End event", "quy trình con phải có ít nhất một sự kiện kết thúc"),
    _rule(
        r"Non-default exclusive outgoing sequence flow without condition",
        "luồng ra từ cổng thiếu điều kiện và không phải luồng mặc định",
    ),
    _rule(
        r'No "calledElement" attribute for Call Activity', "bước gọi quy trình chưa ghi quy trình được gọi"
    ),
    _rule(r"Invalid Script Task\.\s+No Script Provided", "bước kịch bản chưa có nội dung kịch bản"),
    _rule(r"A Service Task must have an operator", "tác vụ dịch vụ chưa khai báo thao tác (operator)"),
    _rule(r"Process (\S+) is not executable", "quy trình {0} không được đánh dấu thực thi (isExecutable)"),
    _rule(r"No start event found", "quy trình không có sự kiện bắt đầu"),
    _rule(r"There is no support implemented for this task type", "loại phần tử này chưa được hỗ trợ"),
    _rule(
        r"Unsupported (Catch|Throw) Event",
        lambda m: (
            f"loại sự kiện {'chờ' if m.group(1) == 'Catch' else 'phát'} này chưa được hỗ trợ "
            "(ví dụ sự kiện bù trừ - compensation)"
        ),
    ),
    _rule(r"Duplicate process ID: (\S+)", "mã quy trình '{0}' bị trùng"),
    _rule(r"The process '([^']*)' was not found", "không tìm thấy quy trình '{0}'"),
    _rule(
        r"(Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing",
        lambda m: f"{_KINDS[m.group(1).lower()]} thiếu mã (id)",
    ),
    _rule(r"Data Store name is missing", "kho dữ liệu thiếu tên"),
    _rule(
        r"Data Store with name (.*?) has no implementation",
        "kho dữ liệu '{0}' chưa khai báo cách lưu (implementation)",
    ),
    _rule(
        r"Correlation is missing correlation property retrieval expressions: (\S+)",
        "tương quan '{0}' thiếu biểu thức lấy giá trị",
    ),
    _rule(
        r"Message identifier is missing from correlation property: (\S+)", "tương quan '{0}' thiếu thông điệp"
    ),
    _rule(
        r"Could not find messageRef from message event definition: (\S+)", "không tìm thấy thông điệp '{0}'"
    ),
    _rule(
        r"Sequential ordering for ad hoc subprocesses not supported",
        "chưa hỗ trợ quy trình con tự do tuần tự",
    ),
    _rule(
        r"Ad hoc subprocesses may not contain start or end events",
        "quy trình con tự do không được có sự kiện bắt đầu hay kết thúc",
    ),
    _rule(
        r"Conditional event definition with missing condition", "sự kiện điều kiện thiếu biểu thức điều kiện"
    ),
    _rule(r"Unknown Time Specification", "hẹn giờ không rõ loại (timeDate, timeDuration hay timeCycle)"),
    _rule(r"Time Specification Error", "biểu thức hẹn giờ không hợp lệ"),
    _rule(r"Cannot resolve dataInputAssociation", "liên kết dữ liệu vào không trỏ tới đối tượng dữ liệu nào"),
    _rule(r"Cannot resolve dataOutputAssociation", "liên kết dữ liệu ra không trỏ tới đối tượng dữ liệu nào"),
    _rule(
        r"raise_validation_exception\(\) got an unexpected keyword argument",
        "sự kiện tham chiếu tới thông điệp, tín hiệu, lỗi hoặc leo thang không có trong tệp",
    ),
    _rule(
        r"Expected an? (Message|Signal|Error|Escalation) node",
        lambda m: f"không tìm thấy {_KINDS[m.group(1).lower()]} được tham chiếu",
    ),
    _rule(
        r"Multiple outgoing flows are not supported for tasks of type",
        "phần tử loại này không được có nhiều luồng ra (hãy dùng cổng)",
    ),
    _rule(
        r"A loopMaximum or loopCondition must be specified", "vòng lặp cần số lần tối đa hoặc điều kiện dừng"
    ),
    _rule(
        r"loop (input|output) data reference is missing",
        "dữ liệu vào/ra của bước lặp nhiều lần chưa khai báo",
    ),
    _rule(r"must specify a cardinality or a", "bước lặp nhiều lần cần số lần hoặc danh sách để lặp"),
    _rule(r"No decisions found", "bảng quyết định (DMN) không có quyết định nào"),
    _rule(
        r"Multiple decision tables are not current supported",
        "chưa hỗ trợ nhiều bảng quyết định trong một tệp",
    ),
    _rule(
        r"A data object could not be set; '([^']*)' not exist in the task",
        "bước chưa ghi giá trị cho đối tượng dữ liệu '{0}'",
    ),
    _rule(
        r"data object could not be read; '([^']*)' does not exist",
        "đối tượng dữ liệu '{0}' chưa có giá trị",
    ),
    _rule(r"Missing data input", "bước thiếu dữ liệu vào đã khai báo (ioSpecification)"),
    _rule(
        r"Missing data ouput|Missing data output", "bước chưa ghi dữ liệu ra đã khai báo (ioSpecification)"
    ),
    # --- serializer
    _rule(r"Object of type (\w+) is not JSON serializable", "không lưu được phần tử loại {0}"),
    # --- Python errors reached by expressions, scripts and foreign diagrams at run time
    _rule(r"name '(\w+)' is not defined", "chưa có biến '{0}' trong dữ liệu hồ sơ"),
    _rule(r"'NoneType' object is not iterable", "danh sách cần lặp chưa có giá trị"),
    _rule(r"'(\w+)' object is not iterable", "giá trị kiểu {0} không phải danh sách để lặp"),
    _rule(r"'(\w+)' object is not subscriptable", "giá trị kiểu {0} không lấy phần tử theo chỉ số được"),
    _rule(r"'(\w+)' object is not callable", "giá trị kiểu {0} không phải hàm"),
    _rule(r"unsupported operand type", "phép tính trên hai kiểu dữ liệu không phù hợp"),
    _rule(r"not supported between instances of", "so sánh hai kiểu dữ liệu không phù hợp"),
    _rule(r"can only concatenate", "nối hai kiểu dữ liệu không phù hợp"),
    _rule(r"division by zero|division or modulo by zero", "phép chia cho 0"),
    _rule(
        r"Invalid isoformat string: (.*)", lambda m: f"thời điểm {m.group(1)} không đúng định dạng ISO 8601"
    ),
    _rule(r"maximum recursion depth exceeded", "lồng nhau hoặc dài quá mức xử lý được"),
    _rule(r"list index out of range", "chỉ số vượt quá độ dài danh sách"),
    _rule(r"^KeyError: (.*)", lambda m: f"dữ liệu hồ sơ không có khóa {_python_value(m.group(1))}"),
    _rule(r"invalid literal for int\(\) with base \d+: (.*)", "giá trị {0} không phải số nguyên"),
    _rule(r"could not convert string to float: (.*)", "giá trị {0} không phải số"),
    # --- Python syntax (conditions and scripts)
    _rule(r"unterminated string literal|EOL while scanning string literal", "chuỗi chưa đóng dấu nháy"),
    _rule(r"'([(\[{])' was never closed", "dấu '{0}' chưa được đóng"),
    _rule(r"unmatched '([)\]}])'", "dấu '{0}' không có dấu mở tương ứng"),
    _rule(r"unexpected EOF while parsing", "biểu thức kết thúc đột ngột (thiếu phần sau)"),
    _rule(r"unexpected indent", "thụt lề không đúng chỗ"),
    _rule(r"expected an indented block", "thiếu khối lệnh thụt lề"),
    _rule(r"unindent does not match", "thụt lề không khớp các dòng trên"),
    _rule(r"cannot assign to", "không gán giá trị được vào vế trái này"),
    _rule(r"invalid character '(.)'", "ký tự '{0}' không dùng được trong biểu thức"),
    _rule(r"invalid decimal literal", "số viết sai (chữ liền sau số)"),
    _rule(r"Perhaps you forgot a comma", "thiếu dấu phẩy giữa các phần tử"),
    _rule(r"Maybe you meant '==' or ':=' instead of '='", "dùng '==' để so sánh, không dùng '='"),
    _rule(r"invalid syntax", "cách viết không hợp lệ"),
    _rule(r"null bytes", "có ký tự rỗng (NUL)"),
    # --- XML (lxml / libxml2)
    _rule(r"Opening and ending tag mismatch: (\S+)", "thẻ <{0}> không được đóng đúng"),
    _rule(r"Premature end of data in tag (\S+)", "tệp kết thúc khi thẻ <{0}> chưa đóng"),
    _rule(r"Start tag expected, '<' not found", "không tìm thấy thẻ mở đầu (tệp không phải XML)"),
    _rule(r"Document is empty", "tệp rỗng"),
    _rule(r"Extra content at the end of the document", "có nội dung thừa sau thẻ gốc"),
    _rule(
        r"Namespace prefix (\S+) on (\S+) is not defined", "tiền tố không gian tên '{0}' chưa được khai báo"
    ),
    _rule(r"Couldn't find end of Start Tag (\S+)", "thẻ <{0}> viết dở"),
    _rule(r"attributes construct error|AttValue: \" or ' expected", "thuộc tính viết sai"),
    _rule(r"Attribute (\S+) redefined", "thuộc tính {0} bị khai báo hai lần"),
    _rule(r"EntityRef: expecting ';'|xmlParseEntityRef: no name", "ký tự '&' phải viết là &amp;"),
    _rule(
        r"Input is not proper UTF-8|Char 0x\w+ out of allowed range",
        "tệp có ký tự không hợp lệ (không phải UTF-8)",
    ),
    _rule(r"All strings must be XML compatible", "giá trị có ký tự không dùng được trong XML"),
    # --- json
    _rule(r"Expecting value", "thiếu giá trị"),
    _rule(r"Expecting property name enclosed in double quotes", "tên thuộc tính phải đặt trong dấu nháy kép"),
    _rule(r"Expecting ',' delimiter", "thiếu dấu phẩy"),
    _rule(r"Unterminated string", "chuỗi chưa đóng dấu nháy"),
    _rule(r"Extra data", "có nội dung thừa sau JSON"),
    # --- SpiffWorkflow's wrappers (their inner cause, when known, matched above)
    _rule(r"Error evaluating expression '(.*?)'", "không tính được biểu thức '{0}'"),
    _rule(r"Error executing Script", "kịch bản gặp lỗi khi chạy"),
)

#: What a user reads when nothing above matches (the library's text is in ``detail``).
UNKNOWN = "lỗi kỹ thuật của bộ máy quy trình (chi tiết trong nhật ký hệ thống)"


@dataclass(frozen=True)
class Reason:
    """A refusal as users read it (Vietnamese) and the library's own text (for logs and details)."""

    message: str
    detail: str


def translate(text: str) -> str | None:
    """The Vietnamese reason for one English library message, or None when it is unknown."""
    for pattern, render in _RULES:
        match = pattern.search(text)
        if match is not None:
            return render(match)
    return None


def explain(error: BaseException | str) -> Reason:
    """Vietnamese reason for an exception from SpiffWorkflow, Python, lxml or json (never English).

    The errors it wrapped are read first, innermost first: SpiffWorkflow's "Error evaluating
    expression" says less than the NameError inside it.
    """
    if isinstance(error, str):
        return Reason(translate(error) or UNKNOWN, error)
    for one in reversed(_chain(error)):
        message = translate(_detail(one))
        if message is not None:
            return Reason(message, _detail(error))
    return Reason(UNKNOWN, _detail(error))


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _detail(error: BaseException) -> str:
    text = str(error)
    name = type(error).__name__
    # KeyError's text is only the key: the type makes it readable (and matchable).
    return f"{name}: {text}" if isinstance(error, KeyError) or not text else text


def element_label(element_id: str | None, name: str | None = None) -> str:
    """How a reason names an element: its name and id when it has a name, else its id."""
    name = " ".join((name or "").split())  # names from modelling tools carry line breaks
    if element_id and name and name != element_id:
        return f"'{name}' ({element_id})"
    return f"'{element_id or name}'"


def schema_reason(path: Iterable[object], keyword: object) -> str:
    """A JSON Schema the designer wrote that is not one (jsonschema's SchemaError), in Vietnamese."""
    where = "/".join(str(p) for p in path) or "gốc"
    return f"tại '{where}', từ khóa '{keyword}' có giá trị không hợp lệ"


def json_reason(message: str, line: int, column: int) -> str:
    """json's decode error (``msg``, ``lineno``, ``colno``) in Vietnamese."""
    return f"dòng {line}, cột {column}: {translate(message) or 'cú pháp JSON sai'}"
