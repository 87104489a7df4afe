"""``run.py`` commands of the digital one-stop: identity at receipt, digitisation, complaints, signing.

Each command calls the same engine service function as the page and the API.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from engine.errors import ValidationError

CASE_COMMANDS = frozenset(
    {
        "identity",
        "identity-override",
        "digitise",
        "digitised",
        "reuse-offers",
        "reuse",
        "pay-cash",
        "result-download",
    }
)
COMMANDS = frozenset({"digitised", "feedback", "esign"})
Emit = Callable[[argparse.Namespace, Any, Callable[[Any], str]], None]


def add_parsers(sub: Any, case: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the commands under ``case`` and at the top level."""
    ident = leaf(case, "identity", "check the applicant's CCCD against population data")
    ident.add_argument("case")
    ident.add_argument("--cccd", required=True, help="12-digit CCCD number")
    ident.add_argument("--dob", required=True, help="date of birth, YYYY-MM-DD")
    ident.add_argument("--name", default=None, help="full name as declared (compared when given)")
    ident.add_argument("--as", dest="actor", required=True, help="username of the desk clerk")
    override = leaf(case, "identity-override", "record why a mismatching applicant is accepted")
    override.add_argument("case")
    override.add_argument("--reason", required=True)
    override.add_argument("--as", dest="actor", required=True)
    dig = leaf(case, "digitise", "OCR a scanned component into a searchable PDF/A")
    dig.add_argument("case")
    dig.add_argument("--component", required=True, help="component code of the procedure (TP1…) or KQ")
    dig.add_argument("--file", required=True, help="scan: PDF, JPG, PNG or TIFF")
    dig.add_argument("--as", dest="actor", required=True)
    listing = leaf(case, "digitised", "digitised components of a case")
    listing.add_argument("case")
    offers = leaf(case, "reuse-offers", "stored components of the applicant that match (citizen data store)")
    offers.add_argument("case")
    offers.add_argument("--as", dest="actor", required=True)
    reuse = leaf(case, "reuse", "take a stored component into the dossier without a new upload")
    reuse.add_argument("case")
    reuse.add_argument("--item", type=int, required=True, help="entry number from reuse-offers")
    reuse.add_argument("--component", required=True, help="component code of the procedure (TP1…)")
    reuse.add_argument("--as", dest="actor", required=True)
    download = leaf(case, "result-download", "a result as the citizen downloads it, signature verified")
    download.add_argument("case")
    download.add_argument("--secret", required=True, help="the dossier's lookup secret")
    download.add_argument("--id", dest="result_id", type=int, required=True)
    download.add_argument("--out", required=True, help="where to write the file")
    cash = leaf(case, "pay-cash", "the desk takes the fee in cash and issues the electronic receipt")
    cash.add_argument("case")
    cash.add_argument("--amount", type=int, required=True, help="đồng (the procedure's fee)")
    cash.add_argument("--as", dest="actor", required=True)

    digitised = sub.add_parser("digitised", help="digitised dossiers").add_subparsers(
        dest="digitised_command"
    )
    search = leaf(digitised, "search", "search the OCR text of digitised files")
    search.add_argument("query")
    search.add_argument("--as", dest="actor", required=True)

    fb = sub.add_parser("feedback", help="complaints and feedback (PAKN)").add_subparsers(
        dest="feedback_command"
    )
    new = leaf(fb, "file", "file a complaint or proposal (as the citizen would)")
    new.add_argument("--content", required=True)
    new.add_argument("--kind", choices=["complaint", "proposal"], default="complaint")
    new.add_argument("--case", dest="case_code", default=None)
    new.add_argument("--case-secret", default=None)
    new.add_argument("--procedure", dest="procedure_id", default=None)
    new.add_argument("--name", default=None)
    new.add_argument("--contact", default=None)
    new.add_argument("--anonymous", action="store_true")
    leaf(fb, "list", "open items with their deadline colour").add_argument(
        "--as", dest="actor", required=True
    )
    show = leaf(fb, "show", "one item and its log")
    show.add_argument("code")
    show.add_argument("--as", dest="actor", required=True)
    assign = leaf(fb, "assign", "assign an item (heads)")
    assign.add_argument("code")
    assign.add_argument("--to", required=True)
    assign.add_argument("--as", dest="actor", required=True)
    answer = leaf(fb, "answer", "answer an item")
    answer.add_argument("code")
    answer.add_argument("--answer", required=True)
    answer.add_argument("--as", dest="actor", required=True)
    publish = leaf(fb, "publish", "publish the answer (heads)")
    publish.add_argument("code")
    publish.add_argument("--as", dest="actor", required=True)
    rate = leaf(fb, "rate", "rate the published answer (citizen, with the item's secret)")
    rate.add_argument("code")
    rate.add_argument("--secret", required=True)
    rate.add_argument("--score", type=int, required=True, choices=[1, 2, 3])
    numbers = leaf(fb, "indicators", "Decision 766 indicators 5.1-5.3 for a period")
    numbers.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    numbers.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")

    es = sub.add_parser("esign", help="signed electronic results (PAdES)").add_subparsers(
        dest="esign_command"
    )
    sign = leaf(es, "sign", "sign a result PDF with the installed certificate (MOTCUA_SIGNING_*)")
    sign.add_argument("input")
    sign.add_argument("output")
    verify = leaf(es, "verify", "verify the signature of a result PDF")
    verify.add_argument("input")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Ngày '{text}' không đúng định dạng YYYY-MM-DD") from exc


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"Không đọc được tệp '{path}': {exc.strerror}") from exc


def case(engine: Any, args: argparse.Namespace, emit: Emit) -> int:
    """``run.py case identity|identity-override|digitise|digitised|reuse-offers|reuse|pay-cash``."""
    from engine import digitise, identity

    sub = args.case_command
    if sub == "reuse-offers":
        found = engine.reuse_offers(args.case, engine.actor(args.actor))
        emit(
            args,
            found,
            lambda rs: (
                "\n".join(
                    f"  #{o.item_id} {o.document_code} ← {o.filename} (hồ sơ {o.source_case_code}"
                    + (f", hiệu lực đến {o.valid_until:%d/%m/%Y})" if o.valid_until else ")")
                    for o in rs
                )
                or "Không có dữ liệu số phù hợp"
            ),
        )
    elif sub == "reuse":
        used = engine.reuse_component(args.case, args.item, args.component, engine.actor(args.actor))
        emit(
            args, used, lambda v: f"{args.case} {v.document_code}: dùng lại {v.filename}, SHA-256 {v.sha256}"
        )
    elif sub == "result-download":
        view, content, check = engine.citizen_result(args.case, args.secret, args.result_id)
        if check is not None and not check.valid:
            raise ValidationError(check.message)
        Path(args.out).write_bytes(content)
        shown = {
            "result": view.model_dump(mode="json"),
            "signature": check.model_dump(mode="json") if check else None,
        }
        emit(
            args,
            shown,
            lambda v: f"{args.out}: {check.message if check else 'không có chữ ký số (bản quét)'}",
        )
    elif sub == "pay-cash":
        paid = engine.record_cash_payment(args.case, args.amount, engine.actor(args.actor))
        emit(
            args,
            paid,
            lambda v: f"{v.case_code}: đã thu {v.amount} đồng, biên lai điện tử {v.receipt_number}",
        )
    elif sub == "identity":
        view = identity.check_identity(
            engine,
            args.case,
            args.cccd,
            args.dob,
            engine.actor(args.actor),
            identity.population_data_from_env(engine.db),
            args.name,
        )
        emit(
            args,
            view,
            lambda v: f"{v.case_code}: {v.outcome_label} — {v.detail} (CCCD {v.cccd}, {v.province})",
        )
    elif sub == "identity-override":
        view = identity.override_identity(engine, args.case, args.reason, engine.actor(args.actor))
        emit(args, view, lambda v: f"{v.case_code}: đã ghi lý do tiếp nhận — {v.override_reason}")
    elif sub == "digitise":
        done = digitise.digitise_component(
            engine,
            args.case,
            args.component,
            Path(args.file).name,
            _read(args.file),
            engine.actor(args.actor),
            engine.files,
        )
        emit(
            args,
            done,
            lambda v: f"{v.case_code} {v.document_code}: {v.filename}, {v.pages} trang, SHA-256 {v.sha256}",
        )
    else:
        rows = digitise.component_status(engine, args.case)
        emit(
            args,
            rows,
            lambda rs: "\n".join(
                f"  {r.document_code:<5} {'đã số hóa' if r.digitised else 'chưa':<10} "
                f"{r.digitised_by or ''} {r.name}"
                for r in rs
            ),
        )
    return 0


def dispatch(
    command: str, args: argparse.Namespace, make_engine: Callable[[argparse.Namespace], Any], emit: Emit
) -> int:
    """``run.py digitised|feedback|esign …``."""
    if command == "esign":
        return _esign(args, emit)
    engine = make_engine(args)
    if command == "digitised":
        from engine import digitise

        if args.digitised_command != "search":
            print("Thiếu lệnh con: search", file=sys.stderr)
            return 2
        hits = digitise.search_digitised(engine, args.query, engine.actor(args.actor))
        emit(
            args,
            hits,
            lambda hs: (
                "\n".join(f"{h.case_code} {h.document_code} {h.filename}: {h.snippet}" for h in hs)
                or "Không tìm thấy"
            ),
        )
        return 0
    return _feedback(engine, args, emit)


def _feedback(engine: Any, args: argparse.Namespace, emit: Emit) -> int:
    from engine import feedback
    from engine.sla import LOCAL_TZ

    sub = args.feedback_command

    def line(v: Any) -> str:
        due = v.due_at.astimezone(LOCAL_TZ)
        return f"{v.code} [{v.status_label}] hạn {due:%H:%M %d/%m/%Y} — {v.content[:80]}"

    if sub == "file":
        request = {
            k: v
            for k, v in {
                "kind": args.kind,
                "content": args.content,
                "case_code": args.case_code,
                "case_secret": args.case_secret,
                "procedure_id": args.procedure_id,
                "name": args.name,
                "contact": args.contact,
                "anonymous": args.anonymous,
            }.items()
            if v is not None
        }
        view = feedback.file_feedback(engine, request)
        emit(args, view, lambda v: f"{line(v)}\n  Mã tra cứu (chỉ in một lần): {v.secret}")
    elif sub == "list":
        rows = feedback.feedback_board(engine, engine.actor(args.actor))
        emit(
            args,
            rows,
            lambda rs: (
                "\n".join(f"[{r.colour:<5}] {line(r.item)}" for r in rs) or "Không có phản ánh đang mở"
            ),
        )
    elif sub == "show":
        item, log = feedback.get_feedback(engine, args.code, engine.actor(args.actor))
        emit(
            args,
            {"item": item, "log": log},
            lambda r: line(r["item"]) + "".join(f"\n  {e.seq} {e.kind} {e.actor}" for e in r["log"]),
        )
    elif sub == "assign":
        emit(args, feedback.assign_feedback(engine, args.code, args.to, engine.actor(args.actor)), line)
    elif sub == "answer":
        emit(args, feedback.answer_feedback(engine, args.code, args.answer, engine.actor(args.actor)), line)
    elif sub == "publish":
        emit(args, feedback.publish_feedback(engine, args.code, engine.actor(args.actor)), line)
    elif sub == "rate":
        emit(args, feedback.rate_feedback(engine, args.code, args.secret, args.score), line)
    elif sub == "indicators":
        numbers = feedback.feedback_numbers(engine, _day(args.first), _day(args.last))
        plain = {
            "received": numbers.received,
            "indicators": [vars(i) for i in numbers.indicators],
        }
        emit(
            args,
            plain,
            lambda r: (
                f"Tiếp nhận: {r['received']}\n"
                + "\n".join(
                    f"  {i['code']}: {i['numerator']}/{i['denominator']} → "
                    + (
                        "Chưa có dữ liệu"
                        if i["points"] is None
                        else f"{i['points']:g}/{i['max_points']:g} điểm"
                    )
                    for i in r["indicators"]
                )
            ),
        )
    else:
        print(
            "Thiếu lệnh con: file | list | show | assign | answer | publish | rate | indicators",
            file=sys.stderr,
        )
        return 2
    return 0


def _esign(args: argparse.Namespace, emit: Emit) -> int:
    from engine import esign

    if args.esign_command == "sign":
        signed = esign.sign_result(_read(args.input))
        Path(args.output).write_bytes(signed)
        emit(args, {"output": args.output, "size": len(signed)}, lambda r: f"Đã ký số: {r['output']}")
        return 0
    if args.esign_command == "verify":
        check = esign.verify_result(_read(args.input))
        emit(args, check, lambda c: c.message)
        return 0 if check.valid else 1
    print("Thiếu lệnh con: sign | verify", file=sys.stderr)
    return 2
