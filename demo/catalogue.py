"""The demo city's fixed catalogue: its counties, sites and skills, the names its places, people and businesses
take, its prices and seasons, and how large its grid is for a number of customers. Plain values, no I/O."""

from __future__ import annotations

import random

from crm.tiers import CustomerClass

SEED = 95598
DEFAULT_CUSTOMERS = 100_000
CITY = "江州市"
# (code, name): the code is also the first two digits of the county's account numbers.
COUNTIES = (("31", "城东区"), ("32", "城西区"), ("33", "江北县"), ("34", "临溪县"), ("35", "青山县"), ("36", "白沙县"))
# Two-character place names for substations, feeders, roads and businesses.
_PLACE_TEXT = (
    "东湖西山南塘北关青石白马金桥柳岸桃源松林梅溪竹园凤凰龙泉新港"
    "望江石门云溪花园长乐永安丰收红旗解放人民建设和平光明胜利文化"
)
PLACES = tuple(_PLACE_TEXT[i : i + 2] for i in range(0, len(_PLACE_TEXT), 2))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平刚桂兰玉霞红梅志文斌辉鹏宇浩婷雪琳晨"
BUSINESSES = ("超市", "餐馆", "理发店", "药店", "五金店", "服装店", "酒店", "茶楼", "便利店", "汽修厂")
INDUSTRIES = ("机械厂", "纺织厂", "水泥厂", "食品厂", "化工厂", "造纸厂", "电子厂", "铸造厂", "塑料厂", "钢构厂")
CRITICAL = ("人民医院", "中医院", "自来水厂", "污水处理厂", "妇幼保健院", "供水公司", "燃气公司", "数据中心")
# Mobile prefixes; 139 is left out because the test harness calls in from 139 numbers.
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "150", "151", "155", "158", "186", "188")
SKILLS = (
    ("billing", "电费查询"),
    ("outage", "停电信息"),
    ("repair", "故障报修"),
    ("business", "业扩报装"),
    ("complaint", "投诉"),
    ("key_account", "大客户服务"),
    ("english", "英语服务"),
)
# (code, name, county code or None for the central centre, seats, agents)
SITES = (
    ("central", f"{CITY}95598客服中心", None, 40, 12),
    ("chengxi", "城西供电公司远程座席", "32", 8, 4),
    ("jiangbei", "江北供电公司远程座席", "33", 8, 4),
    ("qingshan", "青山供电公司远程座席", "35", 8, 4),
)
# Price per kWh in hundredths of a fen, by class (the catalogue tariff's order of magnitude).
PRICE = {
    CustomerClass.RESIDENTIAL: 5283,
    CustomerClass.COMMERCIAL: 6810,
    CustomerClass.INDUSTRIAL: 6120,
    CustomerClass.CRITICAL_LOAD: 6540,
}
# How much more is used in each calendar month than on average: air conditioning in summer, heating in winter.
SEASON = (1.3, 1.2, 1.0, 0.85, 0.9, 1.1, 1.45, 1.5, 1.1, 0.9, 0.95, 1.2)
PAYMENT_CHANNELS = ("bank_debit", "wechat", "alipay", "app", "counter")
DISPOSITIONS = (("bill", 40), ("outage", 20), ("repair", 15), ("business", 8), ("consultation", 12), ("complaint", 5))
CHAIN_STORE_ACCOUNTS = 12
# A bill is issued on the 3rd of the month after the one billed and falls due this many days later.
BILL_DUE_DAYS = 22
# How often each kind of payer pays a bill after its due date.
LATE_CHANCE = {"punctual": 0.0, "usually": 0.15, "late": 0.6, "arrears": 0.4}


def grid_size(customers: int) -> tuple[int, int, int]:
    """(substations, feeders, transformer areas) for a city of `customers`: about 25 customers per transformer
    area, 18 areas per feeder, 10 feeders per substation, and never fewer than two substations per county and
    two feeders per substation, so that every feeder has a neighbour."""
    areas = max(48, customers // 25)
    feeders = max(24, areas // 18)
    return max(12, feeders // 10), feeders, areas


def person_name(rng: random.Random) -> str:
    """A Chinese name: a surname and one given character, or two (seven times in ten)."""
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given
