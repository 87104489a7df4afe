#!/usr/bin/env python3
"""motcua — the one entry point: web server, timer worker and command-line tools.

Every command accepts ``--db URL`` (default ``MOTCUA_DATABASE_URL`` or ``var/motcua.sqlite3``),
``--now ISO8601`` (the engine's clock; default real time) and ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import ConflictError, Forbidden, MotcuaError, NotFound, ValidationError

EXIT_CODES: dict[type[MotcuaError], int] = {ValidationError: 2, ConflictError: 3, NotFound: 4, Forbidden: 5}


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", default=default, help="database URL (default: MOTCUA_DATABASE_URL or SQLite)")
    parser.add_argument("--now", default=default, help="the clock, ISO 8601 with offset (default: real time)")
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS if suppress else False, help="print JSON"
    )


def build_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="run.py", description="motcua: BPMN engine for one-stop-shop procedures"
    )
    _common(root, suppress=False)
    sub = root.add_subparsers(dest="command")

    def leaf(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        _common(parser, suppress=True)
        return parser

    serve = leaf(sub, "serve", "serve the web app with an embedded timer worker (default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--no-worker", action="store_true", help="do not run the embedded timer worker")
    idp = leaf(sub, "oidc-test-provider", "the local OIDC test provider alone (not for production)")
    idp.add_argument("--host", default="127.0.0.1")
    idp.add_argument("--port", type=int, default=5001)
    worker = leaf(sub, "worker", "fire due timers in a loop")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--batch", type=int, default=20, help="timers/messages claimed per batch")
    worker.add_argument(
        "--lease", type=float, default=60.0, help="seconds a claim is held before others retake it"
    )
    init = leaf(sub, "init-db", "migrate, load the procedure library, seed demo users")
    init.add_argument("--no-library", action="store_true")
    init.add_argument("--no-users", action="store_true")
    init.add_argument(
        "--demo",
        action="store_true",
        help="also a demo signing certificate under var/pki (when none is installed) and demo dossiers "
        "covering every Decision 766 indicator (make run)",
    )
    leaf(sub, "procedures", "list deployed procedures (latest versions)")
    assist = leaf(sub, "import-assist", "import assistant: what a foreign BPMN file lacks, with defaults")
    assist.add_argument("file", help="BPMN file from another modelling tool")
    assist.add_argument("--out", help="write the copy with the defaults filled in to this file")
    assist.add_argument("--procedure-id", help="deploy as a version of this procedure (renames the process)")

    case = sub.add_parser("case", help="work with cases (hồ sơ)").add_subparsers(dest="case_command")
    start = leaf(case, "start", "start a case")
    start.add_argument("procedure_id")
    start.add_argument("--data", default="{}", help='JSON: {"applicant": {"name": ...}, ...dossier fields}')
    start.add_argument(
        "--channel", type=int, choices=[1, 2, 3], default=1, help="1 in person, 2 online, 3 postal"
    )
    start.add_argument("--as", dest="actor", default="system", help="username of the receiving officer")
    start.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="CODE=PATH",
        help="a scanned component (repeatable; CODE empty for other files): stored with the dossier",
    )
    start.add_argument(
        "--receipt", help='JSON of the receipt check done at once, e.g. {"decision": "accept", ...}'
    )
    submit = leaf(case, "submit-online", "a citizen's online submission: every required component checked")
    submit.add_argument("procedure_id")
    submit.add_argument("--data", default="{}", help='JSON: {"applicant": {...}, ...the procedure\'s fields}')
    submit.add_argument("--file", action="append", default=[], metavar="CODE=PATH", help="a component file")
    submit.add_argument("--idempotency-key", help="a repeated submission with this key returns the first")
    submit.add_argument(
        "--identity",
        help='JSON the portal asserted after its login: {"cccd", "date_of_birth", "full_name"} (recorded)',
    )
    submit.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="CODE=N",
        help="a component taken from data store entry N",
    )
    show = leaf(case, "show", "show a case")
    show.add_argument("case")
    show.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    tasks = leaf(case, "tasks", "list a case's open tasks")
    tasks.add_argument("case")
    tasks.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    events = leaf(case, "events", "list a case's events")
    events.add_argument("case")
    events.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    complete = leaf(case, "complete", "complete an open task")
    complete.add_argument("case")
    complete.add_argument("task_id", help="task id, or the element id when only one such task is open")
    complete.add_argument("--as", dest="actor", required=True, help="username")
    complete.add_argument("--data", default="{}", help="JSON object of form fields")
    apologise = leaf(case, "apologise", "issue an apology letter (Mẫu 04), for lateness or a mistake")
    apologise.add_argument("case")
    apologise.add_argument("--new-due", help="ISO 8601 (required unless --kind mistake)")
    apologise.add_argument(
        "--kind",
        choices=["late", "mistake", "calendar"],
        default="late",
        help="late (counts as late), mistake (not late) or calendar (appointment on a new day off)",
    )
    apologise.add_argument("--reason", required=True)
    apologise.add_argument("--unit", default="", help="unit at fault")
    apologise.add_argument("--as", dest="actor", required=True)
    approve = leaf(case, "approve-supplement", "a head allows a second supplementation request")
    approve.add_argument("case")
    approve.add_argument("--reason", required=True)
    approve.add_argument("--as", dest="actor", required=True)
    withdraw = leaf(case, "withdraw", "record the applicant's request to withdraw (status 7)")
    withdraw.add_argument("case")
    withdraw.add_argument("--reason", required=True)
    withdraw.add_argument("--paper", help="scan of the request the applicant signed (required at the desk)")
    withdraw.add_argument("--as", dest="actor", required=True)
    stop = leaf(case, "withdraw-confirm", "confirm a withdrawal: processing stops (status 8)")
    stop.add_argument("case")
    stop.add_argument("--as", dest="actor", required=True)
    docs = leaf(case, "documents", "list a case's documents")
    docs.add_argument("case")
    docs.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    doc_add = leaf(case, "document-add", "attach a file to a dossier component")
    doc_add.add_argument("case")
    doc_add.add_argument("--code", required=True, help="component code, e.g. TP1")
    doc_add.add_argument("--file", required=True, help="path of the file")
    doc_add.add_argument("--as", dest="actor", required=True)
    result = leaf(case, "result-attach", "attach the electronic result (PDF or XML)")
    result.add_argument("case")
    result.add_argument("--file", required=True)
    result.add_argument("--as", dest="actor", required=True)
    result.add_argument(
        "--sign", action="store_true", help="sign a paper-result procedure's PDF too (an electronic copy)"
    )
    results = leaf(case, "results", "list a case's results")
    results.add_argument("case")
    results.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    payments = leaf(case, "payments", "list a case's recorded payments")
    payments.add_argument("case")
    payments.add_argument(
        "--as", dest="reader", help="read as this staff account (the access policy decides; default: console)"
    )
    pay = leaf(case, "pay", "record the payment gateway's signed callback (as POST /api/payments/callback)")
    pay.add_argument("--body", required=True, help="the callback's JSON body, exactly as signed")
    pay.add_argument("--timestamp", required=True)
    pay.add_argument("--nonce", required=True)
    pay.add_argument("--signature", required=True)
    rate = leaf(case, "rate", "the applicant rates the service (code + lookup secret)")
    rate.add_argument("case")
    rate.add_argument("--secret", required=True)
    rate.add_argument("--score", type=int, required=True)
    rate.add_argument("--comment", default="")
    for name, text in (("claim", "take an open step"), ("release", "give a claimed step back")):
        one = leaf(case, name, text)
        one.add_argument("task_id")
        one.add_argument("--as", dest="actor", required=True)
    reassign = leaf(case, "reassign", "a head hands an open step to a colleague")
    reassign.add_argument("task_id")
    reassign.add_argument("--to", dest="assignee", required=True, help="username")
    reassign.add_argument("--as", dest="actor", required=True)
    mine = leaf(case, "by-cccd", "the dossiers whose applicant CCCD is this one ('Hồ sơ của tôi')")
    mine.add_argument("cccd")
    reissue = leaf(case, "reissue-secret", "issue a new lookup secret (the old one stops working)")
    reissue.add_argument("case")
    reissue.add_argument("--as", dest="actor", required=True, help="a desk clerk's username")

    import cli_digital

    cli_digital.add_parsers(sub, case, leaf)

    timers = sub.add_parser("timers", help="timers").add_subparsers(dest="timers_command")
    fire = leaf(timers, "fire-due", "fire every timer due by --now")
    fire.add_argument("--limit", type=int, default=1000)

    cal = sub.add_parser("calendar", help="working-time calendar").add_subparsers(dest="calendar_command")
    add = leaf(cal, "add", "add working hours or days to a moment")
    add.add_argument("--from", dest="start", required=True)
    group = add.add_mutually_exclusive_group(required=True)
    group.add_argument("--working-hours", type=float)
    group.add_argument("--working-days", type=float)
    hol = leaf(cal, "holidays", "days off and make-up working days of a year")
    hol.add_argument("--year", type=int, required=True)
    override = leaf(cal, "override", "record a government day swap (admin)")
    override.add_argument("--day", required=True, help="YYYY-MM-DD")
    override.add_argument("--kind", required=True, choices=["off", "work", "none"])
    override.add_argument("--note", required=True, help="legal basis, e.g. the decision number")
    override.add_argument("--as", dest="actor", required=True)
    leaf(cal, "overrides", "list every stored override (history)")

    _audit_parser(sub, leaf)
    _users_parser(sub, leaf)
    bench = leaf(sub, "bench", "run the benchmarks and print one table")
    bench.add_argument("--quick", action="store_true", help="smaller sizes (for smoke tests)")
    bench.add_argument(
        "--scale",
        type=int,
        action="append",
        metavar="N",
        help="open dossiers to time the staff pages at (repeatable; default 10,000 and 100,000)",
    )
    bench.add_argument("--repetitions", type=int, default=5, help="interleaved repetitions (at least 5)")
    bench.add_argument(
        "--only",
        action="append",
        choices=["lifecycle", "pages", "timers", "audit", "calendar", "sandbox"],
        help="run only these parts (repeatable)",
    )
    bench.add_argument(
        "--page",
        action="append",
        metavar="NAME",
        help="time only the staff pages whose name contains NAME (repeatable, e.g. --page board)",
    )
    bench.add_argument("--check", action="store_true", help="exit 1 when a goal of issue 13 is missed")
    loadtest = sub.add_parser(
        "loadtest",
        help="N clerks against gunicorn on PostgreSQL, then lost-update checks (--clerks, --seconds)",
        add_help=False,
    )
    loadtest.add_argument("options", nargs=argparse.REMAINDER, help="see run.py loadtest --help")
    return root


def parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"--now không đúng định dạng ISO 8601: {value}") from exc
    if moment.tzinfo is None:
        raise ValidationError("--now phải có múi giờ, ví dụ 2026-02-16T09:00:00+07:00")
    return moment


def load_json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{what} không phải JSON hợp lệ: {exc.msg} (cột {exc.colno})") from exc


def make_engine(args: argparse.Namespace) -> Any:
    from engine.clock import FixedClock, SystemClock
    from engine.db import Database, default_url, normalise_url
    from engine.service import Engine
    from engine.settings import EngineSettings

    now = parse_now(getattr(args, "now", None))
    clock = FixedClock(now) if now else SystemClock()
    from engine.sessions import session_store_from_env

    url = normalise_url(args.db) if getattr(args, "db", None) else default_url()
    db = Database(url)
    return Engine(db, clock=clock, settings=EngineSettings.from_env(), sessions=session_store_from_env(db))


def emit(args: argparse.Namespace, value: Any, human: Callable[[Any], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(_plain(value), ensure_ascii=False, indent=2))
    else:
        print(human(value))


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _case_text(case: Any) -> str:
    local = _local
    lines = [
        f"Hồ sơ {case.code} — {case.procedure_name} (phiên bản {case.procedure_version})",
        f"  Người nộp: {case.applicant.get('name')}   Kênh: {case.channel}   Trạng thái: {case.status} "
        f"{case.status_label}",
        f"  Nộp lúc: {local(case.submitted_at)}   Hạn tiếp nhận: {local(case.receipt_due_at)}",
        f"  Tiếp nhận: {local(case.received_at)}   Hẹn trả: {local(case.due_at)}",
        f"  Xong: {local(case.finished_at)}   Kết quả: {case.outcome or '-'}",
    ]
    if case.secret:
        lines.append(f"  Mã tra cứu (in trên phiếu tiếp nhận): {case.secret}")
    lines.append(_tasks_text(case.tasks))
    return "\n".join(lines)


def _tasks_text(tasks: list[Any]) -> str:
    if not tasks:
        return "  (không có công việc đang mở)"
    return "\n".join(
        f"  - {t.element_id} [{t.role or '-'}] {t.name}  hạn {_local(t.due_at)}  id={t.task_id}"
        for t in tasks
    )


def _import_assist(args: argparse.Namespace) -> int:
    """Print the import assistant's report; exit 1 when the file cannot be made deployable."""

    from engine.designer import library_shared
    from engine.importer import assess
    from engine.settings import EngineSettings

    # The engine function the API and the designer call, with the same library files; offline (no
    # database, no account): it reads a file and stores nothing.
    path = Path(args.file)
    shared = library_shared(EngineSettings.from_env().library_dir)
    report = assess(path.name, path.read_bytes(), procedure_id=args.procedure_id, shared=shared)
    if args.out and report.prepared is not None:
        Path(args.out).write_bytes(report.prepared)

    def human(r: dict[str, Any]) -> str:
        lines = [f"Quy trình: {r['process_id'] or '-'} {r['process_name']}"]
        lines += [f"  [{f['kind']}] {f['element_id'] or '-'}: {f['message']}" for f in r["findings"]]
        lines += [f"  [lỗi] {p}" for p in r["problems"]]
        lines.append("Triển khai được sau khi điền mặc định" if r["deployable"] else "Chưa triển khai được")
        return "\n".join(lines)

    data = report.as_dict()
    data.pop("prepared")
    emit(args, data, human)
    return 0 if report.deployable else 1


def _local(value: datetime | None) -> str:
    if value is None:
        return "-"
    from engine.sla import LOCAL_TZ

    return value.astimezone(LOCAL_TZ).isoformat(timespec="minutes")


def dispatch(command: str, args: argparse.Namespace) -> int:
    """Run one command; engine errors propagate to :func:`main`."""
    if command == "calendar":
        return _calendar(args)
    if command == "audit":
        return _audit(args)
    import cli_digital

    if command in cli_digital.COMMANDS:
        return cli_digital.dispatch(command, args, make_engine, emit)
    if command == "bench":
        from bench.runner import PARTS, missed, run

        report = run(
            quick=args.quick,
            scales=args.scale,
            repetitions=args.repetitions,
            parts=tuple(args.only or PARTS),
            pages=args.page,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
        emit(args, report, lambda r: r["table"])
        if args.check and missed(report):
            print("Goals missed: " + "; ".join(missed(report)), file=sys.stderr)
            return 1
        return 0
    if command == "import-assist":
        return _import_assist(args)
    if command == "oidc-test-provider":
        from web.oidc_provider import LocalProvider, create_provider_app

        provider = LocalProvider()
        print(
            f"Nhà cung cấp định danh thử nghiệm: MOTCUA_OIDC_ISSUER=http://{args.host}:{args.port}/oidc-test "
            f"MOTCUA_OIDC_CLIENT_ID={provider.client_id} MOTCUA_OIDC_CLIENT_SECRET={provider.client_secret}",
            flush=True,
        )
        create_provider_app(provider).run(host=args.host, port=args.port, threaded=True, use_reloader=False)
        return 0
    engine = make_engine(args)
    if command == "serve":
        from web.app import serve

        serve(engine, host=args.host, port=args.port, worker=not args.no_worker)
        return 0
    if command == "worker":
        return _worker(engine, args)
    if command == "init-db":
        result = engine.init_db(load_library=not args.no_library, seed_users=not args.no_users)
        if not args.no_users:  # demo data: the people the local population-data adapter knows
            from engine.identity import seed_population_records

            seed_population_records(engine.db)
        if args.demo:
            result["demo"] = _demo(engine)

        def human(r: dict[str, Any]) -> str:
            lines = [f"Cơ sở dữ liệu: {engine.db.url}"]
            lines += [
                f"  thủ tục {p['procedure_id']} v{p['version']}" + (" (mới)" if p["created"] else "")
                for p in r["procedures"]
            ]
            for key, value in (r.get("demo") or {}).items():
                lines.append(f"  demo {key}: {value}")
            if r["users"]:
                lines.append("Tài khoản demo (chỉ in một lần):")
                lines += [f"  {u:<12} {role:<20} mật khẩu: {pw}" for u, role, pw in r["users"]]
            return "\n".join(lines)

        emit(args, result, human)
        return 0
    if command == "procedures":
        procs = engine.list_procedures()
        emit(
            args,
            procs,
            lambda ps: "\n".join(
                f"{p.procedure_id:<32} {p.code:<10} v{p.version}  {p.legal_time:g} {p.legal_unit:<14} "
                f"{p.name}\n"
                + "\n".join(
                    f"    {s['element_id']:<30} {s['role'] or '-':<20} {s['hours'] or 0:g} giờ"
                    for s in p.steps
                )
                for p in ps
            ),
        )
        return 0
    if command == "case" and args.case_command in cli_digital.CASE_COMMANDS:
        return cli_digital.case(engine, args, emit)
    if command == "case":
        return _case(engine, args)
    if command == "users":
        return _users(engine, args)
    if command == "timers" and args.timers_command == "fire-due":
        result = engine.fire_due_timers(limit=args.limit)
        emit(args, result, lambda r: f"Đã kích hoạt {r.fired} hẹn giờ, bỏ qua {r.skipped}")
        return 0
    print("Lệnh không hợp lệ; xem --help", file=sys.stderr)
    return 2


def _worker(engine: Any, args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT, finishing the unit of work in progress (safe to stop any time).

    The loop runs in a thread and the main thread waits for the signal: a Python signal handler
    that set the stop event could deadlock with the loop's own wait on that event.
    """
    import logging
    import signal
    import threading

    from engine.worker import run_worker
    from handlers.compose import compose

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change otherwise
    handlers = compose(engine).handlers
    options = {
        "interval": args.interval,
        "batch": args.batch,
        "lease_seconds": args.lease,
        "handlers": handlers,
    }
    if args.once:
        run_worker(engine, once=True, **options)
        return 0
    stop = threading.Event()
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    loop = threading.Thread(target=run_worker, args=(engine,), kwargs={"stop": stop, **options})
    loop.start()
    while loop.is_alive():
        if signal.sigtimedwait(signals, 0.5) is not None:
            stop.set()
    loop.join()
    return 0


def _case(engine: Any, args: argparse.Namespace) -> int:
    sub = args.case_command
    if getattr(args, "reader", None):
        # A read on behalf of a staff account asks the same access policy as the web and the API
        # (engine.access); without --as the console reads as the system.
        engine.authorize_case(args.case, engine.actor(args.reader))
    if sub == "start":
        payload = load_json_arg(args.data, "--data")
        if not isinstance(payload, dict):
            raise ValidationError("--data phải là một đối tượng JSON")
        applicant = payload.pop("applicant", None)
        if applicant is None and "applicant_name" in payload:
            applicant = {"name": payload.pop("applicant_name")}
        request = {
            "procedure_id": args.procedure_id,
            "applicant": applicant,
            "channel": args.channel,
            "data": payload,
        }
        uploads = _uploads(args.file)
        if uploads or args.receipt:
            receipt = load_json_arg(args.receipt, "--receipt") if args.receipt else None
            view = engine.counter_intake(request, uploads, receipt, engine.actor(args.actor))
        else:
            view = engine.start_case(request, engine.actor(args.actor))
        emit(args, view, _case_text)
    elif sub == "submit-online":
        payload = load_json_arg(args.data, "--data")
        if not isinstance(payload, dict):
            raise ValidationError("--data phải là một đối tượng JSON")
        applicant = payload.pop("applicant", None)
        request = {"procedure_id": args.procedure_id, "applicant": applicant, "data": payload}
        if args.identity:
            request["identity"] = load_json_arg(args.identity, "--identity")
        if args.reuse:
            request["reuse"] = dict(item.partition("=")[::2] for item in args.reuse)
        view = engine.submit_online(request, _uploads(args.file), args.idempotency_key)
        emit(args, view, _case_text)
    elif sub == "show":
        emit(args, engine.get_case(args.case), _case_text)
    elif sub == "tasks":
        emit(args, engine.list_tasks(args.case), _tasks_text)
    elif sub == "events":
        emit(
            args,
            engine.events(args.case),
            lambda evs: "\n".join(
                f"{e.seq:>4} {_local(e.at)} {e.actor:<12} {e.kind:<16} {e.element_id or ''} "
                f"{'' if e.status_to is None else f'{e.status_from}→{e.status_to}'}"
                for e in evs
            ),
        )
    elif sub == "complete":
        data = load_json_arg(args.data, "--data")
        view = engine.complete_task(args.case, args.task_id, data, engine.actor(args.actor))
        emit(args, view, _case_text)
    elif sub == "apologise":
        new_due = parse_now(args.new_due) if args.new_due else None
        view = engine.apologise(
            args.case, new_due, args.reason, args.unit, engine.actor(args.actor), kind=args.kind
        )
        emit(args, view, _case_text)
    elif sub == "approve-supplement":
        emit(args, engine.approve_supplement(args.case, args.reason, engine.actor(args.actor)), _case_text)
    elif sub == "withdraw":
        paper = (Path(args.paper).name, Path(args.paper).read_bytes()) if args.paper else None
        view = engine.request_withdrawal(args.case, args.reason, engine.actor(args.actor), paper)
        emit(args, view, _case_text)
    elif sub == "withdraw-confirm":
        emit(args, engine.confirm_withdrawal(args.case, engine.actor(args.actor)), _case_text)
    elif sub == "documents":
        emit(args, engine.list_documents(args.case), _files_text)
    elif sub == "document-add":
        path = _read_file(args.file)
        view = engine.add_document(args.case, args.code, path[0], path[1], engine.actor(args.actor))
        emit(args, view, lambda v: _files_text([v]))
    elif sub == "result-attach":
        name, content = _read_file(args.file)
        emit(
            args,
            engine.attach_result(args.case, name, content, engine.actor(args.actor), sign=args.sign),
            lambda v: _files_text([v]),
        )
    elif sub == "results":
        emit(args, engine.case_results(args.case), _files_text)
    elif sub == "payments":
        emit(args, engine.case_payments(args.case), _payments_text)
    elif sub == "pay":
        from handlers.payment import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

        headers = {
            TIMESTAMP_HEADER: args.timestamp,
            NONCE_HEADER: args.nonce,
            SIGNATURE_HEADER: args.signature,
        }
        from handlers.compose import compose
        from handlers.payment import receive_callback

        composition = compose(engine)
        view = receive_callback(
            engine, composition.settings.payment_secret, args.body.encode("utf-8"), headers
        )
        emit(args, view, lambda v: _payments_text([v]))
    elif sub == "rate":
        view = engine.rate(args.case, args.secret, args.score, args.comment)
        emit(args, view, lambda v: f"Đã ghi nhận đánh giá {v.score} cho hồ sơ {args.case}")
    elif sub in ("claim", "release"):
        operation = engine.claim_task if sub == "claim" else engine.release_task
        emit(args, operation(args.task_id, engine.actor(args.actor)), _case_text)
    elif sub == "reassign":
        emit(args, engine.reassign_task(args.task_id, args.assignee, engine.actor(args.actor)), _case_text)
    elif sub == "by-cccd":
        from engine.citizen import VerifiedCitizen

        # The operator's shell is trusted as the identity provider would be: the same list, same query.
        who = VerifiedCitizen("".join(args.cccd.split()), "", None, "cli", "cli")
        emit(
            args,
            engine.citizen_dossiers(who),
            lambda rows: "\n".join(
                f"{d.code:<22} {d.status_label:<28} hẹn trả {_local(d.due_at) or '—'}  {d.procedure_name}"
                for d in rows
            )
            or "Không có hồ sơ nào mang số CCCD này",
        )
    elif sub == "reissue-secret":
        view = engine.reissue_secret(args.case, engine.actor(args.actor))
        issued = {"code": view.code, "secret": view.secret}
        emit(args, issued, lambda v: f"{v['code']}: mã tra cứu mới {v['secret']}")
    else:
        print(
            "Thiếu lệnh con: start | submit-online | show | tasks | events | complete | apologise | "
            "approve-supplement | "
            "withdraw | withdraw-confirm | documents | document-add | result-attach | results | payments | "
            "pay | rate | claim | release | reassign | reissue-secret | by-cccd",
            file=sys.stderr,
        )
        return 2
    return 0


def _uploads(specs: list[str]) -> list[Any]:
    """``CODE=PATH`` arguments as uploads filed under their component code."""
    from engine.submissions import Upload

    uploads = []
    for spec in specs:
        code, sep, path = spec.partition("=")
        if not sep:
            raise ValidationError(f"--file phải có dạng MÃ=ĐƯỜNG_DẪN (ví dụ TP1=don.pdf), nhận được '{spec}'")
        name, content = _read_file(path)
        uploads.append(Upload(code.strip(), name, content))
    return uploads


def _read_file(path: str) -> tuple[str, bytes]:

    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"Không tìm thấy tệp '{path}'")
    return file.name, file.read_bytes()


def _files_text(files: list[Any]) -> str:
    return (
        "\n".join(
            f"{f.id:>4} {getattr(f, 'document_code', '') or '-':<6} {f.filename:<40} "
            f"{f.size:>9} B  {f.sha256[:16]}"
            for f in files
        )
        or "(không có tệp)"
    )


def _payments_text(rows: list[Any]) -> str:
    return (
        "\n".join(
            f"{p.id:>4} {p.transaction_id:<24} {p.amount:>12,} đ  kênh {p.channel}  {_local(p.paid_at)}"
            + ("  (đã ghi nhận trước đó)" if p.duplicate else "")
            for p in rows
        )
        or "(chưa có khoản thanh toán)"
    )


def _calendar(args: argparse.Namespace) -> int:
    from sqlalchemy import inspect

    engine = make_engine(args)
    if args.calendar_command == "override":
        day = _parse_day(args.day)
        row = engine.add_calendar_override(day, args.kind, args.note, engine.actor(args.actor))
        emit(
            args,
            row,
            lambda r: (
                f"Đã ghi điều chỉnh lịch #{r['id']}: {r['day']} {r['kind']} — {r['note']}\n"
                f"Tính lại thời hạn {len(r['moved'])} hồ sơ đang mở"
                + (f": {', '.join(r['moved'])}" if r["moved"] else "")
                + (
                    f"\nNgày hẹn trả rơi vào ngày nghỉ, cần hẹn lại (Mẫu 04): "
                    f"{', '.join(r['appointments_on_day_off'])}"
                    if r["appointments_on_day_off"]
                    else ""
                )
            ),
        )
        return 0
    if args.calendar_command == "overrides":
        rows = engine.calendar_overrides()
        emit(
            args,
            rows,
            lambda rs: (
                "\n".join(
                    f"#{r['id']:<4} {r['day']} {r['kind']:<5} {r['note']} "
                    f"({r['created_by']}, {_local(r['created_at'])})"
                    for r in rs
                )
                or "(chưa có điều chỉnh nào)"
            ),
        )
        return 0
    # Stored overrides apply when the database is initialised; otherwise the built-in calendar.
    has_table = inspect(engine.db.engine).has_table("calendar_overrides")
    cal = engine.fresh_calendar() if has_table else engine.calendar
    if args.calendar_command == "add":
        start = parse_now(args.start)
        assert start is not None
        if args.working_hours is not None:
            result = cal.add_working_hours(start, args.working_hours)
        else:
            result = cal.add_working_days(start, args.working_days)
        text = _local_iso(result)
        emit(args, {"from": start.isoformat(), "result": text}, lambda r: r["result"])
        return 0
    if args.calendar_command == "holidays":
        off = [{"date": d.isoformat(), "name": n} for d, n in cal.days_off(args.year)]
        work = [{"date": d.isoformat(), "name": n} for d, n in cal.make_up_days(args.year)]
        emit(
            args,
            {"year": args.year, "days_off": off, "make_up_working_days": work},
            lambda r: "\n".join(
                ["Ngày nghỉ:"]
                + [f"  {d['date']}  {d['name']}" for d in r["days_off"]]
                + ["Ngày làm bù:"]
                + [f"  {d['date']}  {d['name']}" for d in r["make_up_working_days"]]
            ),
        )
        return 0
    print("Thiếu lệnh con: add | holidays", file=sys.stderr)
    return 2


def _parse_day(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Ngày không đúng định dạng YYYY-MM-DD: {text}") from exc


def _local_iso(value: datetime) -> str:
    from engine.sla import LOCAL_TZ

    return value.astimezone(LOCAL_TZ).isoformat()


# ------------------------------------------------------------------------------------------ audit
INTEGRITY_BROKEN = 6  # exit code of `audit verify` / `audit replay` when the history does not hold


def _audit_parser(sub: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="auditor: verify, seal, replay, reports").add_subparsers(
        dest="audit_command"
    )
    verify = leaf(audit, "verify", "verify hash chains (and the latest daily seal)")
    which = verify.add_mutually_exclusive_group()
    which.add_argument("--case", help="one dossier code")
    which.add_argument("--all", action="store_true", help="every case plus the latest daily seal (default)")
    verify.add_argument(
        "--seals",
        help="the signed outside copy of the seals (default log: MOTCUA_SEAL_LOG or var/audit-seals.jsonl)",
    )
    board = leaf(audit, "board", "check the SLA board's read model against a recount of the open dossiers")
    board.add_argument("--repair", action="store_true", help="rebuild it from the dossiers when out of step")
    days = leaf(
        audit, "register-days", "check the register's counts by day against a recount of the report facts"
    )
    days.add_argument(
        "--repair", action="store_true", help="recount them from the report facts when out of step"
    )
    digest = leaf(audit, "digest", "seal a finished local day: SHA-256 over every case's chain head")
    digest.add_argument("--day", help="YYYY-MM-DD (default: yesterday, local)")
    replay = leaf(audit, "replay", "rebuild a case's state at event N from its events alone")
    replay.add_argument("case")
    replay.add_argument("--at", type=int, help="event number (default: the last)")
    register = leaf(audit, "register", "Mẫu 06: register of the dossiers submitted between two dates")
    register.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    register.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
    control = leaf(audit, "control-sheet", "Mẫu 05: control sheet of one dossier, from its events")
    control.add_argument("case")
    report = leaf(audit, "report", "periodic report: received, finished, in progress, overdue…")
    report.add_argument("--year", type=int, required=True)
    report.add_argument(
        "--period",
        required=True,
        choices=[*(f"m{m}" for m in range(1, 13)), "q1", "q2", "q3", "q4", "h1", "9m", "year"],
        help="m1…m12 months, q1…q4 quarters, h1 = 6 months, 9m = 9 months, year",
    )
    report.add_argument(
        "--cutoff-start",
        "--cutoff-day",
        dest="cutoff_start",
        type=int,
        help="first day of the data window: 1 = calendar months; 15 = from the 15th of the month before",
    )
    report.add_argument(
        "--cutoff-end",
        type=int,
        help="last day (inclusive) counted in the period's last month (default: the day before the start)",
    )
    report.add_argument(
        "--cutoff-plan",
        choices=["calendar", "000", "002"],
        help="a plan's window: 000 = 15th–14th (Hà Nội 2026), 002 = 10th–10th (Hà Nội 2024)",
    )
    score = leaf(audit, "index766", "Decision 766 scorecard: group points and sub-indicator rates")
    score.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    score.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
    score.add_argument(
        "--payment-integrated",
        help="comma list of fee-bearing procedures integrated with online payment (3.5)",
    )
    score.add_argument(
        "--group-max",
        help="group maxima by group code, e.g. CKMB=18,TDGQ=20,CLGQ=11,TTTT=9,MDSH=22,MDHL=18 (seed 004)",
    )
    score.add_argument("--format", choices=["text", "csv", "xlsx"], default="text")
    score.add_argument("--out", help="write the file here (required for xlsx)")
    targets = leaf(audit, "targets", "the 766 plan targets in force for a year, with their history")
    targets.add_argument("--year", type=int, required=True)
    target = leaf(audit, "set-target", "set a 766 plan target for a year (admin); history is kept")
    target.add_argument("--year", type=int, required=True)
    target.add_argument(
        "--code", required=True, help="2.1, online, 3.6, 4.1, 4.2, 4.3, satisfied, receipt_8h"
    )
    target.add_argument("--target", required=True, help="percentage, e.g. 99.4")
    target.add_argument("--note", required=True, help="basis: the plan or document assigning the target")
    target.add_argument("--as", dest="actor", required=True, help="username of the administrator")
    for parser in (register, control, report):
        parser.add_argument("--format", choices=["text", "csv", "xlsx"], default="text")
        parser.add_argument("--out", help="write the file here (required for xlsx)")


def _users_parser(sub: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="staff accounts (admin)").add_subparsers(dest="users_command")

    def account(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = leaf(users, name, help_text)
        parser.add_argument(
            "--as", dest="actor", default="system", help="acting administrator (default: this console)"
        )
        return parser

    account("list", "every account with roles, unit and state")
    create = account("create", "create an account; its first password must be changed at login")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="full name")
    create.add_argument("--role", action="append", required=True, help="a role (repeat for several)")
    create.add_argument("--unit")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the first password from stdin (else generated)"
    )
    for name, text in (("deactivate", "deactivate and end every session"), ("activate", "reactivate")):
        account(name, text).add_argument("username")
    roles = account("set-roles", "replace the roles of an account")
    roles.add_argument("username")
    roles.add_argument("--role", action="append", required=True)
    unit = account("set-unit", "change the unit of an account (empty: none)")
    unit.add_argument("username")
    unit.add_argument("--unit", default="")
    reset = account("reset-password", "temporary password printed once (or --link: a one-time link)")
    reset.add_argument("username")
    reset.add_argument("--link", action="store_true")
    events = account("events", "the account audit trail (newest first)")
    events.add_argument("username", nargs="?")


def _account_text(a: Any) -> str:
    state = (
        "đã vô hiệu hoá" if not a.active else ("chờ đổi mật khẩu" if a.must_change_password else "hoạt động")
    )
    return f"{a.username:<16} {','.join(a.roles):<28} {a.unit or '-':<30} {state}"


def _issued_text(issued: Any) -> str:
    import os

    lines = [f"Tài khoản: {issued.username} (chỉ in một lần; phải đổi mật khẩu khi đăng nhập)"]
    if issued.password:
        lines.append(f"Mật khẩu tạm: {issued.password}")
    if issued.reset_token:
        base = os.environ.get("MOTCUA_BASE_URL", "").rstrip("/")
        lines.append(
            f"Liên kết đặt lại: {base}/account/reset/{issued.reset_token} (hết hạn {issued.expires_at})"
        )
    return "\n".join(lines)


def _users(engine: Any, args: argparse.Namespace) -> int:
    """Same engine functions (and checks) as the admin pages and /api/admin/users."""
    from dataclasses import asdict

    actor = engine.actor(args.actor)
    sub = args.users_command
    if sub == "list":
        accounts = engine.list_accounts(actor)
        emit(args, [asdict(a) for a in accounts], lambda _: "\n".join(_account_text(a) for a in accounts))
        return 0
    if sub == "create":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
        issued = engine.create_account(
            args.username, args.name, args.role, actor, unit=args.unit, password=password
        )
        emit(args, asdict(issued), lambda _: _issued_text(issued))
        return 0
    if sub == "reset-password":
        issued = engine.reset_password(args.username, actor, link=args.link)
        emit(args, asdict(issued), lambda _: _issued_text(issued))
        return 0
    if sub == "events":
        events = engine.account_events(actor, args.username)
        emit(
            args,
            [asdict(e) for e in events],
            lambda _: "\n".join(
                f"{_local(e.at)}  {e.actor:<14} {e.username:<14} {e.action:<26} "
                + json.dumps(e.details, ensure_ascii=False)
                for e in events
            ),
        )
        return 0
    if sub in ("deactivate", "activate"):
        view = engine.set_account_active(args.username, sub == "activate", actor)
    elif sub == "set-roles":
        view = engine.change_account_roles(args.username, args.role, actor)
    elif sub == "set-unit":
        view = engine.change_account_unit(args.username, args.unit or None, actor)
    else:
        print("Lệnh không hợp lệ; xem run.py users --help", file=sys.stderr)
        return 2
    emit(args, asdict(view), lambda _: _account_text(view))
    return 0


def _audit(args: argparse.Namespace) -> int:
    engine = make_engine(args)
    sub = args.audit_command
    if sub == "verify":
        from pathlib import Path

        report = engine.verify_history(args.case, Path(args.seals) if args.seals else None)
        emit(args, report.as_dict(), _verify_text)
        return 0 if report.ok else INTEGRITY_BROKEN
    if sub in ("board", "register-days"):
        check, rebuild, sound, broken = (
            (
                engine.check_board,
                engine.rebuild_board,
                "Bảng theo dõi hạn khớp với số đếm lại từ hồ sơ",
                "Bảng theo dõi hạn lệch",
            )
            if sub == "board"
            else (
                engine.check_register_days,
                engine.rebuild_register_days,
                "Số hồ sơ theo ngày của sổ theo dõi khớp với số đếm lại",
                "Số hồ sơ theo ngày của sổ theo dõi lệch",
            )
        )
        problems = check()
        repaired: list[str] = []
        if problems and args.repair:
            rebuild()
            repaired, problems = problems, check()
        emit(
            args,
            {"ok": not problems, "problems": problems, "repaired": repaired},
            lambda d: (
                (f"Đã dựng lại ({len(d['repaired'])} chỗ lệch). " if d["repaired"] else "") + sound
                if d["ok"]
                else broken
                + ("" if args.repair else " (chạy lại với --repair để dựng lại)")
                + ":\n"
                + "\n".join(d["problems"])
            ),
        )
        return 0 if not problems else INTEGRITY_BROKEN
    if sub == "digest":
        view = engine.seal_day(_parse_day(args.day) if args.day else None)
        emit(
            args,
            view.as_dict(),
            lambda d: (
                f"Niêm phong ngày {d['day']}{'' if d['created'] else ' (đã có từ trước)'}: "
                f"{d['cases']} hồ sơ, {d['events']} sự kiện\n  digest {d['digest']}\n  seal   {d['seal']}"
            ),
        )
        return 0
    if sub == "replay":
        report = engine.replay_case(args.case, args.at)
        emit(args, report.as_dict(), _replay_text)
        return 0 if report.ok else INTEGRITY_BROKEN
    if sub == "index766":
        from engine.index766 import ScorecardConfig
        from engine.index766_targets import parse_group_max, scorecard_table

        integrated = args.payment_integrated
        config = ScorecardConfig(
            online_payment_procedures=frozenset(p for p in integrated.split(",") if p) if integrated else None
        )
        maxima = parse_group_max(args.group_max or "")
        if maxima:
            config = replace(config, group_max=maxima)
        view = engine.director_view_766(_parse_day(args.first), _parse_day(args.last), config)
        if args.format != "text" or args.out:
            return _export(args, scorecard_table(view))
        emit(args, view.as_dict(), _scorecard_text)
        return 0
    if sub == "targets":
        emit(args, engine.scorecard_targets(args.year), _targets_text)
        return 0
    if sub == "set-target":
        row = engine.set_scorecard_target(
            args.year, args.code, args.target, args.note, engine.actor(args.actor)
        )
        emit(args, row, lambda r: f"Đã đặt chỉ tiêu năm {r['year']}: {r['code']} = {r['target'] * 100:g} %")
        return 0
    if sub in ("register", "control-sheet", "report"):
        from engine.reports import CUTOFF_PRESETS, CutoffRule

        if sub == "register":
            table = engine.dossier_register(_parse_day(args.first), _parse_day(args.last))
        elif sub == "control-sheet":
            table = engine.control_sheet_form(args.case)
        else:
            rule = CUTOFF_PRESETS[args.cutoff_plan] if args.cutoff_plan else CutoffRule()
            if args.cutoff_start is not None or args.cutoff_end is not None:
                start = rule.start_day if args.cutoff_start is None else args.cutoff_start
                rule = CutoffRule(start, args.cutoff_end if args.cutoff_end is not None else rule.end_day)
            table = engine.periodic_report(args.year, args.period, rule).table()
        return _export(args, table)
    print("Thiếu lệnh con: verify | digest | replay | register | control-sheet | report", file=sys.stderr)
    return 2


def _export(args: argparse.Namespace, table: Any) -> int:
    """Print a report (text, JSON or CSV) or write it to ``--out`` (CSV or XLSX)."""
    from engine.reports import to_csv, to_xlsx

    if args.format == "xlsx" and not args.out:
        raise ValidationError("Xuất XLSX cần --out TỆP")
    if args.out:
        data = to_xlsx(table) if args.format == "xlsx" else to_csv(table)
        with open(args.out, "wb") as handle:
            handle.write(data)
        print(f"Đã ghi {args.out} ({len(table.rows)} dòng)")
    elif args.format == "csv":
        sys.stdout.write(to_csv(table).decode("utf-8-sig"))
    else:
        emit(args, table.as_dict(), lambda _t: _table_text(table))
    return 0


def _scorecard_text(card: dict[str, Any]) -> str:
    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    def pct(value: float | None) -> str:
        return "không áp dụng" if value is None else f"{value * 100:.1f} %"

    lines = [f"Bộ chỉ số 766 từ {card['from']} đến {card['to']}: {card['summary']}", "Chỉ tiêu của kế hoạch:"]
    for line in card["lines"]:
        gap = "" if line["gap"] is None else f", chênh lệch {line['gap'] * 100:+.1f}"
        target = "" if line["target"] is None else f" / chỉ tiêu {pct(line['target'])}"
        lines.append(f"    {line['name']}: {pct(line['value'])}{target}{gap}")
        if line["behind"]:
            lines.append(f"        {line['behind_label']}: {', '.join(line['behind'])}")
    for g in card["groups"]:
        lines.append(f"{g['code']} {g['name']}: {num(g['points'])} / {num(g['max_points'])}")
        for i in g["indicators"]:
            rate = "-" if i["rate"] is None else f"{i['rate'] * 100:.1f} %"
            status = {"no_data": "chưa có dữ liệu", "not_applicable": "không áp dụng"}.get(i["status"], "")
            lines.append(
                f"    {i['code']} {i['name']}: {rate}, {num(i['points'])}/{num(i['max_points'])} điểm"
                + (f" ({status})" if status else "")
                + (f" — {i['note']}" if i["note"] and i["status"] != "no_data" else "")
            )
    return "\n".join(lines)


def _targets_text(data: dict[str, Any]) -> str:
    lines = [f"Chỉ tiêu bộ chỉ số 766 năm {data['year']}:"]
    lines += [f"    {code}: {share * 100:g} %" for code, share in data["targets"].items()]
    for r in data["history"]:
        lines.append(f"#{r['id']} {r['code']} = {r['target'] * 100:g} % — {r['note']} ({r['created_by']})")
    return "\n".join(lines)


def _table_text(table: Any) -> str:
    lines = [table.title, *table.subtitle, " | ".join(table.headers)]
    lines += [" | ".join("" if c is None else str(c) for c in row) for row in table.rows]
    return "\n".join(lines)


def _verify_text(r: dict[str, Any]) -> str:
    seal = (
        f"; niêm phong gần nhất: {r['digest_day']} (mã {r['digest_seal']})"
        if r["digest_day"]
        else "; chưa có niêm phong ngày"
    )
    head = f"{r['cases']} hồ sơ, {r['events']} sự kiện{seal}"
    if r["ok"]:
        return f"Nhật ký toàn vẹn: {head}"
    lines = [f"PHÁT HIỆN {len(r['findings'])} SAI LỆCH ({head}):"]
    for f in r["findings"]:
        where = f"hồ sơ {f['case'] or '?'}" + (f", sự kiện {f['seq']}" if f["seq"] is not None else "")
        lines.append(f"  - {where}: {f['reason']} [{f['problem']}]")
    return "\n".join(lines)


def _replay_text(r: dict[str, Any]) -> str:
    lines: list[str] = []
    s = r["state"]
    if s is not None:
        when = _local(datetime.fromisoformat(s["at"]))
        lines += [
            f"Hồ sơ {r['case']} — trạng thái tại sự kiện {s['seq']}/{r['events']} "
            f"({s['kind']}, {when}, {s['actor']})",
            f"  Trạng thái: {s['status']} {s['status_label']}   Thời hạn: {s['sla_status']}"
            f"   Cờ: {', '.join(s['sla'].get('flags', [])) or '-'}",
        ]
        for label, key in (
            ("Nộp", "submitted_at"),
            ("Hạn tiếp nhận", "receipt_due_at"),
            ("Tiếp nhận", "received_at"),
        ):
            lines.append(f"  {label}: {_local_text(s[key])}")
        lines.append(
            f"  Hẹn trả: {_local_text(s['due_at'])}   Xong: {_local_text(s['finished_at'])}   "
            f"Trả: {_local_text(s['returned_at'])}   Kết quả: {s['outcome'] or '-'}"
        )
        lines.append("  Công việc đang mở:" if s["tasks"] else "  (không có công việc đang mở)")
        lines += [
            f"    - {t['element_id']} [{t['role'] or '-'}] {t['name']}  hạn {_local_text(t['due_at'])}"
            f"  người xử lý {t['assignee'] or '-'}"
            for t in s["tasks"]
        ]
        lines += [f"  Hẹn giờ: {t['element_id']} lúc {_local_text(t['due_at'])}" for t in s["timers"]]
        lines.append(f"  Dữ liệu: {json.dumps(s['data'], ensure_ascii=False)}")
        lines.append(f"  Đường đi: {' → '.join(s['path']) or '-'}")
    d = r["divergence"]
    if d is not None:
        lines.append(f"KHÔNG DỰNG LẠI ĐƯỢC tại sự kiện {d['seq']}: {d['reason']}")
    diff = r["snapshot_differences"]
    if diff is not None:
        if diff:
            lines.append(
                "KHÁC VỚI BẢN LƯU: "
                + "; ".join(f"{k}: dựng lại {a!r}, bản lưu {b!r}" for k, (a, b) in diff.items())
            )
        else:
            lines.append("Khớp với trạng thái hệ thống đang lưu.")
    return "\n".join(lines)


def _local_text(value: str | None) -> str:
    return _local(datetime.fromisoformat(value)) if value else "-"


def _demo(engine: Any) -> dict[str, Any]:
    """A throw-away signing certificate (if the administrator installed none) and the demo dossiers."""
    from engine.demo_data import seed_demo_dossiers
    from engine.demo_pki import make_pki
    from engine.esign import DEFAULT_PKI, SigningConfig

    made: dict[str, Any] = {}
    if engine.signing.cert_path is None:
        make_pki(DEFAULT_PKI, engine.clock.now())
        engine.signing = SigningConfig.from_env()
        made["certificate"] = str(DEFAULT_PKI / "agency.pem")
    made.update(seed_demo_dossiers(engine))
    return made


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["loadtest"]:  # it parses its own options (bench/loadtest.py)
        from bench.loadtest import main as loadtest

        return loadtest(given[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "serve"
    if command == "serve" and not hasattr(args, "host"):
        args = parser.parse_args([*(argv or sys.argv[1:]), "serve"])
    try:
        return dispatch(command, args)
    except MotcuaError as exc:
        code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
        if getattr(args, "json", False):
            print(
                json.dumps(
                    {"error": exc.code, "message": exc.message, "details": exc.details},
                    ensure_ascii=False,
                    default=str,
                ),
                file=sys.stderr,
            )
        else:
            print(f"Lỗi: {exc.message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
