"""Demo 准入 requests and notice-board postings: a few departments' tasks
over the last two months (some on the negative list, declined with a
notice), the station's lists posted, a 低保 posting in its 公示期 and one
financial posting left up past its off date."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from db.engine import Database
from db.models import Posting
from desktop.services import postings, workitems
from desktop.services.context import Actor

# (department, what they asked, a word that finds the list entry; "" = on no list)
REQUESTS = (
    ("区城市管理局", "请社区作为责任主体，月底前完成辖区违法建设拆除，每周报送进度", "拆违"),
    ("区统计局", "协助开展2026年全国经济普查入户登记", "经济普查"),
    ("街道民政办", "低保家庭年度复核入户调查", "低保"),
    ("区市场监管局", "请社区对辖区餐饮店开展食品安全检查并上报检查台账", "台账"),
    ("区应急管理局", "汛期防汛避险宣传，转发预警信息", "防汛"),
    ("区某创建办", "组织居民为“文明示范小区”评选网络投票，每户不少于3票", "投票"),
    ("区税务局", "请社区完成辖区个体户协税护税任务指标", "协税护税"),
    ("区卫生健康委", "协助做好老年人流感疫苗接种宣传动员", "爱国卫生"),
    ("区住建局", "请社区每月填报辖区物业小区安全生产检查报表", ""),
    ("区退役军人事务局", "春节前走访慰问辖区优抚对象", "优抚对象"),
)


def fill_postings(db: Database, admin: Actor, desk: Actor, *, seed: int = 1) -> dict[str, Any]:
    r = random.Random(seed)
    items = workitems.catalogue(db)
    today = postings.today()
    made = {"requests": 0, "declined": 0, "postings": 0}
    for i, (dept, content, word) in enumerate(REQUESTS):
        item = workitems.search(items, word)[0] if word else None
        row = workitems.record_request(
            db,
            desk,
            department=dept,
            content=content,
            received_on=today - timedelta(days=3 + 6 * i + r.randrange(0, 4)),
            item_id=item.id if item else None,
        )
        made["requests"] += 1
        made["declined"] += row.outcome == "declined"
    for source in ("certificates", "work_items", "matters"):
        pid = postings.post_list(db, admin, source, on_date=today - timedelta(days=5))
        postings.mark_up(db, desk, pid)
        made["postings"] += 1
    low = postings.create(
        db,
        admin,
        title=f"{today.year}年{today.month}月最低生活保障拟纳入对象公示",
        body="经本人申请、入户调查和民主评议，以下家庭拟纳入最低生活保障，现予公示：\n"
        "1. 刘某某，家庭人口 2 人，示范小区 3 栋\n2. 陈某某，家庭人口 1 人，示范小区 12 栋\n"
        "公示期内对上述家庭情况有异议的，请向社区居民委员会反映。",
        category="affairs",
        on_date=today - timedelta(days=2),
        period_days=7,
    )
    postings.mark_up(db, desk, low)
    old = postings.create(
        db,
        admin,
        title=f"{today.year}年第三季度社区经费收支公开",
        body="一、收入\n1. 上级拨付社区工作经费 60,000.00 元\n2. 党组织服务群众经费 20,000.00 元\n"
        "二、支出\n1. 办公用品及打印 6,420.00 元\n2. 为民服务活动 18,300.00 元\n"
        "3. 水电及网络 4,980.00 元",
        category="finance",
        on_date=today - timedelta(days=45),
        off_date=today - timedelta(days=15),
    )
    postings.mark_up(db, desk, old)
    with db.session() as s:  # it went up on its date and nobody took it down: overdue
        p = s.get(Posting, old)
        assert p is not None and p.posted_at is not None
        p.posted_at -= timedelta(days=45)
    made["postings"] += 2
    postings.create(
        db,
        admin,
        title="党员发展对象公示",
        body="拟将张某某同志列为发展对象，公示期 5 天。",
        category="party",
        on_date=today,
        period_days=5,
    )
    made["postings"] += 1
    return made
