"""A small hand-written ruleset for engine tests (no database)."""

from __future__ import annotations

import pytest

from routing.classifier import Router
from routing.rules import Unit, load_yaml

UNITS = {
    "dept-cgj": Unit("dept-cgj", "城管局", "department"),
    "dept-jj": Unit("dept-jj", "交警支队", "department"),
    "dept-hb": Unit("dept-hb", "生态环境局", "department"),
    "dist-a": Unit("dist-a", "文明区", "district"),
    "st-a": Unit("st-a", "和平街道", "street", "dist-a"),
    "cm-a": Unit("cm-a", "和平新村社区", "community", "st-a"),
    "grid-a1": Unit("grid-a1", "和平新村第一网格", "grid", "cm-a"),
    "st-b": Unit("st-b", "新华街道", "street", "dist-a"),
}

RULESET_YAML = """
name: 测试规则
threshold: 0.6
rules:
  - label: 占道经营
    category: street-vending
    lead_unit: dept-cgj
    territorial: true
    keywords:
      占道经营: 3
      流动摊贩: 2.5
      摆摊: 2
      网购: -2
  - label: 乱停乱放
    category: illegal-parking
    lead_unit: dept-jj
    co_units: [dept-cgj]
    keywords:
      乱停乱放: 3
      停车: 1
      共享单车: -2
  - label: 噪音扰民
    category: noise
    lead_unit: dept-hb
    keywords:
      噪音: 2
      吵得: 1.5
  - label: 施工噪音
    category: construction
    lead_unit: dept-hb
    keywords:
      噪音: 2
  - label: 无主规则
    keywords:
      飞线充电: 3
places:
  - name: 和平新村
    unit: grid-a1
    aliases: [和平新村小区]
    lat: 30.2741
    lng: 120.1551
  - name: 和平路
    unit: st-a
  - name: 新华大街
    unit: st-b
    lat: 30.30
    lng: 120.17
  - name: 和平菜市场
    unit: cm-a
"""


@pytest.fixture(scope="session")
def ruleset():
    return load_yaml(RULESET_YAML, units=UNITS)


@pytest.fixture(scope="session")
def router(ruleset):
    return Router(ruleset)
