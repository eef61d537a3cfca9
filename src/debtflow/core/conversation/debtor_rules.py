"""High-precision phrase rules for debtor intent, overdue cause, promises and hesitation.

Rules are tried in order; the first intent rule that matches wins over the statistical model
(see `intent.py`).  The order encodes which reading wins when several cues appear, e.g.
"失业了，能不能分期" is a request for a plan, not a plain "cannot pay".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from debtflow.core.conversation.labels import Intent, OverdueCause

_HE = r"(?<![其])[他她]"
_REL = (
    r"(老婆|老公|媳妇|丈夫|妻子|妈|爸|母亲|父亲|儿子|女儿|同事|朋友|领导"
    r"|室友|姐|哥|弟|妹|家人|亲戚|邻居|房东|房客|同学|表哥|表姐|表弟|表妹|堂哥|堂姐|前妻|前夫"
    r"|舅|叔|姨|姑|外甥|侄子|老板|员工|家里人|婆婆|公公|岳父|岳母|丈母娘|老丈人|闺蜜|女婿|儿媳)"
)
_WHEN = (
    r"(((下|这)(个)?(周|礼拜|星期)[一二三四五六日天末]?|周[一二三四五六日末]|(星期|礼拜)[一二三四五六日天]"
    r"|今天|今晚|晚上|下午|上午|中午|明天|明儿|明早|明晚|今早|一早|一上班|下班(后|以后)?|大后天|后天|月底|月初|下个?月|\d+号|[一二三四五六七八九十]+号"
    r"|过两天|这两天|过几天|几天后|马上|立刻|立马|现在就|等下|等会|一会|待会|回头|发了?工资|工资.{0,4}发"
    r"|年终奖|[\d一二两三四五六七八九十]+点(半|钟)?)(之前|以前|前)?"
    r"|(过年|春节|国庆|中秋|端午|元旦|年)(之前|以前|前))"
)
_AFFIRM_WORD = (
    r"(嗯|对|是|好|行|可以|知道了|明白|收到|ok|没问题|中|晓得|我是|是本人|好的|好吧|没错|是啊|对的"
    r"|系我|系啊|是额|要得|了解|记下了|(我)?听着(呢)?|你说(吧)?)"
)
# 之前/以前/前 only as a deadline after a time ("月底前"): alone they are the past ("前两天")
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
        r"打错|找错人|不认识|不认得|认错人|没(有)?这(个)?人|新(办|买|换)的|号码?换人|不是(他|她)的(电话|号)|我不姓"
        r"|(弄|搞|拨)错(了)?(号|电话|人)|拨错|(号|号码|卡)(以前|之前)是谁|二手(的)?(号|卡)|买的二手"
        r"|前(一个)?机主|没听说过.{0,3}人|(这|这里|这儿|我们这|这边)(儿|里)?没(有)?(叫|姓)",
    ),
    _rule(
        "third-party-relation",
        Intent.THIRD_PARTY,
        rf"[我俺]是{_HE}的?{_REL}|[我俺]是.{{1,4}}的{_REL}|{_HE}(人)?(不在|出去|出门|去(了)?外地|在(上班|睡觉|工地|外地|上课|月子|医院|国外|里面|洗澡|开会)"
        rf"|手机落|没带手机|住院|喝多|请假|不住这|好久没回)|转告{_HE}|紧急联系人|跟{_HE}不熟|不知道{_HE}在哪"
        rf"|{_HE}.{{0,2}}(去上课|在睡觉)|找{_HE}(干|做|有|什么)"
        rf"|(帮你|替你|给你)(跟|和|转告|告诉|带话给|说给){_HE}|(给|帮|替){_HE}((带|传)个?话|转告|说一声)|让{_HE}.{{0,4}}(回|打|联系)(给)?(你|过去|电话)"
        rf"|{_HE}(人)?.{{0,3}}(搬走|打工|出差|坐月子|在外面|在里面|不回来|回老家|出国)"
        rf"|找[我俺](的)?{_REL}(干|做|有|什么|啥)"
        rf"|机主(本人)?.{{0,4}}(不方便|不在|没空)|[我俺]是.{{0,6}}家属|[我俺](可以|来|帮你|帮您|给你)?转达"
        rf"|(喊|叫){_HE}.{{0,4}}(来)?接",
    ),
    _rule(
        "dispute",
        Intent.DISPUTE,
        r"没(有)?借过|不是我借|不是我办|没(用|贷)过|(?<!钱)(早|已经)(就)?(还|结清)(了|过)|结清了|没入账|金额不对|数不对"
        r"|账不对|利息.{0,4}(太|这么|那么)?(高|多)(?!少)|高利贷|砍头息|不合法|不合理|冒用|身份证丢|乱收费|不认|跟我没关系"
        r"|合同有问题|系统有问题|明明.{0,10}(还了|还清|结清)|多(扣|收|算)了?我?|哪(来|有)的.{0,3}(笔|欠款|贷款|借款|债)|还了一部分|什么贷款(?!逾期)|拿我信息|怎么欠这么多|看借款合同|不知道.{0,2}(借|贷)"
        r"|怎么(会|还)(逾期|欠|显示|有(?![我俺]))|自动扣(款|的)|说好(了)?的?.{0,10}(怎么|又|现在)|(凭什么|怎么)(现在)?又(要|让)"
        r"|你们自己(去)?查|利滚利|(已经|早就?)注销|转(给|到)(了)?你们.{0,8}(员工|业务员|个人|的人)"
        r"|(根本|压根|从来)(就)?没(有)?(借|贷|收到|拿到|用过|下过|办过|申请过)"
        r"|(根本|压根)(就)?不(知道|晓得)((这|有|啥|什么)(笔|回事|事|贷款|借款|钱)|[\s，,。!！]*$)|(提前|已经|早就)还(款|清)了"
        r"|怎么还说.{0,3}(逾期|欠)|没(有)?(收到|拿到)(过)?(放款|贷款|借款|钱)|(什么|啥)时候借过",
    ),
    _rule(
        "ask-plan",
        Intent.ASK_PLAN,
        r"分期|分.{0,3}期|分成|宽限|延期|缓(一缓|几天|几个月|缓|一下)|减免|(?<!最)少还|只还本金|免(息|罚息|掉)|罚息.{0,2}免"
        r"|方案|计划|慢慢还|打.{0,2}折|剩下的.{0,8}(可以|行)(吗|不)|先还(最低|利息)|停息|挂账|协商|打折|再还行|下个?月再还|找到工作再还|违约金.{0,3}去"
        r"|每个月还.{0,4}(少|几百)|再给我.{0,3}(几天|时间)|能不能.{0,4}(晚|缓)|最低还款"
        r"|一次性.{0,6}(拿不出|还不(了|上|起|清))|(别的|其他|其它)(的)?(还法|还款方式|办法|方式)"
        r"|宽(限)?我|再宽|往后(挪|推|延)|推迟|延后|拆(成|开)|(再)?拖(到|一下|几天|个把月).{0,12}(行|好|可以|伐|吧|吗|么|不)|有没有.{0,10}(还|分|减|缓).{0,4}(办法|方式|政策)",
    ),
    _rule(
        "cannot-pay-willing",
        Intent.CANNOT_PAY,
        r"不是(我)?不(想|肯|愿意)?还|也想还|有钱.{0,2}(早|肯定|就)|要是有钱|哪有钱|哪来的钱|拿什么还"
        r"|还怎么还|拿(啥|什么)(去)?还|用(啥|什么)还|怎么还得(起|上|了)|就剩.{0,6}(块|毛)",
    ),
    _rule(
        "refuse-abuse",
        Intent.REFUSE,
        r"(?<!利)滚(?!利)|神经病|有病|傻[xX逼b比]|去你|你妈|他妈的|老子|骗子|烦不烦|有完没完|算什么东西|还个屁|要命一条"
        r"|死催|脑子有病|王八|混蛋|凭什么|打什么打",
    ),
    _rule(
        "refuse",
        Intent.REFUSE,
        r"(?<!不是)(?<!想)(?<!想过)[不唔](会|想|打算)?还(?![不没])|就不还|别(来|再)?烦我|别(再)?(给我)?打|再打.{0,6}(投诉|报警|拉黑)|拉黑|投诉你|骚扰"
        r"|告我|起诉吧|来抓我|甭想|门都没有|想都别想|没门|爱(咋|怎么)|随便你|一分钱都不|没打算还|不想跟你说|不需要|有(本事|种|能耐)"
        r"|做(你的|你|白日|春秋大)?梦|想(得|的)(倒)?美|美(得|死)你",
    ),
    _rule(
        "cannot-pay-explicit",
        Intent.CANNOT_PAY,
        r"(没(有)?钱(还|给)|失业|(没(有)?|丢了?)(工作|收入))(?!.*(但|不过|可是))",
    ),
    _rule(
        "busy-call-later",
        Intent.BUSY,
        r"(晚点|晚些|晚一点|过会儿?|一会儿?|待会儿?|等会儿?|回头)(再)?(打|联系|回)(给我|给你|过来|我|你)(?!们)"
        r"|(回头|等会儿?|晚点|待会儿?|明天|白天|改天)(再)?(说|聊|联系)",
    ),
    _rule(
        "promise",
        Intent.PROMISE_TO_PAY,
        rf"{_WHEN}.{{0,10}}{_PAY}(?![不没])|(一定|肯定|保证|会|尽快|尽量|马上)(会)?{_PAY}(?![不没])"
        rf"|钱.{{0,4}}(准备好|凑)|不会赖账"
        rf"|(?<![没不]办法)(?<!不可能)(?<!没法)(?<!不能)(?<!能不能)一次性(还清|结清|还上|还掉)(?!.{{0,4}}(不|没|吗|么|能|可以|减|多少|\?|？))"
        rf"|等.{{1,14}}(就|马上|立马|第一时间|头一件事就是|拿来)(拿来)?(还|还钱|还清|还上)(?![不没])|先还.{{0,4}}(一部分|一半|\d+|[一二两三四五六七八九]\S?[千百])",
    ),
    _rule(
        "ask-info-specific",
        Intent.ASK_INFO,
        r"链接|二维码|收款码|用.{0,6}(微信|支付宝|银行卡|app|网银|现金).{0,3}还.{0,4}(吗|么|嘛|不|啊)"
        r"|(微信|支付宝).{0,4}(还|转|付).{0,3}(吗|么|嘛|行不)"
        r"|有没有(违约金|手续费|利息|罚息)|怎么证明|哪一?笔(啊|呀|吗|\?|？)|(为啥|为什么|怎么)(会)?(有|知道|打(到|给)了?)[我俺]"
        r"|(逾期|欠|借|拖)(了)?(几|多少)(天|个月|期|钱)|(哪天|什么时候|啥时候)借|一共.{0,4}(多少|几)",
    ),
    _rule(
        "cannot-pay",
        Intent.CANNOT_PAY,
        r"没(有)?钱|莫得钱|冇钱|木有钱|没(有)?(收入|进账|进项)|(收入|进项|进账)(都|也)?没(有)?|还不(上|了|起)|拿不出|没(有)?工作|失业|揭不开锅|周转不|穷|一分钱都没"
        r"|比脸都干净|资金链|亏|赔了|住院|生病|看病|手术|不够|没发|手(头|里|上)(有点|比较|很)?紧",
    ),
    _rule(
        "other-consult",
        Intent.OTHER,
        r"(问问|问一下|商量(一下|商量)?|合计合计)(我)?(的)?(老婆|老公|媳妇|家里|家人|爸妈|父母)",
    ),
    _rule(
        "busy",
        Intent.BUSY,
        r"开会|开车|在忙|忙(着|呢|忙)|不方便|晚点|回头(再)?说|等(下|会)(儿)?(回|打|说)|(?<!没)上班|上课|下班(了)?再|没空"
        r"|接不了|给你回|再打吧|在外面|在做饭|带孩子|高速|排队|地铁|唔得闲|冇空|迟啲|晚啲",
    ),
    _rule(
        "other-hearing",
        Intent.OTHER,
        r"听(不|得)?(见|到|清)(不|吗|么|没)?|大(点|一点)声|信号不好|慢(点|一点)说|耳朵(不好|背)",
    ),
    _rule(
        "ask-info",
        Intent.ASK_INFO,
        r"多少|哪(天|里|位|个|笔|家)|什么(时候|事|贷款|平台)|你是谁|谁啊|怎么还|在哪还|咋还|账户|账号|工号|会怎么样"
        r"|怎么有我|啥事|干嘛|你们是|名字|短信|能用.{0,4}还|边个|边位|乜(嘢)?事|咩事|嘎哈|弄啥",
    ),
    _rule(
        "greeting",
        Intent.OTHER,
        r"^[嗯呃啊哎那个就是哈嘛吧呢，,。.!！~…\s]*(喂|你好|您好|在吗|在不在|拜拜|再见)[喂你您好嗯呃啊哎哈嘛吧呢，,。.!！~…\s]*$",
    ),
    _rule(
        "affirm",
        Intent.AFFIRM,
        rf"^[嗯哦噢喔]*[，,\s]*{_AFFIRM_WORD}({_AFFIRM_WORD}|[嗯对是好的吧啊哈呢嘛了行我就本人额呐啦，,。.!！\s])*$",
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
            r"失业|没(有)?工作|工作.{0,4}没找到|工作(丢|没)了|裁员|被裁|下岗|没上班|找不到工作|没找到工作|不要我了|开除|辞退|没(有)?收入"
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
    r"(?<![\d.])(\d{1,3}(?:[,，]\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?)\s*(万|千|块|元|百)?"
    r"|([零一二两三四五六七八九十百千万]+)(块|元|万)?"
)
# A number followed by one of these is a date, a count or a period, never money.
_NOT_MONEY_AFTER = re.compile(r"\s*[年月日号期天个次岁点%％]")
# A bare number ("先还500") is money only right after, or right before, the pay word.
_PAY_BEFORE = re.compile(r"(还|转|付|打|存|交)(了|上|给)?(你们|你|您)?\s*$")
_PAY_AFTER = re.compile(r"\s*(还|转|付|打过去)")
_PHONE_DIGITS = 11  # a run this long is a phone or account number


def _chinese_number(text: str) -> int | None:
    total, section, digit = 0, 0, None
    zero = False  # 零 since the last unit: the next digit is in the ones place
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            if ch == "零":
                zero = True
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
            zero = False
        else:
            return None
    if digit is not None:
        # 一千五 = 1500: a trailing digit after a unit means one place lower; 一千零五 = 1005
        last_unit = next((_UNITS[c] for c in reversed(text) if c in _UNITS), None)
        lower = not zero and last_unit is not None and last_unit >= 100
        section += digit * (last_unit // 10 if lower and last_unit else 1)
    return total + section


def promised_amount_fen(text: str) -> int | None:
    """An amount in yuan said in the utterance ("三千块", "还1,500", "两万"), as integer fen.

    Digits count only with a money unit (块, 元, 万, 千, 百) or right next to the pay word
    ("先还500"); a run of 11 or more digits (a phone number) and a number followed by
    年/月/日/号 and the like (a date or a count) are never an amount.
    """
    for match in _AMOUNT.finditer(text):
        if _NOT_MONEY_AFTER.match(text, match.end()):
            continue
        if match.group(1):
            digits = re.sub(r"[,，]", "", match.group(1))
            if len(digits.split(".")[0]) >= _PHONE_DIGITS:
                continue
            value = Decimal(digits)  # exact: "1.15万" is 11,500 yuan, not 11,499.999…
            unit = match.group(2) or ""
            if unit == "":
                if value < 50:
                    continue  # "3期", "还20": not money
                paid = _PAY_BEFORE.search(text, 0, match.start()) or _PAY_AFTER.match(
                    text, match.end()
                )
                if not paid:
                    continue
            scale = {"万": 10000, "千": 1000, "百": 100}.get(unit, 1)
            return int((value * scale * 100).to_integral_value(ROUND_HALF_UP))
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
