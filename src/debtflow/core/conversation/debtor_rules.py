"""High-precision phrase rules for debtor intent, overdue cause, promises and hesitation.

Rules are tried in order; the first intent rule that matches wins over the statistical model
(see `intent.py`).  The order encodes which reading wins when several cues appear, e.g.
"失业了，能不能分期" is a request for a plan, not a plain "cannot pay".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from debtflow.core.conversation.labels import Intent, OverdueCause

_HE = r"(?<![其])[他她]"
_REL = (
    r"(老婆|老公|媳妇|丈夫|妻子|妈|爸|母亲|父亲|儿子|女儿|同事|朋友|领导"
    r"|室友|姐|哥|弟|妹|家人|亲戚|邻居)"
)
_WHEN = (
    r"((下|这)(个)?(周|礼拜|星期)[一二三四五六日天末]?|周[一二三四五六日末]|(星期|礼拜)[一二三四五六日天]"
    r"|今天|今晚|晚上|下午|上午|中午|明天|明儿|大后天|后天|月底|月初|下个?月|\d+号|[一二三四五六七八九十]+号"
    r"|过两天|这两天|过几天|几天后|马上|立刻|立马|现在就|等下|等会|一会|待会|回头|发了?工资|工资.{0,4}发"
    r"|年终奖|之前|以前|前)"
)
_PAY = r"(还|转|打过去|打款|打给你|处理|结清|交|存进去|还上|还清|还掉)"


@dataclass(frozen=True)
class IntentRule:
    name: str
    intent: Intent
    pattern: re.Pattern[str]


def _rule(name: str, intent: Intent, pattern: str) -> IntentRule:
    return IntentRule(name, intent, re.compile(pattern, re.IGNORECASE))


INTENT_RULES: tuple[IntentRule, ...] = (
    _rule(
        "wrong-number",
        Intent.WRONG_NUMBER,
        r"打错|找错人|不认识|没(有)?这(个)?人|新(办|买|换)的|号码?换人|不是(他|她)的(电话|号)|我不姓",
    ),
    _rule(
        "third-party-relation",
        Intent.THIRD_PARTY,
        rf"[我俺]是{_HE}的?{_REL}|[我俺]是.{{1,4}}的{_REL}|{_HE}(人)?(不在|出去|出门|去(了)?外地|在(上班|睡觉|工地|外地|上课)"
        rf"|手机落|没带手机|住院|喝多|请假|不住这|好久没回)|转告{_HE}|紧急联系人|跟{_HE}不熟|不知道{_HE}在哪"
        rf"|{_HE}.{{0,2}}(去上课|在睡觉)|找{_HE}(干|做|有|什么)",
    ),
    _rule(
        "dispute",
        Intent.DISPUTE,
        r"没(有)?借过|不是我借|不是我办|没(用|贷)过|(?<!钱)(早|已经)(就)?(还|结清)(了|过)|结清了|没入账|金额不对|数不对"
        r"|账不对|利息.{0,4}(太|这么|那么)?(高|多)(?!少)|高利贷|砍头息|不合法|不合理|冒用|身份证丢|乱收费|不认|跟我没关系"
        r"|合同有问题|系统有问题|明明.{0,4}还了|还了一部分|什么贷款(?!逾期)|拿我信息|怎么欠这么多|看借款合同|不知道.{0,2}(借|贷)",
    ),
    _rule(
        "ask-plan",
        Intent.ASK_PLAN,
        r"分期|分.{0,3}期|分成|宽限|延期|缓(一缓|几天|几个月|缓|一下)|减免|(?<!最)少还|只还本金|免(息|罚息|掉)|罚息.{0,2}免"
        r"|方案|计划|慢慢还|先还(最低|利息)|停息|挂账|协商|打折|再还行|下个?月再还|找到工作再还|违约金.{0,3}去"
        r"|每个月还.{0,4}(少|几百)|再给我.{0,3}(几天|时间)|能不能.{0,4}(晚|缓)|最低还款",
    ),
    _rule(
        "cannot-pay-willing",
        Intent.CANNOT_PAY,
        r"不是不还|也想还|有钱.{0,2}(早|肯定|就)|要是有钱|哪有钱|哪来的钱|拿什么还",
    ),
    _rule(
        "refuse-abuse",
        Intent.REFUSE,
        r"滚|神经病|有病|傻[xX逼b比]|去你|你妈|他妈的|老子|骗子|烦不烦|有完没完|算什么东西|还个屁|要命一条"
        r"|死催|脑子有病|王八|混蛋|凭什么|打什么打",
    ),
    _rule(
        "refuse",
        Intent.REFUSE,
        r"(?<!不是)(?<!想)不(会|想|打算)?还(?![不没])|就不还|别(再)?(给我)?打|再打.{0,6}(投诉|报警|拉黑)|拉黑|投诉你|骚扰"
        r"|告我|起诉吧|来抓我|爱(咋|怎么)|随便你|一分钱都不|没打算还|不想跟你说|不需要",
    ),
    _rule(
        "promise",
        Intent.PROMISE_TO_PAY,
        rf"{_WHEN}.{{0,10}}{_PAY}(?![不没])|(一定|肯定|保证|会|尽快|尽量|马上)(会)?{_PAY}(?![不没])"
        rf"|钱.{{0,4}}(准备好|凑)|不会赖账|先还.{{0,4}}(一部分|一半|\d+|[一二两三四五六七八九]\S?[千百])",
    ),
    _rule(
        "cannot-pay",
        Intent.CANNOT_PAY,
        r"没(有)?钱|莫得钱|冇钱|木有钱|没收入|还不(上|了|起)|拿不出|没(有)?工作|失业|揭不开锅|周转不|穷|一分钱都没"
        r"|比脸都干净|资金链|亏|赔了|住院|生病|看病|手术|不够|没发|手(头|里|上)(有点|比较|很)?紧",
    ),
    _rule(
        "busy",
        Intent.BUSY,
        r"开会|开车|在忙|忙(着|呢|忙)|不方便|晚点|回头(再)?说|等(下|会)(儿)?(回|打|说)|(?<!没)上班|上课|下班(了)?再|没空"
        r"|接不了|给你回|再打吧|在外面|在做饭|带孩子|高速|排队|地铁",
    ),
    _rule(
        "ask-info",
        Intent.ASK_INFO,
        r"多少|哪(天|里|位|个|笔|家)|什么(时候|事|贷款|平台)|你是谁|谁啊|怎么还|在哪还|咋还|账户|账号|工号|会怎么样"
        r"|怎么有我|啥事|干嘛|你们是|名字|短信|能用.{0,4}还",
    ),
    _rule(
        "affirm",
        Intent.AFFIRM,
        r"^(嗯|对|是|好|行|可以|知道了|明白|收到|ok|没问题|中|晓得了|我是|是本人|好的|好吧|没错|是啊|对的)"
        r"[嗯对是好的吧啊哈呢嘛了行我就本人，,。.!！\s]*$",
    ),
)

HESITANT = re.compile(r"想想|考虑|再说|看情况|到时候|不确定|不一定|再看|犹豫")

CAUSE_RULES: tuple[tuple[OverdueCause, re.Pattern[str]], ...] = (
    (
        OverdueCause.ILLNESS,
        re.compile(
            r"住院|生病|病了|看病|手术|化疗|癌|脑梗|怀孕|车祸|受伤|骨折|医药费|治病|在医院(?!排队)"
        ),
    ),
    (
        OverdueCause.UNEMPLOYMENT,
        re.compile(
            r"失业|没(有)?工作|工作.{0,4}没找到|工作(丢|没)了|裁员|被裁|下岗|没上班|找不到工作|没找到工作|不要我了|开除|辞退|没收入"
        ),
    ),
    (
        OverdueCause.BUSINESS_DOWNTURN,
        re.compile(
            r"生意|亏|赔了|店.{0,3}(开不下去|关|倒闭)|关门|货款|资金链|停工|行情|账.{0,2}收不回|周转不开|厂子"
        ),
    ),
    (
        OverdueCause.OTHER,
        re.compile(r"离婚|被骗|骗了|赌|家里出.{0,2}事|孩子上学|学费|房贷|担保|借给别人|被偷"),
    ),
)


def rule_intent(text: str) -> tuple[Intent, str] | None:
    """The first matching intent rule as (intent, rule name), or None."""
    for rule in INTENT_RULES:
        if rule.pattern.search(text):
            return rule.intent, rule.name
    return None


def stated_cause(text: str) -> OverdueCause | None:
    for cause, pattern in CAUSE_RULES:
        if pattern.search(text):
            return cause
    return None


def is_hesitant(text: str) -> bool:
    return HESITANT.search(text) is not None


_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_AMOUNT = re.compile(
    r"(\d+(?:\.\d+)?)\s*(万|千|块|元|百)?|([零一二两三四五六七八九十百千万]+)(块|元|万)?"
)


def _chinese_number(text: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    if digit is not None:
        # 一千五 = 1500: a trailing digit after a unit means one place lower
        last_unit = next((_UNITS[c] for c in reversed(text) if c in _UNITS), None)
        section += digit * (last_unit // 10 if last_unit and last_unit >= 100 else 1)
    return total + section


def promised_amount_fen(text: str) -> int | None:
    """An amount in yuan said in the utterance ("三千块", "1500", "两万"), as integer fen."""
    for match in _AMOUNT.finditer(text):
        if match.group(1):
            value = float(match.group(1))
            unit = match.group(2) or ""
            if unit == "" and value < 50:
                continue  # "15号", "3期": not money
            scale = {"万": 10000, "千": 1000, "百": 100}.get(unit, 1)
            return int(round(value * scale * 100))
        word = match.group(3)
        if word and (match.group(4) or any(u in word for u in "百千万")):
            number = _chinese_number(word)
            if number:
                return number * (10000 if match.group(4) == "万" else 1) * 100
    return None


_WHEN_RE = re.compile(_WHEN)


def promised_when(text: str) -> str | None:
    """The time expression of a promise as said ("明天", "15号"), or None."""
    match = _WHEN_RE.search(text)
    return match.group(0) if match else None
