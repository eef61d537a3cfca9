from __future__ import annotations

import pytest

from debtflow.core.conversation.debtor_rules import (
    is_hesitant,
    promised_amount_fen,
    promised_when,
    rule_intent,
    stated_cause,
)
from debtflow.core.conversation.labels import Intent, OverdueCause


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我下周三一定还", Intent.PROMISE_TO_PAY),
        ("我失业了，能不能分期", Intent.ASK_PLAN),
        ("不是不还，是真没钱", Intent.CANNOT_PAY),
        ("我就是不还", Intent.REFUSE),
        ("你们凭什么催我", Intent.REFUSE),
        ("我早就还了你们没入账", Intent.DISPUTE),
        ("你打错了", Intent.WRONG_NUMBER),
        ("我是他媳妇，他出去了", Intent.THIRD_PARTY),
        ("在开车，等会说", Intent.BUSY),
        ("一共欠多少", Intent.ASK_INFO),
        ("嗯嗯好的", Intent.AFFIRM),
    ],
)
def test_phrase_rules_read_the_intent(text: str, intent: Intent) -> None:
    hit = rule_intent(text)
    assert hit is not None and hit[0] is intent


def test_cannot_pay_is_not_mistaken_for_a_promise() -> None:
    hit = rule_intent("这个月真的还不了")
    assert hit is not None and hit[0] is Intent.CANNOT_PAY


def test_affirm_only_when_the_whole_utterance_is_agreement() -> None:
    hit = rule_intent("好的，我明天还")
    assert hit is not None and hit[0] is Intent.PROMISE_TO_PAY


def test_no_rule_for_unrelated_chatter() -> None:
    assert rule_intent("今天天气不错") is None


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("被裁员了一直没找到工作", OverdueCause.UNEMPLOYMENT),
        ("我爸住院花了好多钱", OverdueCause.ILLNESS),
        ("生意亏了", OverdueCause.BUSINESS_DOWNTURN),
        ("离婚了钱都被拿走了", OverdueCause.OTHER),
        ("明天还", None),
    ],
)
def test_stated_cause(text: str, cause: OverdueCause | None) -> None:
    assert stated_cause(text) is cause


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("先还三千块", 300_000),
        ("一千五", 150_000),
        ("两万", 2_000_000),
        ("先还500", 50_000),
        ("还2.5万", 2_500_000),
        # decimal, not binary: 2.675 × 100 is 267.4999… as a float
        ("先还2.675元", 268),
        ("还1.15万", 1_150_000),
        ("15号还", None),
        ("先还一半", None),
    ],
)
def test_promised_amount_is_integer_fen(text: str, fen: int | None) -> None:
    assert promised_amount_fen(text) == fen


def test_promised_when_keeps_the_whole_expression() -> None:
    assert promised_when("行吧，下周五先还三千块") == "下周五"
    assert promised_when("随便") is None


def test_hesitation() -> None:
    assert is_hesitant("我再想想")
    assert not is_hesitant("明天还")


# Concepts added for issue #7, in words that are not lines of the blind blocks.
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("这个卡我在网上买的二手号", Intent.WRONG_NUMBER),
        ("你们搞错人了吧", Intent.WRONG_NUMBER),
        ("行我替他传个话", Intent.THIRD_PARTY),
        ("我每个月都自动扣的咋可能逾期", Intent.DISPUTE),
        ("一次性我实在还不上有别的办法吗", Intent.ASK_PLAN),
        ("兜里就剩二十块了拿啥还", Intent.CANNOT_PAY),
        ("有种你们就来", Intent.REFUSE),
        ("发个还款链接给我", Intent.ASK_INFO),
        ("提前还清有没有手续费", Intent.ASK_INFO),
        ("过会儿打给我", Intent.BUSY),
        ("我得先问问我老公", Intent.OTHER),
        ("喂，你好", Intent.OTHER),
        ("对是我没错", Intent.AFFIRM),
        # widened on the third hand-written training block (other writers' words)
        ("我又不是不想还就是手上真没有", Intent.CANNOT_PAY),
        ("我唔还啊 你告啦", Intent.REFUSE),
        ("钱我早就提前还款了你们再核对一下", Intent.DISPUTE),
        ("我压根没收到过放款", Intent.DISPUTE),
        ("等我把这批货卖出去马上还钱", Intent.PROMISE_TO_PAY),
        ("我是他家属 他现在不方便", Intent.THIRD_PARTY),
        ("而家唔得闲 迟啲倾", Intent.BUSY),
        ("喔 要得要得", Intent.AFFIRM),
        ("你哋边个公司啊", Intent.ASK_INFO),
        ("我根本没钱", Intent.CANNOT_PAY),
        ("我本人现在不方便接电话", Intent.BUSY),
    ],
)
def test_widened_phrase_rules(text: str, intent: Intent) -> None:
    hit = rule_intent(text)
    assert hit is not None and hit[0] is intent, (text, hit)


@pytest.mark.parametrize(
    "text",
    ["我真的没办法一次性还清", "不可能一次性还清", "能不能一次性还清", "一次性还清能减多少"],
)
def test_paying_all_at_once_is_a_promise_only_when_said_as_one(text: str) -> None:
    hit = rule_intent(text)
    assert hit is None or hit[0] is not Intent.PROMISE_TO_PAY, (text, hit)
    assert rule_intent("等月底我一次性还清") == (Intent.PROMISE_TO_PAY, "promise")


def test_early_repayment_is_not_a_promise_and_abuse_needs_the_word() -> None:
    hit = rule_intent("提前还清要多少钱")
    assert hit is not None and hit[0] is Intent.ASK_INFO
    hit = rule_intent("利滚利滚成这样了")
    assert hit is not None and hit[0] is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("我明天还1,500元", 150_000),
        ("我明天还1，500块", 150_000),
        ("我明天还一千零五块", 100_500),
        ("我明天还三百零五块", 30_500),
        ("一万零五块", 1_000_500),
        ("一千五", 150_000),
        ("我的手机号是13800138000，明天还", None),
        ("13800138000块", None),
        ("2025年的账我明天还", None),
        ("我2026年3月还", None),
        ("明天还", None),
    ],
)
def test_promised_amount_needs_money_words_and_reads_separators_and_zero(
    text: str, fen: int | None
) -> None:
    assert promised_amount_fen(text) == fen


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我前两天住院了，没钱还", Intent.CANNOT_PAY),
        ("以前的工资都交房租了，现在失业了", Intent.CANNOT_PAY),
        ("马上还？做梦吧", Intent.REFUSE),
        ("我失业了，不过下周一定还", Intent.PROMISE_TO_PAY),
        ("月底前还", Intent.PROMISE_TO_PAY),
        ("15号之前还清", Intent.PROMISE_TO_PAY),
        ("下周一以前转给你", Intent.PROMISE_TO_PAY),
    ],
)
def test_past_time_inability_and_mockery_are_not_promises(text: str, intent: Intent) -> None:
    hit = rule_intent(text)
    assert hit is not None and hit[0] is intent, (text, hit)
