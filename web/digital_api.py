"""JSON API of the digital one-stop capabilities: identity at receipt, digitisation, complaints.

Same rules as :mod:`web.api` (session cookie, ``X-CSRFToken`` on every POST, ``{"error", "message",
"details"}`` errors); each route calls one engine service function, the same the pages and the CLI
call.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from engine import digitise, esign, feedback, identity, payments, results, reuse
from engine.errors import ValidationError

from .api import READERS, body, ok
from .digital_deps import file_store, parse_day, population_data, portal_identity
from .security import HEADS, STAFF, engine, public, rate_limit, require_actor, requires

bp = Blueprint("digital_api", __name__, url_prefix="/api")


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cccd: str = Field(min_length=1, max_length=20)
    date_of_birth: str = Field(min_length=1, max_length=10, description="YYYY-MM-DD")
    full_name: str | None = Field(default=None, max_length=300)


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class DigitisedListing(BaseModel):
    documents: list[digitise.DigitisedView]
    components: list[digitise.ComponentStatus]


class FeedbackLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=30)
    secret: str = Field(min_length=1, max_length=64)


class FeedbackRating(FeedbackLookup):
    score: int = Field(ge=1, le=3)


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=10000)


class ReuseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: int = Field(ge=1)
    document_code: str = Field(min_length=1, max_length=50)


class CashPaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=1, description="đồng; must equal the procedure's fee")


class ReuseOffersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=100)


class ResultLookup(FeedbackLookup):
    result_id: int = Field(ge=1)


class SignedResultView(BaseModel):
    result: results.ResultView
    signature: esign.SignatureCheck | None


class IndicatorView(BaseModel):
    code: str
    numerator: int
    denominator: int
    rate: float | None
    points: float | None
    max_points: float


class FeedbackIndicatorsView(BaseModel):
    received: int
    published: int
    on_time: int
    overdue: int
    dissatisfied: int
    repeated: int
    indicators: list[IndicatorView]


# ------------------------------------------------------------------------------ identity


@bp.post("/cases/<code>/identity")
@requires("desk_clerk", "admin")
def check_identity(code: str) -> ResponseReturnValue:
    req = body(IdentityRequest)
    view = identity.check_identity(
        engine(), code, req.cccd, req.date_of_birth, require_actor(), population_data(), req.full_name
    )
    return ok(view, 201)


@bp.post("/cases/<code>/identity/override")
@requires("desk_clerk", "admin")
def override_identity(code: str) -> ResponseReturnValue:
    req = body(OverrideRequest)
    return ok(identity.override_identity(engine(), code, req.reason, require_actor()))


@bp.get("/cases/<code>/identity")
@requires(*READERS)
def identity_checks(code: str) -> ResponseReturnValue:
    return ok(identity.identity_checks(engine(), code))


# ------------------------------------------------------------------------------ digitisation


@bp.post("/cases/<code>/digitised")
@requires(*STAFF)
def digitise_component(code: str) -> ResponseReturnValue:
    """multipart/form-data with ``file`` (scan: PDF, JPG, PNG, TIFF) and ``document_code``."""
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationError(
            "Thiếu tệp quét (trường 'file')", details={"fields": [{"field": "file", "message": "bắt buộc"}]}
        )
    document_code = (request.form.get("document_code") or "").strip()[:50]
    view = digitise.digitise_component(
        engine(), code, document_code, storage.filename, storage.read(), require_actor(), file_store()
    )
    return ok(view, 201)


@bp.get("/cases/<code>/digitised")
@requires(*READERS)
def digitised(code: str) -> ResponseReturnValue:
    return ok(
        DigitisedListing(
            documents=digitise.digitised_documents(engine(), code),
            components=digitise.component_status(engine(), code),
        )
    )


@bp.get("/digitised/search")
@requires(*READERS, "admin")
def search() -> ResponseReturnValue:
    return ok(digitise.search_digitised(engine(), request.args.get("q", "")[:200], require_actor()))


# ------------------------------------------------------------------------------ complaints


@bp.post("/public/feedback")
@public
def file_feedback() -> ResponseReturnValue:
    rate_limit("submit")
    return ok(feedback.file_feedback(engine(), body(feedback.NewFeedback)), 201)


@bp.post("/public/feedback/status")
@public
def feedback_status() -> ResponseReturnValue:
    rate_limit("lookup")
    req = body(FeedbackLookup)
    return ok(feedback.feedback_for_citizen(engine(), req.code, req.secret))


@bp.post("/public/feedback/rate")
@public
def rate_feedback() -> ResponseReturnValue:
    rate_limit("lookup")
    req = body(FeedbackRating)
    return ok(feedback.rate_feedback(engine(), req.code, req.secret, req.score))


@bp.get("/public/feedback/answers")
@public
def published() -> ResponseReturnValue:
    return ok(feedback.published_feedback(engine()))


@bp.get("/feedback")
@requires(*READERS, "admin")
def board() -> ResponseReturnValue:
    return ok(
        feedback.feedback_board(engine(), require_actor(), open_only=request.args.get("state") != "all")
    )


@bp.post("/feedback/<code>/assign")
@requires(*HEADS, "admin")
def assign(code: str) -> ResponseReturnValue:
    return ok(feedback.assign_feedback(engine(), code, body(AssignRequest).username, require_actor()))


@bp.post("/feedback/<code>/answer")
@requires(*STAFF, "admin")
def answer(code: str) -> ResponseReturnValue:
    return ok(feedback.answer_feedback(engine(), code, body(AnswerRequest).answer, require_actor()))


@bp.post("/feedback/<code>/publish")
@requires(*HEADS, "admin")
def publish(code: str) -> ResponseReturnValue:
    return ok(feedback.publish_feedback(engine(), code, require_actor()))


@bp.get("/feedback/indicators")
@requires(*READERS, "admin")
def indicators() -> ResponseReturnValue:
    first = parse_day(request.args.get("first"), "first")
    last = parse_day(request.args.get("last"), "last")
    if last < first:
        raise ValidationError("Ngày cuối kỳ phải sau ngày đầu kỳ")
    numbers = feedback.feedback_numbers(engine(), first, last)
    return ok(
        FeedbackIndicatorsView(
            received=numbers.received,
            published=numbers.published,
            on_time=numbers.on_time,
            overdue=numbers.overdue,
            dissatisfied=numbers.dissatisfied,
            repeated=numbers.repeated,
            indicators=[IndicatorView(**vars(i)) for i in numbers.indicators],
        )
    )


@bp.get("/cases/<code>/reuse-offers")
@requires(*STAFF)
def reuse_offers(code: str) -> ResponseReturnValue:
    return ok(engine().reuse_offers(code, require_actor()))


@bp.post("/cases/<code>/reuse")
@requires(*STAFF)
def reuse_component(code: str) -> ResponseReturnValue:
    req = body(ReuseRequest)
    return ok(engine().reuse_component(code, req.item_id, req.document_code, require_actor()), 201)


@bp.post("/public/reuse-offers")
@public
def portal_reuse_offers() -> ResponseReturnValue:
    """What the portal offers a citizen it identified (signed ``X-Motcua-Identity``) before submitting."""
    rate_limit("lookup")
    req = body(ReuseOffersRequest)
    asserted = portal_identity()
    if asserted is None:
        raise ValidationError("Cần danh tính do Cổng dịch vụ công xác thực (tiêu đề X-Motcua-Identity)")
    return ok(engine().portal_reuse_offers(req.procedure_id, asserted))


@bp.post("/cases/<code>/payments/cash")
@requires("desk_clerk")
def cash_payment(code: str) -> ResponseReturnValue:
    req = body(CashPaymentRequest)
    return ok(engine().record_cash_payment(code, req.amount, require_actor()), 201)


@bp.post("/payments/callback")
@public
def payment_callback() -> ResponseReturnValue:
    """The payment gateway's HMAC-signed callback (no session, no CSRF): verified, then recorded once
    with its electronic receipt; a forged or altered callback is refused and changes nothing."""
    from handlers.compose import compose
    from handlers.payment import receive_callback

    rate_limit("lookup")
    secret = str(current_app.config.get("PAYMENT_SECRET") or compose(engine()).settings.payment_secret)
    view = receive_callback(engine(), secret, request.get_data()[:100_000], dict(request.headers))
    return ok(view, 200 if view.duplicate else 201)


@bp.post("/public/results")
@public
def citizen_results() -> ResponseReturnValue:
    """The dossier's electronic results (code + lookup secret), each signature verified."""
    rate_limit("lookup")
    req = body(FeedbackLookup)
    found = engine().citizen_results(req.code, req.secret)
    return ok([SignedResultView(result=view, signature=check) for view, check in found])


@bp.post("/public/results/download")
@public
def citizen_result_download() -> ResponseReturnValue:
    """One result file; refused (409) when its signature does not verify."""
    rate_limit("lookup")
    req = body(ResultLookup)
    view, content, check = engine().citizen_result(req.code, req.secret, req.result_id)
    if check is not None and not check.valid:
        raise ValidationError(check.message, details={"reason": "signature_invalid"})
    response = Response(content, mimetype=view.content_type)
    response.headers["X-Content-SHA256"] = view.sha256
    response.headers["X-Signature"] = "valid" if check is not None else "unsigned"
    return response


MODELS: tuple[type[BaseModel], ...] = (
    IdentityRequest,
    OverrideRequest,
    identity.IdentityCheckView,
    digitise.DigitisedView,
    digitise.ComponentStatus,
    DigitisedListing,
    digitise.SearchHit,
    feedback.NewFeedback,
    feedback.FeedbackView,
    feedback.FeedbackRow,
    FeedbackLookup,
    FeedbackRating,
    AssignRequest,
    AnswerRequest,
    FeedbackIndicatorsView,
    ReuseRequest,
    reuse.ReuseOffer,
    CashPaymentRequest,
    payments.PaymentView,
    ReuseOffersRequest,
    ResultLookup,
    SignedResultView,
)


INPUTS: tuple[type[BaseModel], ...] = (
    IdentityRequest,
    OverrideRequest,
    feedback.NewFeedback,
    FeedbackLookup,
    FeedbackRating,
    AssignRequest,
    AnswerRequest,
    ReuseRequest,
    CashPaymentRequest,
    ReuseOffersRequest,
    ResultLookup,
)


def openapi_paths(op: Any, ref: Any, array: Any) -> dict[str, Any]:
    """The OpenAPI paths of this blueprint (``op``, ``ref``, ``array`` are web.openapi's helpers)."""
    upload = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "document_code": {"type": "string"},
                    },
                    "required": ["file", "document_code"],
                }
            }
        },
    }
    return {
        "/api/cases/{code}/identity": {
            "get": op(
                "Các lần kiểm tra danh tính người nộp", array(identity.IdentityCheckView), params=("code",)
            ),
            "post": op(
                "Kiểm tra số CCCD và đối chiếu dữ liệu dân cư (cán bộ một cửa)",
                ref(identity.IdentityCheckView),
                request=IdentityRequest,
                status="201",
                params=("code",),
            ),
        },
        "/api/cases/{code}/identity/override": {
            "post": op(
                "Ghi lý do tiếp nhận khi danh tính không khớp",
                ref(identity.IdentityCheckView),
                request=OverrideRequest,
                params=("code",),
            )
        },
        "/api/cases/{code}/digitised": {
            "get": op(
                "Tệp số hóa và tình trạng số hóa từng thành phần", {"type": "object"}, params=("code",)
            ),
            "post": {
                **op(
                    "Số hóa bản quét (OCR tiếng Việt, PDF/A)",
                    ref(digitise.DigitisedView),
                    status="201",
                    params=("code",),
                ),
                "requestBody": upload,
            },
        },
        "/api/digitised/search": {
            "get": op("Tìm trong nội dung hồ sơ đã số hóa", array(digitise.SearchHit), query=("q",))
        },
        "/api/public/feedback": {
            "post": op(
                "Gửi phản ánh, kiến nghị (công khai)",
                ref(feedback.FeedbackView),
                request=feedback.NewFeedback,
                status="201",
                auth=False,
            )
        },
        "/api/public/feedback/status": {
            "post": op(
                "Tra cứu phản ánh bằng mã và mã tra cứu",
                ref(feedback.FeedbackView),
                request=FeedbackLookup,
                auth=False,
            )
        },
        "/api/public/feedback/rate": {
            "post": op("Đánh giá câu trả lời", ref(feedback.FeedbackView), request=FeedbackRating, auth=False)
        },
        "/api/public/feedback/answers": {
            "get": {**op("Kết quả trả lời đã công khai", array(feedback.FeedbackView)), "security": []}
        },
        "/api/feedback": {
            "get": op(
                "Phản ánh, kiến nghị cần xử lý (state=all: cả đã công khai)",
                array(feedback.FeedbackRow),
                query=("state",),
            )
        },
        "/api/feedback/{code}/assign": {
            "post": op("Phân công xử lý", ref(feedback.FeedbackView), request=AssignRequest, params=("code",))
        },
        "/api/feedback/{code}/answer": {
            "post": op(
                "Trả lời phản ánh, kiến nghị",
                ref(feedback.FeedbackView),
                request=AnswerRequest,
                params=("code",),
            )
        },
        "/api/feedback/{code}/publish": {
            "post": op("Công khai kết quả trả lời", ref(feedback.FeedbackView), params=("code",))
        },
        "/api/cases/{code}/reuse-offers": {
            "get": op("Dữ liệu số của người nộp dùng lại được", array(reuse.ReuseOffer), params=("code",))
        },
        "/api/cases/{code}/reuse": {
            "post": op(
                "Sử dụng lại dữ liệu số cho một thành phần (không tải lên lại)",
                {"type": "object"},
                request=ReuseRequest,
                status="201",
                params=("code",),
            )
        },
        "/api/public/reuse-offers": {
            "post": op(
                "Dữ liệu số dùng lại được (danh tính do Cổng dịch vụ công ký, X-Motcua-Identity)",
                array(reuse.ReuseOffer),
                request=ReuseOffersRequest,
                auth=False,
            )
        },
        "/api/cases/{code}/payments/cash": {
            "post": op(
                "Thu phí tiền mặt tại quầy, cấp biên lai điện tử",
                ref(payments.PaymentView),
                request=CashPaymentRequest,
                status="201",
                params=("code",),
            )
        },
        "/api/payments/callback": {
            "post": {
                **op(
                    "Thông báo thanh toán của cổng thanh toán (ký HMAC)",
                    ref(payments.PaymentView),
                    status="201",
                ),
                "security": [],
            }
        },
        "/api/public/results": {
            "post": op(
                "Kết quả điện tử của hồ sơ và kiểm tra chữ ký số",
                array(SignedResultView),
                request=FeedbackLookup,
                auth=False,
            )
        },
        "/api/public/results/download": {
            "post": {
                **op("Tải kết quả điện tử đã ký số", {"type": "string"}, request=ResultLookup, auth=False),
            }
        },
        "/api/feedback/indicators": {
            "get": op("Chỉ số 5.1–5.3 (Quyết định 766)", ref(FeedbackIndicatorsView), query=("first", "last"))
        },
    }
