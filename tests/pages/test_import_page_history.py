"""The console's import page: the 实时/历史 choice goes from the upload through the dry run to
the batch (answered 2019 orders come in closed, nothing dispatched), the dry run counts what
comes in closed, open or refused, and a batch can be cancelled from its page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select, update

from hotline.models import ImportBatch, OutboxMessage, Ticket
from tests.helpers import signed_in, token_of

ADMIN = ("admin", "demo-admin-1")
PAGE = "/console/admin/imports"
HEADER = ["12345工单编号", "12345受理时间", "12345内容描述", "承办单位", "办结时间", "答复意见",
          "诉求是否解决", "回访满意度"]  # fmt: skip
# fmt: off
ROWS = [
    ["SZ20190312000101", "2019-03-12 08:41:07",
     "市民来电反映：和平路菜市场门口每天早上有流动摊贩占道摆卖，影响通行，要求处理。", "市城管局",
     "2019-03-15 16:20", "经核查，城管中队已清理摊点并加强早市巡查。", "已解决", "满意"],
    ["SZ20190313000203", "2019-03-13 21:17:30", "新华里夜市摊点占道经营到深夜，噪音扰民。",
     "市城管局", "2019-03-20 11:00", "已督促夜市管理方规范经营时间。", "未解决", "不满意"],
    ["SZ20190402000318", "2019-04-02 10:05:00", "振兴路人行道被水果摊占用，老人推车无法通过。",
     "市城管局", "2019-04-03 09:30", "已清理占道水果摊。", "已解决", "基本满意"],
    # still open: no 办结时间 in the export
    ["SZ20190405000422", "2019-04-05 14:12:00", "小区门口路灯不亮一个月了，晚上出行不便。",
     "市城管局", "", "", "", ""],
    # refused: answered before the call came in
    ["SZ20190409000530", "2019-04-09 10:00:00", "楼下餐馆油烟很大，影响居民开窗。", "市城管局",
     "2019-03-01 10:00", "已责令餐馆安装油烟净化器。", "", ""],
]
# fmt: on


def export(rows: list[list[str]] = ROWS) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("gb18030")  # as the call centre's Excel saves it


def check(admin, content: bytes, **form: str):
    token = token_of(admin.get(PAGE).get_data(as_text=True))
    return admin.post(PAGE, data={"csrf_token": token, "preset": "auto", **form,
                                  "file": (io.BytesIO(content), "12345办结工单-2019.csv")},
                      content_type="multipart/form-data")  # fmt: skip


def hidden(text: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))


def figure(text: str, label: str) -> int:
    found = re.search(rf"<strong[^>]*>(\d+)</strong><span>{re.escape(label)}</span>", text)
    assert found, label
    return int(found.group(1))


def test_the_upload_form_offers_live_or_history_live_first(app) -> None:
    admin = signed_in(app, *ADMIN)
    text = admin.get(PAGE).get_data(as_text=True)
    assert '<input type="radio" name="mode" value="live" checked>' in text
    assert '<input type="radio" name="mode" value="history">' in text
    assert "派单给单位，开始计时" in text and "已办结的旧工单按原样入库，不派单、不发通知" in text


def test_a_history_import_from_the_console_comes_in_closed(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    checked = check(admin, export(), mode="history")
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200, text
    assert "导入方式" in text and "历史导入" in text
    assert figure(text, "已办结/已关闭") == 3
    assert figure(text, "仍在办理") == 1
    assert figure(text, "被拒绝（不导入）") == 1
    assert "办结时间早于来电时间" in text
    fields = hidden(text)
    assert fields["mode"] == "history"
    started = admin.post("/console/admin/imports/start", data=fields)
    assert started.status_code == 303
    batch_page = started.headers["Location"]
    with db.transaction() as session:
        batch = session.scalars(select(ImportBatch)).one()
        assert (batch.mode, batch.status, batch.created, batch.closed, batch.rejected) == (
            "history", "done", 4, 3, 1)  # fmt: skip
        # imported within the request: the upload is gone, and the batch says since when
        assert batch.file_removed_at is not None and not Path(batch.stored_path).exists()
        statuses = {t.external_ref: t.status for t in session.scalars(select(Ticket))}
        reported = session.scalar(select(Ticket.reported_at)
                                  .where(Ticket.external_ref == "SZ20190312000101"))  # fmt: skip
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert statuses["SZ20190312000101"] == "closed" and reported.year == 2019
    assert sum(s == "closed" for s in statuses.values()) == 3
    assert statuses["SZ20190405000422"] != "closed"
    progress = admin.get(f"{batch_page}/progress").json
    assert (progress["mode"], progress["mode_name"], progress["closed"],
            progress["still_open"], progress["rejected"]) == ("history", "历史导入", 3, 1, 1)
    shown = admin.get(batch_page).get_data(as_text=True)
    assert "历史导入" in shown and figure(shown, "已办结/已关闭") == 3
    assert "取消导入" not in shown  # finished
    listing = admin.get(PAGE).get_data(as_text=True)
    assert '<td data-label="方式">历史</td>' in listing


def test_live_stays_the_default_and_says_so(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    text = check(admin, export(ROWS[:1])).get_data(as_text=True)
    assert "实时导入" in text and "已办结/已关闭" not in text
    assert figure(text, "新建工单") == 1
    assert hidden(text)["mode"] == "live"
    assert admin.post("/console/admin/imports/start", data=hidden(text)).status_code == 303
    with db.transaction() as session:
        assert session.scalar(select(ImportBatch.mode)) == "live"
        assert session.scalar(select(Ticket.status)) != "closed"


def test_an_unknown_mode_is_refused_by_field(app) -> None:
    admin = signed_in(app, *ADMIN)
    refused = check(admin, export(), mode="backfill")
    assert refused.status_code == 422
    assert "请选择实时导入或历史导入" in refused.get_data(as_text=True)


def waiting_batch(app, admin, settings) -> str:
    """A history batch above the inline size: it waits for the background runner."""
    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=256)
    text = check(admin, export(), mode="history").get_data(as_text=True)
    started = admin.post("/console/admin/imports/start", data=hidden(text))
    assert started.status_code == 303
    return started.headers["Location"]


def test_a_waiting_batch_is_cancelled_from_its_page(app, db, settings) -> None:
    admin = signed_in(app, *ADMIN)
    batch_page = waiting_batch(app, admin, settings)
    text = admin.get(batch_page).get_data(as_text=True)
    assert "取消导入" in text and 'id="cancel-import"' in text and "data-confirm" in text
    cancelled = admin.post(f"{batch_page}/cancel", data={"csrf_token": token_of(text)},
                           follow_redirects=True)  # fmt: skip
    page = cancelled.get_data(as_text=True)
    assert cancelled.status_code == 200
    assert "已取消导入批次" in page and "之后的行不会导入" in page
    assert "已取消" in page and 'id="cancel-import"' not in page
    with db.transaction() as session:
        batch = session.scalars(select(ImportBatch)).one()
        assert (batch.status, batch.rows_done) == ("cancelled", 0)
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    progress = admin.get(f"{batch_page}/progress").json
    assert (progress["status_name"], progress["finished"]) == ("已取消", True)
    assert '<span class="badge muted">已取消</span>' in admin.get(PAGE).get_data(as_text=True)


def test_a_running_batch_shows_cancelling_until_its_chunk_ends(app, db, settings,
                                                               clock) -> None:  # fmt: skip
    admin = signed_in(app, *ADMIN)
    batch_page = waiting_batch(app, admin, settings)
    with db.transaction() as session:  # a runner has it, with a live lease
        session.execute(update(ImportBatch).values(status="running", rows_done=2,
                                                   started_at=clock.now,
                                                   lease_until=clock.now.replace(year=2027)))
    token = token_of(admin.get(batch_page).get_data(as_text=True))
    asked = admin.post(f"{batch_page}/cancel", data={"csrf_token": token}, follow_redirects=True)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "已请求取消导入批次" in page
    assert "取消中" in page and 'id="cancel-import"' not in page
    progress = admin.get(f"{batch_page}/progress").json
    assert (progress["status"], progress["status_name"], progress["cancelling"]) == (
        "running", "取消中", True)  # fmt: skip
    with db.transaction() as session:
        assert session.scalar(select(ImportBatch.cancel_requested_at)) is not None


def test_cancelling_a_finished_batch_says_so_kindly(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    text = check(admin, export(), mode="history").get_data(as_text=True)
    batch_page = admin.post("/console/admin/imports/start",
                            data=hidden(text)).headers["Location"]  # fmt: skip
    token = token_of(admin.get(batch_page).get_data(as_text=True))
    late = admin.post(f"{batch_page}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert late.status_code == 200
    assert "已结束（已完成），无法取消" in late.get_data(as_text=True)
    with db.transaction() as session:
        batch = session.scalars(select(ImportBatch)).one()
        assert (batch.status, batch.cancel_requested_at) == ("done", None)
    assert admin.post("/console/admin/imports/999/cancel",
                      data={"csrf_token": token}).status_code == 404  # fmt: skip


def test_a_removed_upload_is_named_and_its_refused_rows_still_download(app, db,
                                                                        clock) -> None:  # fmt: skip
    admin = signed_in(app, *ADMIN)
    text = check(admin, export(), mode="history").get_data(as_text=True)
    batch_page = admin.post("/console/admin/imports/start",
                            data=hidden(text)).headers["Location"]  # fmt: skip
    with db.transaction() as session:
        session.execute(update(ImportBatch).values(file_removed_at=clock.now))
    shown = admin.get(batch_page).get_data(as_text=True)
    assert "删除（保留期满）" in shown and "未导入的行仍可下载" in shown
    download = admin.get(f"{batch_page}/rejected.csv")
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert download.status_code == 200 and rows[1][0] == "SZ20190409000530"
