"""The OpenAPI 3.1 document of /api/, generated from the same pydantic models the API validates with.

Paths are listed here by hand (they are few); every schema comes from ``model_json_schema`` so the
document cannot disagree with what the server accepts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from engine.citizen import RatingView
from engine.documents import DocumentView
from engine.outbox import IncidentView
from engine.queries import Board, QueueRow, TaskRow
from engine.service import CaseView, EventView, ProcedureView, TaskView

from .api_models import (
    AccountActive,
    AccountCreate,
    AccountEventOut,
    AccountOut,
    AccountRoles,
    AccountUnit,
    ApiError,
    ApologyRequest,
    CalendarOverrideRequest,
    CalendarOverrideView,
    CompleteRequest,
    CounterCase,
    CsrfToken,
    DeskWithdrawalRequest,
    DocumentUpload,
    ImportAssistRequest,
    ImportReportOut,
    IssuedCredentialOut,
    LoginRequest,
    LookupRequest,
    Me,
    MyDossiers,
    OnlineSubmission,
    PasswordChange,
    PasswordResetRequest,
    PublicStatus,
    PublicWithdrawalRequest,
    RatingRequest,
    ReassignRequest,
    ReissuedSecret,
    ScorecardTargetRequest,
    Submitted,
    SupplementApprovalRequest,
    WithdrawalRequest,
)

MODELS: tuple[type[BaseModel], ...] = (
    AccountOut,
    AccountCreate,
    AccountActive,
    AccountRoles,
    AccountUnit,
    PasswordResetRequest,
    IssuedCredentialOut,
    PasswordChange,
    AccountEventOut,
    ApiError,
    CsrfToken,
    LoginRequest,
    Me,
    CounterCase,
    OnlineSubmission,
    ReissuedSecret,
    Submitted,
    CompleteRequest,
    ReassignRequest,
    LookupRequest,
    PublicStatus,
    MyDossiers,
    RatingRequest,
    RatingView,
    CaseView,
    TaskView,
    EventView,
    ProcedureView,
    TaskRow,
    Board,
    QueueRow,
    DocumentView,
    ApologyRequest,
    SupplementApprovalRequest,
    WithdrawalRequest,
    DeskWithdrawalRequest,
    PublicWithdrawalRequest,
    DocumentUpload,
    CalendarOverrideRequest,
    CalendarOverrideView,
    IncidentView,
    ScorecardTargetRequest,
    ImportAssistRequest,
    ImportReportOut,
)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _array(model: type[BaseModel]) -> dict[str, Any]:
    return {"type": "array", "items": _ref(model)}


def _op(
    summary: str,
    response: dict[str, Any] | None,
    *,
    request: type[BaseModel] | None = None,
    status: str = "200",
    auth: bool = True,
    params: tuple[str, ...] = (),
    query: tuple[str, ...] = (),
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    if response is not None:
        op["responses"][status] = {"description": "OK", "content": {"application/json": {"schema": response}}}
    for code, text in (
        ("400", "JSON hỏng"),
        ("401", "Chưa đăng nhập"),
        ("403", "Sai vai trò"),
        ("404", "Không tìm thấy"),
        ("409", "Xung đột"),
        ("422", "Dữ liệu không hợp lệ"),
        ("429", "Quá nhiều yêu cầu"),
    ):
        op["responses"][code] = {
            "description": text,
            "content": {"application/json": {"schema": _ref(ApiError)}},
        }
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    parameters += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in query]
    if parameters:
        op["parameters"] = parameters
    op["security"] = [{"session": [], "csrf": []}] if auth else [{"csrf": []}]
    return op


INPUTS = (LoginRequest, CompleteRequest, AccountCreate, PasswordChange, ImportAssistRequest)


@cache
def openapi_document() -> dict[str, Any]:
    from . import digital_api  # imports web.api, which imports this module

    inputs = (*INPUTS, *digital_api.INPUTS)
    _, defs = models_json_schema(
        [(m, "validation" if m in inputs else "serialization") for m in (*MODELS, *digital_api.MODELS)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs.get("$defs", {})
    paths: dict[str, Any] = {
        "/api/csrf": {
            "get": {
                **_op("Lấy CSRF token (gửi lại trong header X-CSRFToken)", _ref(CsrfToken)),
                "security": [],
            }
        },
        "/api/login": {"post": _op("Đăng nhập (phiên cookie)", _ref(Me), request=LoginRequest, auth=False)},
        "/api/logout": {"post": _op("Đăng xuất", None)},
        "/api/me": {"get": _op("Người dùng hiện tại", _ref(Me))},
        "/api/procedures": {"get": {**_op("Danh mục thủ tục", _array(ProcedureView)), "security": []}},
        "/api/designer/import-assist": {
            "post": _op(
                "Trợ lý nhập sơ đồ từ công cụ khác (người thiết kế): mọi thông tin motcua cần, "
                "giá trị đề xuất theo tên thuộc tính XML, bản đã điền sẵn và kết quả kiểm tra; không lưu gì",
                _ref(ImportReportOut),
                request=ImportAssistRequest,
            )
        },
        "/api/cases": {
            "post": _op(
                "Tiếp nhận hồ sơ tại quầy (cán bộ một cửa)", _ref(CaseView), request=CounterCase, status="201"
            )
        },
        "/api/public/cases": {
            "post": {
                **_op(
                    "Nộp hồ sơ trực tuyến (công dân; đã đăng nhập bằng tài khoản định danh thì hồ sơ "
                    "mang số CCCD đã xác thực)",
                    _ref(Submitted),
                    request=OnlineSubmission,
                    status="201",
                    auth=False,
                ),
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
                        "description": "Gửi lại cùng khóa: trả về hồ sơ đã tạo, không tạo hồ sơ thứ hai",
                    }
                ],
            }
        },
        "/api/cases/{code}": {"get": _op("Xem hồ sơ", _ref(CaseView), params=("code",))},
        "/api/cases/{code}/secret": {
            "post": _op(
                "Cấp lại mã tra cứu (cán bộ một cửa; mã cũ hết hiệu lực)",
                _ref(ReissuedSecret),
                params=("code",),
                status="201",
            )
        },
        "/api/cases/{code}/events": {"get": _op("Nhật ký hồ sơ", _array(EventView), params=("code",))},
        "/api/cases/{code}/tasks": {
            "get": _op("Công việc đang mở của hồ sơ", _array(TaskView), params=("code",))
        },
        "/api/cases/{code}/tasks/{task_id}/complete": {
            "post": _op(
                "Hoàn thành bước xử lý", _ref(CaseView), request=CompleteRequest, params=("code", "task_id")
            )
        },
        "/api/tasks": {
            "get": _op(
                "Danh sách công việc",
                _array(TaskRow),
                query=("scope", "procedure_id", "status", "due", "limit"),
            )
        },
        "/api/tasks/{task_id}/claim": {"post": _op("Nhận xử lý", _ref(CaseView), params=("task_id",))},
        "/api/tasks/{task_id}/release": {
            "post": _op("Trả lại công việc", _ref(CaseView), params=("task_id",))
        },
        "/api/tasks/{task_id}/reassign": {
            "post": _op(
                "Phân công lại (lãnh đạo)", _ref(CaseView), request=ReassignRequest, params=("task_id",)
            )
        },
        "/api/lookup": {
            "post": _op(
                "Tra cứu hồ sơ (mã hồ sơ + mã tra cứu)", _ref(PublicStatus), request=LookupRequest, auth=False
            )
        },
        "/api/public/my/cases": {
            "get": {
                **_op(
                    "Hồ sơ của tôi: hồ sơ có số CCCD người nộp trùng tài khoản định danh đã đăng nhập "
                    "(phiên công dân sau /public/signin)",
                    _ref(MyDossiers),
                ),
                "security": [{"session": []}],
            }
        },
        "/api/public/my/cases/{code}": {
            "get": {
                **_op(
                    "Một hồ sơ của công dân đã đăng nhập bằng tài khoản định danh (không cần mã tra cứu)",
                    _ref(PublicStatus),
                    params=("code",),
                ),
                "security": [{"session": []}],
            }
        },
        "/api/ratings": {
            "post": _op(
                "Đánh giá mức độ hài lòng", _ref(RatingView), request=RatingRequest, status="201", auth=False
            )
        },
        "/api/board": {"get": _op("Bảng theo dõi thời hạn", _ref(Board))},
        "/api/reports/periodic": {
            "get": _op(
                "Báo cáo định kỳ (tháng m1–m12, quý q1–q4, 6 tháng h1, 9 tháng 9m, năm year); "
                "kỳ số liệu theo kế hoạch (plan=calendar|000|002) "
                "hoặc từ ngày start đến ngày end (tính cả hai)",
                {"type": "object"},
                query=("year", "period", "plan", "start", "end"),
            )
        },
        "/api/reports/register": {
            "get": _op("Sổ theo dõi hồ sơ (Mẫu 06)", {"type": "object"}, query=("from", "to"))
        },
        "/api/reports/index766": {
            "get": _op(
                "Bộ chỉ số 766: giá trị, chỉ tiêu, chênh lệch, xu hướng theo tháng, hồ sơ sau chênh lệch",
                {"type": "object"},
                query=("from", "to", "paid"),
            )
        },
        "/api/desk/queue": {
            "get": _op(
                "Hàng chờ của Bộ phận một cửa (status 1, 5, 7, 9; q: mã hồ sơ, họ tên hoặc CCCD); "
                "từng trang: limit (≤ 500), after (vị trí trang sau, trong tiêu đề Link và X-Next-After), "
                "tổng số trong X-Total-Count",
                _array(QueueRow),
                query=("status", "q", "limit", "after"),
            )
        },
        "/api/cases/{code}/apology": {
            "post": _op(
                "Phiếu xin lỗi và hẹn lại (Mẫu 04)", _ref(CaseView), request=ApologyRequest, params=("code",)
            )
        },
        "/api/cases/{code}/supplement-approval": {
            "post": _op(
                "Lãnh đạo phòng phê duyệt yêu cầu bổ sung hồ sơ lần thứ hai (thủ tục cho phép)",
                _ref(CaseView),
                request=SupplementApprovalRequest,
                params=("code",),
            )
        },
        "/api/cases/{code}/withdrawal": {
            "post": {
                **_op(
                    "Ghi nhận yêu cầu rút hồ sơ tại quầy, kèm bản quét đơn có chữ ký (trạng thái 7)",
                    _ref(CaseView),
                    params=("code",),
                ),
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref(DeskWithdrawalRequest)}},
                },
            }
        },
        "/api/cases/{code}/withdrawal/confirm": {
            "post": _op("Xác nhận dừng xử lý (trạng thái 8)", _ref(CaseView), params=("code",))
        },
        "/api/public/withdrawal": {
            "post": _op(
                "Công dân yêu cầu rút hồ sơ", {"type": "object"}, request=PublicWithdrawalRequest, auth=False
            )
        },
        "/api/cases/{code}/documents": {
            "get": _op("Tệp của hồ sơ", _array(DocumentView), params=("code",)),
            "post": {
                **_op("Tải tệp lên (lưu kèm SHA-256)", _ref(DocumentView), status="201", params=("code",)),
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref(DocumentUpload)}},
                },
            },
        },
        "/api/admin/calendar/overrides": {
            "get": _op("Lịch sử điều chỉnh lịch làm việc (quản trị)", _array(CalendarOverrideView)),
            "post": _op(
                "Ghi điều chỉnh lịch: nghỉ thêm, làm bù hoặc huỷ (quản trị)",
                _ref(CalendarOverrideView),
                request=CalendarOverrideRequest,
                status="201",
            ),
        },
        "/api/admin/targets": {
            "get": _op(
                "Chỉ tiêu bộ chỉ số 766 của một năm và lịch sử (quản trị)",
                {"type": "object"},
                query=("year",),
            ),
            "post": _op(
                "Đặt chỉ tiêu bộ chỉ số 766 cho một năm (quản trị; dòng cũ giữ làm lịch sử)",
                {"type": "object"},
                request=ScorecardTargetRequest,
                status="201",
            ),
        },
        "/api/admin/incidents": {
            "get": _op("Sự cố gửi tin (state=open|all)", _array(IncidentView), query=("state",))
        },
        "/api/admin/users": {
            "get": _op("Tài khoản cán bộ (quản trị)", _array(AccountOut)),
            "post": _op(
                "Tạo tài khoản; mật khẩu đầu tiên phải đổi khi đăng nhập (quản trị)",
                _ref(IssuedCredentialOut),
                request=AccountCreate,
                status="201",
            ),
        },
        "/api/admin/users/{username}": {"get": _op("Một tài khoản", _ref(AccountOut), params=("username",))},
        "/api/admin/users/{username}/active": {
            "post": _op(
                "Vô hiệu hoá (kết thúc mọi phiên) hoặc kích hoạt lại tài khoản",
                _ref(AccountOut),
                request=AccountActive,
                params=("username",),
            )
        },
        "/api/admin/users/{username}/roles": {
            "post": _op("Đổi vai trò", _ref(AccountOut), request=AccountRoles, params=("username",))
        },
        "/api/admin/users/{username}/unit": {
            "post": _op("Đổi đơn vị", _ref(AccountOut), request=AccountUnit, params=("username",))
        },
        "/api/admin/users/{username}/reset": {
            "post": _op(
                "Đặt lại mật khẩu: liên kết dùng một lần hoặc mật khẩu tạm (hiện một lần)",
                _ref(IssuedCredentialOut),
                request=PasswordResetRequest,
                params=("username",),
            )
        },
        "/api/admin/account-events": {
            "get": _op("Nhật ký thay đổi tài khoản (quản trị, kiểm tra viên)", _array(AccountEventOut))
        },
        "/api/account/password": {
            "post": _op("Đổi mật khẩu của chính mình", _ref(AccountOut), request=PasswordChange)
        },
        "/api/admin/incidents/{incident_id}/retry": {
            "post": _op("Thử lại: đưa tin lỗi vào lại hàng đợi", _ref(IncidentView), params=("incident_id",))
        },
        **digital_api.openapi_paths(_op, _ref, _array),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "motcua API",
            "version": "1",
            "description": (
                "API giải quyết thủ tục hành chính một cửa. Xác thực bằng cookie phiên (POST /api/login). "
                "Mọi yêu cầu POST phải gửi header X-CSRFToken lấy từ GET /api/csrf. Lỗi trả về "
                '{"error": mã ổn định, "message": thông báo tiếng Việt, "details": ...}.'
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "motcua_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }
