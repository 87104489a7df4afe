"""Every error answer in one place: engine errors, HTTP errors, CSRF failures, anything unexpected.

``MotcuaError`` carries its own HTTP status and stable code; the API gets
``{"error": code, "message": vi, "details": ...}`` and pages get an error page in Vietnamese.
Bad input therefore never becomes a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import MotcuaError

from .security import is_api_request

log = logging.getLogger(__name__)

HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Yêu cầu không hợp lệ"),
    401: ("unauthenticated", "Vui lòng đăng nhập để thực hiện chức năng này"),
    403: ("forbidden", "Tài khoản không có quyền thực hiện chức năng này"),
    404: ("not_found", "Không tìm thấy trang hoặc dữ liệu yêu cầu"),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ"),
    409: ("conflict", "Dữ liệu đã thay đổi, vui lòng tải lại"),
    413: ("payload_too_large", "Dữ liệu gửi lên quá lớn (mỗi tệp tối đa 10 MB, mỗi lần gửi tối đa 32 MB)"),
    415: ("unsupported_media_type", "Định dạng dữ liệu không được hỗ trợ"),
    422: ("validation_error", "Dữ liệu không hợp lệ"),
    429: ("rate_limited", "Đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại."),
    500: ("internal_error", "Hệ thống gặp sự cố. Vui lòng thử lại sau."),
}


def error_response(status: int, code: str, message: str, details: Any = None) -> ResponseReturnValue:
    if is_api_request():
        response = jsonify({"error": code, "message": message, "details": details or {}})
        response.status_code = status
        return response
    return render_template("error.html", status=status, code=code, message=message, details=details), status


# Connection refused, dropped or reset: the database is away, not our code wrong — say so and when
# to come back, instead of a 500 that monitoring files as a bug.
DATABASE_DOWN = (OperationalError, InterfaceError)
DATABASE_RETRY_SECONDS = 30


def database_unavailable(exc: BaseException) -> ResponseReturnValue:
    log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
    response = make_response(
        error_response(
            503,
            "database_unavailable",
            "Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau ít phút.",
        )
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MotcuaError)
    def motcua_error(exc: MotcuaError) -> ResponseReturnValue:
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return error_response(
            400,
            "csrf_failed",
            "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        if status == 401 and not is_api_request():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        code, message = HTTP_MESSAGES.get(status, ("http_error", exc.name))
        # Our own aborts carry a Vietnamese description; werkzeug's defaults are English.
        if exc.description and exc.description != type(exc).description:
            message = exc.description
        response = make_response(error_response(status, code, message))
        retry = getattr(exc, "retry_after", None)
        if status in (429, 503) and isinstance(retry, int):
            response.headers["Retry-After"] = str(retry)
        if status == 500 and isinstance(getattr(exc, "original_exception", None), DATABASE_DOWN):
            return database_unavailable(exc.original_exception)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> ResponseReturnValue:
        if isinstance(exc, DATABASE_DOWN) or exc.connection_invalidated:
            return database_unavailable(exc)
        return unexpected(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        return error_response(500, code, message)
