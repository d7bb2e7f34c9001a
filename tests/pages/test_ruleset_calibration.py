"""A learned ruleset's page shows its calibration: the held-out reliability table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete

from hotline.models import RulesetRecord
from hotline.services.rulesets import create_ruleset
from routing.learn import LearnOptions, learn_with_report
from tests.helpers import signed_in

LETTERS = {
    "拖欠工资": ["公司拖欠工资三个月", "老板不发工资还拖欠加班费", "工地欠薪农民工讨薪无门",
                 "单位不交社保还拖欠工资", "离职后工资一直不结", "加班费拖欠不给"],
    "占道经营": ["门口有人摆摊占道经营", "夜市摊贩占道经营堵路", "流动摊贩在人行道摆摊",
                 "店铺出店经营占用人行道", "路口有人摆地摊卖菜", "烧烤摊占道经营到深夜"],
}  # fmt: skip


def test_a_learned_rulesets_page_shows_the_reliability_table(app, db) -> None:
    texts = [t for letters in LETTERS.values() for t in letters] * 3
    labels = [label for label, letters in LETTERS.items() for _ in letters] * 3
    ruleset, report = learn_with_report(texts, labels, name="校准页面测试",
                                        options=LearnOptions(min_df=1))  # fmt: skip
    with db.transaction() as session:
        record = create_ruleset(session, ruleset.to_dict(), source="learn",
                                now=datetime.now(UTC))  # fmt: skip
        record_id = record.id
    try:
        page = signed_in(app, "admin", "demo-admin-1").get(f"/console/admin/routing/{record_id}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "置信度校准（留出样本）" in text
        assert f"学习时把 {len(texts)} 条样本分成 5 份" in text
        low, high, rows, right = report.reliability[-1]
        assert f"<td>{low:.2f}–{high:.2f}</td><td>{rows}</td><td>{right * 100:.1f}%</td>" in text
    finally:
        with db.transaction() as session:
            session.execute(delete(RulesetRecord).where(RulesetRecord.id == record_id))
