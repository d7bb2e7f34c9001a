"""The import check page says which column of a real 12345 export was taken for which
field, names the handling-result columns and the unknown 诉求类型 values; the ticket page
shows the order kind the export carried."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from hotline.models import Ticket
from tests.helpers import signed_in, token_of
from tests.services.test_import_real_headers import HEADER, ROWS

ADMIN = ("admin", "demo-admin-1")


def upload(admin):
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *ROWS])
    token = token_of(admin.get("/console/admin/imports").get_data(as_text=True))
    return admin.post("/console/admin/imports",
                      data={"csrf_token": token, "preset": "auto",
                            "file": (io.BytesIO(out.getvalue().encode("gb18030")),
                                     "12345导出-2019.csv")},
                      content_type="multipart/form-data")  # fmt: skip


def test_the_check_page_shows_the_column_mapping_and_the_order_kind_lands(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    checked = upload(admin)
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200, text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>→ ([^<]+)</td></tr>", text)
    assert ("12345工单编号", "工单编号") in rows and ("12345内容描述", "诉求内容") in rows
    assert ("【工单类型】", "工单性质") in rows and ("诉求类型", "诉求类型") in rows
    assert "办理结果列（仅历史导入读取，本次未导入）：答复意见、回访满意度" in text
    assert "诉求类型“占道摆卖”不是已知类别：2 行，已按内容自动分类" in text
    assert "未识别的列" not in text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))
    assert admin.post("/console/admin/imports/start", data=fields).status_code == 303
    with db.transaction() as session:
        number = session.scalar(
            select(Ticket.number).where(Ticket.external_ref == "SZ20190312000102")
        )
    page = admin.get(f"/console/tickets/{number}").get_data(as_text=True)
    assert "<dt>工单性质</dt><dd>求助</dd>" in page
