"""Build the labelled collection-utterance set (debtor intents, collector violations).

Run from the repository root:  .venv/bin/python data/conversation/build_utterances.py

Deterministic (fixed seed).  Every template *group* goes wholly into one split, so the test
split never shares a template with the train split.  Hand-written lines form their own groups
of five.  See GUIDELINES.md for the labelling rules.
"""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261129

DAYS = ["明天", "后天", "下周一", "这周五", "月底", "15号", "过两天", "下礼拜", "周末", "20号前"]
AMOUNTS = [
    "两千",
    "三千块",
    "一千五",
    "500",
    "五百块",
    "一部分",
    "一半",
    "最低那个数",
    "2000",
    "八百",
]
NAMES = ["张伟", "王芳", "李强", "刘洋", "陈静", "杨磊", "赵敏"]
RELATIONS = ["老婆", "老公", "妈", "爸", "儿子", "女儿", "同事", "朋友", "弟弟", "姐"]
FILLERS = ["", "", "", "嗯，", "那个，", "呃", "哎，", "喂，", "就是，", "啊"]
ENDINGS = ["", "", "", "啊", "吧", "哈", "嘛", "呢", "。", "！", "..."]

# (group, intent, cause, templates).  Slots: {day} {amt} {name} {rel}
DEBTOR_GROUPS: list[tuple[str, str, str, list[str]]] = [
    ("ptp-day", "promise_to_pay", "", ["我{day}还", "{day}就还上", "{day}一定还", "{day}给你还"]),
    ("ptp-transfer", "promise_to_pay", "", ["行，{day}我把钱打过去", "{day}转给你们", "{day}打款"]),
    (
        "ptp-part",
        "promise_to_pay",
        "",
        ["我{day}先还{amt}", "先还{amt}，剩下的{day}还", "{amt}{day}还"],
    ),
    ("ptp-salary", "promise_to_pay", "", ["工资{day}发，发了就还", "等{day}发工资了马上还"]),
    (
        "ptp-assure",
        "promise_to_pay",
        "",
        ["你放心，{day}之前肯定还清", "保证{day}还上", "{day}前一定处理好"],
    ),
    (
        "ptp-now",
        "promise_to_pay",
        "",
        ["我现在就去还", "马上还，等下就转", "今天晚上就还", "一会儿就还"],
    ),
    ("ptp-collect", "promise_to_pay", "", ["钱在凑了，{day}能还上", "我找人借了，{day}还你们"]),
    ("ptp-latest", "promise_to_pay", "", ["最晚{day}", "{day}吧，{day}肯定还", "顶多拖到{day}"]),
    ("ptp-ok", "promise_to_pay", "", ["好好好我{day}处理", "知道了我{day}去还", "行行行{day}还"]),
    (
        "cp-nomoney",
        "cannot_pay",
        "",
        ["我现在真没钱", "手上一分钱都没有", "没钱啊真没钱", "哪有钱还"],
    ),
    ("cp-cant", "cannot_pay", "", ["实在是还不上", "这个月真的还不了", "真还不起了", "还不了啊"]),
    ("cp-want", "cannot_pay", "", ["我也想还但是没钱啊", "不是不还，是真没钱", "有钱早就还了"]),
    ("cp-hard", "cannot_pay", "", ["家里揭不开锅了", "吃饭都成问题了还拿什么还", "现在穷得叮当响"]),
    (
        "cp-unemp",
        "cannot_pay",
        "unemployment",
        ["我失业了没钱还", "工作丢了，还不上", "被裁员了，一直没找到工作"],
    ),
    (
        "cp-unemp2",
        "cannot_pay",
        "unemployment",
        ["公司倒闭了我没工作了", "下岗了，没收入", "现在没上班，没有收入"],
    ),
    (
        "cp-ill",
        "cannot_pay",
        "illness",
        ["我住院了，哪有钱", "生病了钱都拿去看病了", "刚做完手术，还不上"],
    ),
    (
        "cp-ill2",
        "cannot_pay",
        "illness",
        ["家里老人病了花了好多钱", "孩子生病住院，钱都花光了", "我得了癌症在化疗"],
    ),
    (
        "cp-biz",
        "cannot_pay",
        "business_downturn",
        ["生意亏了还不上", "店开不下去了，没钱", "做生意赔了"],
    ),
    (
        "cp-biz2",
        "cannot_pay",
        "business_downturn",
        ["货款收不回来，周转不开", "厂子停工了没钱", "生意不好做，资金链断了"],
    ),
    (
        "cp-other",
        "cannot_pay",
        "other",
        ["离婚了钱都被拿走了", "被人骗了钱，现在还不上", "家里出了事，钱都用光了"],
    ),
    ("ap-inst", "ask_plan", "", ["能不能分期", "可以分几期还吗", "能分{n}期吗", "分期行不行"]),
    (
        "ap-ext",
        "ask_plan",
        "",
        ["能不能宽限几天", "能延期吗", "再给我几天时间行不行", "能缓一缓吗"],
    ),
    ("ap-less", "ask_plan", "", ["能不能少还点", "利息能不能减免", "能不能只还本金", "罚息能免吗"]),
    ("ap-plan", "ask_plan", "", ["有没有什么方案", "有啥办法能让我慢慢还", "每个月还少一点行不行"]),
    ("ap-min", "ask_plan", "", ["能不能先还最低", "停息挂账可以吗", "能不能先还{amt}，剩下的分期"]),
    ("ap-hard", "ask_plan", "unemployment", ["我失业了，能不能分期", "没工作了，能不能延期还"]),
    ("ap-ill", "ask_plan", "illness", ["我在住院，能不能缓几个月", "生病了，能不能分期慢慢还"]),
    ("ap-biz", "ask_plan", "business_downturn", ["生意不好，能不能分期", "最近生意亏了，能延期吗"]),
    (
        "dp-never",
        "dispute",
        "",
        ["我没借过这个钱", "这个不是我借的", "我从来没用过你们这个", "我没贷过款"],
    ),
    (
        "dp-paid",
        "dispute",
        "",
        ["这笔我早就还了", "我都结清了", "上个月就还了你们没入账", "我已经还过了"],
    ),
    (
        "dp-amount",
        "dispute",
        "",
        ["金额不对啊", "怎么多了这么多利息", "这个数不对吧", "怎么欠这么多"],
    ),
    (
        "dp-illegal",
        "dispute",
        "",
        ["你们这是高利贷", "利息太高了不合法", "砍头息我不认", "这合同有问题"],
    ),
    ("dp-stolen", "dispute", "", ["我身份证丢过，不是我办的", "被人冒用了", "有人拿我信息借的"]),
    ("wn-not", "wrong_number", "", ["你打错了", "我不是{name}", "打错电话了吧", "打错了"]),
    (
        "wn-unknown",
        "wrong_number",
        "",
        ["不认识这个人", "没有这个人", "不认识什么{name}", "谁是{name}啊"],
    ),
    ("wn-new", "wrong_number", "", ["这个号我刚办的", "这号码新买的，不是他的", "号码换人了"]),
    (
        "tp-rel",
        "third_party",
        "",
        ["我是他{rel}，他不在", "我是他{rel}，有什么事", "我是{name}的{rel}"],
    ),
    ("tp-out", "third_party", "", ["他出去了", "他不在家", "他手机落家里了", "他现在不在"]),
    (
        "tp-relay",
        "third_party",
        "",
        ["他在上班，我帮你转告", "你找他干嘛，我是他{rel}", "有事跟我说，我转告他"],
    ),
    ("tp-away", "third_party", "", ["他去外地打工了", "他好久没回来了", "他在睡觉，你晚点打"]),
    ("rf-wont", "refuse", "", ["我不还", "不还了，随便你", "我就不还，你能怎样", "没打算还"]),
    ("rf-stop", "refuse", "", ["别再打了", "再打我就投诉你", "以后别给我打电话", "再打我报警了"]),
    ("rf-sue", "refuse", "", ["你去告我吧", "有本事你来抓我", "爱咋咋地", "随便你们起诉"]),
    ("rf-abuse", "refuse", "", ["滚", "神经病", "烦不烦啊", "你有病吧", "滚蛋"]),
    ("rf-abuse2", "refuse", "", ["你们这些催收的都不是好东西", "老子没钱也不还", "去你的", "傻X"]),
    ("ai-amount", "ask_info", "", ["多少钱", "欠了多少", "一共要还多少", "最低还多少"]),
    ("ai-date", "ask_info", "", ["什么时候到期的", "还款日是哪天", "逾期几天了", "哪天借的"]),
    ("ai-who", "ask_info", "", ["你是哪里", "你哪位", "你们是哪个公司的", "你是谁啊"]),
    ("ai-what", "ask_info", "", ["什么事", "找我什么事", "打电话干嘛", "是哪个平台的"]),
    ("ai-how", "ask_info", "", ["怎么还", "还到哪个账户", "在哪还款", "能用微信还吗"]),
    ("bz-meet", "busy", "", ["我在开会", "开会呢，等会说", "正在开会不方便"]),
    ("bz-drive", "busy", "", ["我在开车，等会说", "开车呢，晚点打", "在高速上"]),
    ("bz-later", "busy", "", ["现在不方便", "晚点打给我", "回头再说", "等下回你"]),
    ("bz-work", "busy", "", ["在上班不方便接", "我在忙", "忙着呢，下午打", "正在干活"]),
    ("af-yes", "affirm", "", ["嗯", "对", "是的", "是我", "对对对"]),
    ("af-ok", "affirm", "", ["好的", "知道了", "行", "可以", "好吧", "明白"]),
    ("af-confirm", "affirm", "", ["嗯嗯，我是", "对，我是{name}", "是本人", "收到"]),
    ("ot-hello", "other", "", ["喂", "你好", "喂喂喂", "哎你好"]),
    ("ot-hear", "other", "", ["听不清", "你说什么", "啊？", "你再说一遍", "信号不好听不见"]),
    ("ot-think", "other", "", ["我再想想", "我考虑一下", "再说吧", "看情况吧", "到时候再说"]),
    ("ot-misc", "other", "", ["今天天气不错", "你们几点下班", "我在吃饭", "等一下我去拿个东西"]),
]

DEBTOR_HAND: list[tuple[str, str, str]] = [
    # intent, cause, text -- written by hand, as heard on reminder calls
    ("promise_to_pay", "", "行吧行吧，明天下午我去还"),
    ("promise_to_pay", "", "我周五发工资，发了第一时间还你们"),
    ("promise_to_pay", "", "钱我已经准备好了，晚上转"),
    ("promise_to_pay", "", "今天之内给你处理掉"),
    ("promise_to_pay", "", "放心吧不会赖账的，下周肯定还"),
    ("promise_to_pay", "", "那我先还个一千，月底再还剩下的"),
    ("promise_to_pay", "", "俺过两天就把钱打过去"),
    ("promise_to_pay", "", "等我老公回来就还"),
    ("promise_to_pay", "", "我下午去银行转账"),
    ("promise_to_pay", "", "好嘞，明儿个还"),
    ("promise_to_pay", "", "晓得了，这两天就还"),
    ("promise_to_pay", "", "三号之前一定还清"),
    ("promise_to_pay", "", "我马上在app上还"),
    ("promise_to_pay", "", "中午我就还，别催了"),
    ("promise_to_pay", "", "等年终奖下来全部还掉"),
    ("cannot_pay", "", "我是真拿不出来"),
    ("cannot_pay", "", "莫得钱，真的莫得"),
    ("cannot_pay", "", "兜里比脸都干净"),
    ("cannot_pay", "unemployment", "厂里不要我了，这几个月都没收入"),
    ("cannot_pay", "illness", "我爸脑梗住院，钱全垫进去了"),
    ("cannot_pay", "business_downturn", "饭店疫情后就一直亏，关门了"),
    ("cannot_pay", "", "现在每个月工资还房贷都不够"),
    ("cannot_pay", "", "我要是有钱还用你们打电话吗"),
    ("cannot_pay", "unemployment", "找了两个月工作都没找到，真没钱"),
    ("cannot_pay", "illness", "我怀孕了没上班，哪来的钱"),
    ("cannot_pay", "business_downturn", "今年行情太差，账都收不回来"),
    ("cannot_pay", "other", "老公赌博把家里钱都输光了"),
    ("cannot_pay", "", "木有钱啊，你让我咋还"),
    ("cannot_pay", "", "这个月实在周转不过来"),
    ("cannot_pay", "", "冇钱还啊"),
    ("ask_plan", "", "能不能每个月还个几百，慢慢还"),
    ("ask_plan", "", "你们有没有减免政策"),
    ("ask_plan", "", "我想申请延期还款"),
    ("ask_plan", "", "可以先还利息吗本金晚点"),
    ("ask_plan", "", "分成十二个月还可以不"),
    ("ask_plan", "", "能不能把违约金去掉"),
    ("ask_plan", "", "能给我个还款计划吗"),
    ("ask_plan", "", "下个月再还行不行啊"),
    ("ask_plan", "", "能不能协商一下还款"),
    ("ask_plan", "", "一次性还清能打折不"),
    ("ask_plan", "unemployment", "我现在没工作，能不能等我找到工作再还"),
    ("ask_plan", "", "宽限我半个月呗"),
    ("ask_plan", "", "少还点行不，全额真还不上"),
    ("ask_plan", "", "能不能个性化分期"),
    ("ask_plan", "", "最低还款是多少，能先还最低吗"),
    ("dispute", "", "我那笔早结清了，你们系统有问题"),
    ("dispute", "", "我根本没在你们那借钱"),
    ("dispute", "", "利息比本金还高，这不合理"),
    ("dispute", "", "我明明按时还了啊"),
    ("dispute", "", "这个账不对，我要投诉"),
    ("dispute", "", "什么贷款？我不知道啊"),
    ("dispute", "", "那是我前夫借的，跟我没关系"),
    ("dispute", "", "你们乱收费"),
    ("dispute", "", "我要看借款合同，不然不认"),
    ("dispute", "", "砍头息都扣了还要我还全款？"),
    ("wrong_number", "", "你找错人了"),
    ("wrong_number", "", "这不是他的电话"),
    ("wrong_number", "", "我都不认识你说的是谁"),
    ("wrong_number", "", "号码是我新办的，以前的人我不知道"),
    ("wrong_number", "", "你打错啦，我姓刘"),
    ("wrong_number", "", "没这个人，别打了"),
    ("wrong_number", "", "我这是公司座机，没这人"),
    ("wrong_number", "", "不是本人，打错了"),
    ("wrong_number", "", "你说的那个人我不认识"),
    ("wrong_number", "", "什么张伟李伟的，不认识"),
    ("third_party", "", "我是他媳妇，他出门了"),
    ("third_party", "", "他人不在，你有啥事"),
    ("third_party", "", "我儿子在外地，手机放家里了"),
    ("third_party", "", "他喝多了睡了，明天再打吧"),
    ("third_party", "", "我是他领导，他今天请假了"),
    ("third_party", "", "我们很久没联系了，我不知道他在哪"),
    ("third_party", "", "他把我填成紧急联系人了？我跟他不熟"),
    ("third_party", "", "我是她室友，她去上课了"),
    ("third_party", "", "他在工地上，没带手机"),
    ("third_party", "", "这是他家里电话，他不住这了"),
    ("refuse", "", "你们爱怎么样怎么样"),
    ("refuse", "", "一分钱都不会还"),
    ("refuse", "", "去你妈的"),
    ("refuse", "", "有完没完，死催什么"),
    ("refuse", "", "我就是不还，你能拿我咋样"),
    ("refuse", "", "别骚扰我了"),
    ("refuse", "", "再打电话我拉黑你"),
    ("refuse", "", "你们就是一群骗子"),
    ("refuse", "", "不想跟你说话，挂了"),
    ("refuse", "", "要钱没有要命一条"),
    ("refuse", "", "起诉吧，我等着"),
    ("refuse", "", "脑子有病啊天天打"),
    ("refuse", "", "我不需要，别打了"),
    ("refuse", "", "你算什么东西"),
    ("refuse", "", "还个屁"),
    ("ask_info", "", "我到底欠你们多少钱"),
    ("ask_info", "", "你是哪个平台的"),
    ("ask_info", "", "你们怎么有我电话的"),
    ("ask_info", "", "本金多少利息多少"),
    ("ask_info", "", "是什么贷款逾期了"),
    ("ask_info", "", "最晚哪天要还"),
    ("ask_info", "", "现在还的话要还多少"),
    ("ask_info", "", "你叫什么名字，工号多少"),
    ("ask_info", "", "还款账号发我一下"),
    ("ask_info", "", "逾期了会怎么样"),
    ("ask_info", "", "有没有短信发给我看看"),
    ("ask_info", "", "咋还啊，在哪个app上还"),
    ("ask_info", "", "你们是银行还是什么"),
    ("ask_info", "", "这是哪笔借款"),
    ("ask_info", "", "啥事啊"),
    ("busy", "", "我这会儿在医院排队，晚点说"),
    ("busy", "", "正上课呢，下课回你"),
    ("busy", "", "我在地铁上，听不清，等会打"),
    ("busy", "", "在带孩子，没空"),
    ("busy", "", "客户在，我一会给你回过去"),
    ("busy", "", "忙忙忙，回头说"),
    ("busy", "", "在外面办事，晚上再打吧"),
    ("busy", "", "现在接不了，一个小时后再打"),
    ("busy", "", "我在做饭，等会儿"),
    ("busy", "", "下班了再说"),
    ("affirm", "", "嗯嗯"),
    ("affirm", "", "对的对的"),
    ("affirm", "", "好"),
    ("affirm", "", "没问题"),
    ("affirm", "", "行，我知道了"),
    ("affirm", "", "是，我就是"),
    ("affirm", "", "OK"),
    ("affirm", "", "晓得了"),
    ("affirm", "", "中"),
    ("affirm", "", "可以的"),
    ("other", "", "喂？喂？"),
    ("other", "", "你声音太小了"),
    ("other", "", "等等，我换个地方"),
    ("other", "", "我让我想一下吧"),
    ("other", "", "这个以后再说"),
    ("other", "", "我不太清楚"),
    ("other", "", "你是机器人吗"),
    ("other", "", "哦"),
    ("other", "", "说完了没"),
    ("other", "", "你们这个声音好像录音"),
]

COLLECTOR_GROUPS: list[tuple[str, str, list[str]]] = [
    # (group, labels separated by ';' -- empty means compliant, templates)
    (
        "th-family",
        "threat",
        ["小心你的家人", "你家里人出了什么事别怪我", "你不还，你老婆孩子也别想好过"],
    ),
    (
        "th-come",
        "threat",
        ["我知道你住哪，你等着", "我们的人马上到你家门口堵你", "信不信我找人弄你"],
    ),
    ("th-violence", "threat", ["不还钱打断你的腿", "再不还让你好看", "你走夜路小心点"]),
    (
        "th-shame",
        "threat",
        ["找人去你单位闹，让你丢工作", "让你在村里抬不起头", "到你们小区贴你照片"],
    ),
    ("in-laolai", "insult", ["你这个老赖", "你就是个骗子", "不要脸的东西", "你是不是傻"]),
    ("in-person", "insult", ["你还是人吗", "废物一个", "你这种人活着干嘛", "垃圾"]),
    ("in-curse", "insult", ["你妈的还不还钱", "你个王八蛋", "穷鬼还借什么钱", "死赖皮"]),
    (
        "hr-calls",
        "harassment",
        ["我每天打一百个电话给你", "我会一直打到你还为止", "以后天天轰炸你"],
    ),
    ("hr-night", "harassment", ["半夜也给你打", "你不接我就打到你接为止", "凌晨三点我也打"]),
    (
        "hr-contacts",
        "harassment;third_party_disclosure",
        [
            "给你通讯录里的所有人打电话说你欠钱",
            "把你欠钱的事发到你家族群",
            "你亲戚朋友都会知道你欠钱不还",
        ],
    ),
    ("im-police", "impersonation", ["我是公安局的", "这里是派出所经侦大队", "我们是刑警队的"]),
    ("im-court", "impersonation", ["我们是法院的", "我是法院执行局的", "这边是人民法院，通知你"]),
    (
        "im-lawyer",
        "impersonation",
        ["我是律师，你这个案子我接了", "我是律师事务所的律师", "这里是检察院"],
    ),
    ("fl-jail", "false_legal", ["你这是诈骗罪要坐牢", "不还钱就要坐牢", "你会被判刑的"]),
    ("fl-arrest", "false_legal", ["明天就立案抓你", "警察明天上门拘留你", "已经报案了马上抓你"]),
    (
        "fl-family",
        "false_legal",
        ["你子女以后不能考公务员", "你孩子不能上学了", "你全家都要上黑名单"],
    ),
    (
        "fl-freeze",
        "false_legal",
        ["马上冻结你所有银行卡", "下午就强制执行你的房子", "你的微信支付宝都会被封"],
    ),
    (
        "fl-already",
        "false_legal",
        ["已经起诉你了，法院传票明天到", "你已经被列为失信被执行人了", "坐牢是肯定的"],
    ),
    (
        "dc-spouse",
        "third_party_disclosure",
        ["你老公欠我们三万块钱没还", "你老婆借的钱逾期了", "你儿子欠网贷不还"],
    ),
    (
        "dc-colleague",
        "third_party_disclosure",
        ["你同事{name}欠钱逾期两个月了", "告诉{name}赶紧还钱，他欠了好几万"],
    ),
    (
        "dc-relay",
        "third_party_disclosure",
        ["麻烦转告他，他的贷款逾期了", "你跟他说欠款再不还就起诉", "让他把欠的钱还了"],
    ),
    ("be-borrow", "borrow_elsewhere", ["你去借啊", "找朋友借点先还上", "找亲戚凑一凑还了"]),
    (
        "be-platform",
        "borrow_elsewhere",
        ["去别的平台借了还我们", "借网贷先还我们的", "办张信用卡套现还"],
    ),
    ("be-sell", "borrow_elsewhere", ["你不会去借吗", "卖车卖房也得还", "让你爸妈拿钱出来还"]),
    (
        "ok-greet",
        "",
        ["您好，请问是{name}先生吗", "您好，我是XX消费金融的客服", "打扰您了，请问是本人吗"],
    ),
    (
        "ok-remind",
        "",
        ["您这笔账单已经逾期5天了，请尽快处理", "提醒您按时还款", "您的还款日已经过了"],
    ),
    ("ok-plan", "", ["我们可以帮您申请分期", "如果有困难可以申请延期", "可以为您减免部分罚息"]),
    (
        "ok-credit",
        "",
        ["逾期会影响您的个人征信记录", "持续逾期可能会上报征信", "按时还款可以避免影响信用"],
    ),
    (
        "ok-legal",
        "",
        [
            "如果长期不还款，我们可能会依法通过诉讼解决",
            "债权人保留依法起诉的权利",
            "按合同约定处理",
        ],
    ),
    (
        "ok-third",
        "",
        ["请问您方便转告他给我们回个电话吗", "麻烦让他回个电话，谢谢", "那我们晚点再联系他"],
    ),
    ("ok-apology", "", ["不好意思打扰您了", "理解您的难处", "您先别着急，我们一起想办法"]),
    (
        "ok-identity",
        "",
        ["我们是受XX委托的催收机构", "我们不是警察，只是提醒您还款", "我们不是法院，只是客服"],
    ),
    ("ok-ask", "", ["请问您大概什么时候能还", "您现在方便说话吗", "请问您认识{name}吗"]),
    ("ok-confirm", "", ["好的，那我记录下来，{day}还款", "感谢您的配合", "那我们{day}再联系"]),
]

COLLECTOR_HAND: list[tuple[str, str]] = [
    ("threat", "不还钱你试试看，后果自负"),
    ("threat", "我们已经派人去你老家了"),
    ("threat", "你等着，有你好看的"),
    ("threat", "把你的照片发到网上，让大家看看"),
    ("threat", "信不信我明天去你公司找你"),
    ("insult", "跟你这种人说话真浪费时间，无赖"),
    ("insult", "你脑子进水了吧"),
    ("insult", "欠钱不还的人渣"),
    ("insult", "你个没出息的东西"),
    ("insult", "你爹妈怎么教你的"),
    ("harassment", "我换着号码打，你拉黑也没用"),
    ("harassment", "你不还我就每小时打一次"),
    ("harassment", "你家人的电话我也会每天打"),
    ("harassment", "我们会一直短信轰炸"),
    ("impersonation", "我是经侦支队的民警"),
    ("impersonation", "我们是最高法执行局的"),
    ("impersonation", "这边是市中级人民法院"),
    ("impersonation", "我是派出所的，请你配合调查"),
    ("impersonation;false_legal", "我是公安的，你涉嫌诈骗"),
    ("false_legal", "不还钱就是犯罪，要拘留十五天"),
    ("false_legal", "马上就要上门抓人了"),
    ("false_legal", "你的房子车子都要被拍卖"),
    ("false_legal", "你这个已经构成恶意透支，警察会来抓你"),
    ("false_legal", "以后你坐不了飞机高铁，孩子也不能读书"),
    ("third_party_disclosure", "你是他姐吧？他在我们这借了两万块一直没还"),
    ("third_party_disclosure", "你们公司的李强欠网贷不还"),
    ("third_party_disclosure", "告诉你妈，她欠的钱再不还就起诉"),
    ("third_party_disclosure", "你是他紧急联系人，他欠款逾期三个月了"),
    ("third_party_disclosure", "你帮他还一下欠款吧"),
    ("borrow_elsewhere", "你去找你爸妈要钱啊"),
    ("borrow_elsewhere", "借高利贷也得先把我们还了"),
    ("borrow_elsewhere", "找同事借一下不就行了"),
    ("borrow_elsewhere", "随便哪个app借点先还上"),
    ("borrow_elsewhere", "信用卡刷出来先还我们"),
    ("", "您好，这边是XX银行信用卡中心"),
    ("", "您的账户目前逾期，欠款金额是3200元"),
    ("", "请您在三天内还款，避免产生更多罚息"),
    ("", "我们可以给您做一个分期方案，每期800元"),
    ("", "好的，我这边给您备注一下"),
    ("", "请问是您本人接听吗"),
    ("", "那您看什么时候方便，我再联系您"),
    ("", "如果有疑问可以拨打官方客服电话核实"),
    ("", "您的情况我们理解，可以申请困难减免"),
    ("", "逾期信息会按规定报送征信中心"),
    ("", "我们这边不会打扰您的家人"),
    ("", "不好意思，打错了，打扰了"),
    ("", "如果进入诉讼程序，由法院依法判决"),
    ("", "请您通过官方app还款，不要转到个人账户"),
    ("", "我们不会向其他人透露您的情况"),
    ("", "那您先忙，我晚点再打"),
    ("", "您可以和家人商量一下还款计划"),
    ("", "我是您的专属客服小王"),
    ("", "您之前承诺今天还款，还记得吗"),
    ("", "请核对一下您的身份证后四位"),
    ("", "谢谢您的理解，祝您生活愉快"),
]

# Written after the first rules were frozen; the rules were then widened on the misses, so
# this set is in the dev split (groups "probe-*").
COLLECTOR_PROBE: list[tuple[str, str]] = [
    ("threat", "你再躲着试试，我们有的是办法找到你"),
    ("threat", "你孩子在哪个学校上学我们都清楚"),
    ("threat", "我们的人今晚就去你家坐坐"),
    ("threat", "不还钱你这辈子都别想安生"),
    ("threat", "把你欠钱的照片贴满你们小区"),
    ("threat", "出门的时候注意点安全"),
    ("insult", "你这种人就是社会的蛀虫"),
    ("insult", "欠钱不还的臭无赖"),
    ("insult", "你是猪脑子吗"),
    ("insult", "真是个不要脸的老赖"),
    ("insult", "丢人现眼的东西"),
    ("harassment", "今天我给你打二十遍"),
    ("harassment", "你一天不还我就一天打十几个电话"),
    ("harassment", "晚上十一点我再打给你"),
    ("harassment", "以后你每天早上六点都会接到我的电话"),
    ("harassment", "我会挨个给你的同事打电话"),
    ("impersonation", "我是区法院的书记员"),
    ("impersonation", "我是网警，现在通知你"),
    ("impersonation", "这边是公安局反诈中心"),
    ("impersonation", "我们是市检察院的工作人员"),
    ("impersonation", "我是代表法院来通知你的"),
    ("false_legal", "今天不还明天就把你列入全国黑名单"),
    ("false_legal", "你这个行为已经是诈骗了"),
    ("false_legal", "你家里的房子会被查封"),
    ("false_legal", "再不还你的户口会被注销"),
    ("false_legal", "逾期三天就要判三年"),
    ("false_legal", "你的工资卡明天会被划扣"),
    ("third_party_disclosure", "你好，你弟弟在我们这借款逾期了，你替他还吧"),
    ("third_party_disclosure", "你是她朋友吧，她欠了我们一万多"),
    ("third_party_disclosure", "请转告你爱人，欠我们的钱该还了"),
    ("third_party_disclosure", "你们单位的王芳借钱不还"),
    ("third_party_disclosure", "他欠网贷好几个月了你知道吗"),
    ("borrow_elsewhere", "你跟朋友借一下嘛，先把这个还了"),
    ("borrow_elsewhere", "找你老公要点钱不就解决了"),
    ("borrow_elsewhere", "把你的金项链当了先还上"),
    ("borrow_elsewhere", "再去申请个贷款先把我们还了"),
    ("borrow_elsewhere", "你去花呗里套点出来"),
    ("", "您好，我是安心消费金融的客服，工号1023"),
    ("", "您的账单逾期12天了，金额是2350元"),
    ("", "如果您有困难，可以说一下具体情况"),
    ("", "我们可以帮您申请把还款分成6期"),
    ("", "逾期记录可能会被报送到征信系统"),
    ("", "根据合同，逾期会产生罚息"),
    ("", "请您通过官方渠道核实我们的身份"),
    ("", "您方便的话，请让机主回个电话"),
    ("", "打扰了，请问您是李先生的家人吗"),
    ("", "好的，那我们约在下周一再联系"),
    ("", "我们不是公安机关，不会上门抓人"),
    ("", "律师函会通过正规渠道寄送"),
    ("", "您的还款已经入账了，谢谢"),
    ("", "您先别着急，我们慢慢说"),
    ("", "如果您对金额有异议，可以申请复核"),
    ("", "您今天能先还一部分吗"),
    ("", "还款以后记得保存好凭证"),
    ("", "我这边把您的情况反馈给主管"),
    ("", "法院的判决要以正式文书为准"),
    ("", "您要是不方便，晚点我再打给您"),
]

# Written after the rules were frozen a second time and never used to tune anything: the
# blind part of the test split (groups "blind-*").
COLLECTOR_BLIND: list[tuple[str, str]] = [
    ("threat", "你要是敢不接电话，我就去你爸妈那边等你"),
    ("threat", "我们在你楼下了，你自己看着办"),
    ("threat", "我劝你识相点，不然对你家里人不客气"),
    ("threat", "你们村的人很快都会知道你是什么人"),
    ("threat", "明天我就把你的事发到你公司群里"),
    ("threat", "别逼我们用别的手段"),
    ("threat", "你信不信我让你混不下去"),
    ("insult", "你个死皮赖脸的东西"),
    ("insult", "像你这样的人就是个废物"),
    ("insult", "你是不是脑子有病"),
    ("insult", "一个大男人欠钱不还，丢不丢人，窝囊废"),
    ("insult", "你这个骗钱的无赖"),
    ("insult", "你就是个下三滥"),
    ("harassment", "从今天起我每隔半小时给你打一次"),
    ("harassment", "你不接我就用不同的号码一直打"),
    ("harassment", "半夜两点我照样打给你"),
    ("harassment", "你全家的电话我一个个打过去"),
    ("harassment", "我天天给你发短信发到你还钱"),
    ("impersonation", "我是人民法院执行庭的法官"),
    ("impersonation", "这里是市公安局经侦支队"),
    ("impersonation", "你好，我是派出所民警，找你了解情况"),
    ("impersonation", "我们是检察院的，你的案子已经移交了"),
    ("impersonation", "我是警察，你必须配合"),
    ("false_legal", "你不还钱警察马上就到你家抓你"),
    ("false_legal", "你这属于犯罪，要负刑事责任"),
    ("false_legal", "不还的话你名下所有银行卡都会被冻结"),
    ("false_legal", "你孩子以后考大学都会受影响"),
    ("false_legal", "今天下午就给你立案"),
    ("false_legal", "再拖几天你就要进看守所了"),
    ("false_legal", "法院明天就会来查封你的房子"),
    ("third_party_disclosure", "你是他妈妈吧，你儿子欠了我们五万块"),
    ("third_party_disclosure", "麻烦你告诉你同事李强，他的网贷已经逾期三个月了"),
    ("third_party_disclosure", "你老婆在我们平台贷款一直没还"),
    ("third_party_disclosure", "你哥借了钱不还，你作为家属得管管"),
    ("third_party_disclosure", "他欠我们的钱你知道吧"),
    ("borrow_elsewhere", "你向亲戚借一点不就有了"),
    ("borrow_elsewhere", "去借呗借一下先把这期还了"),
    ("borrow_elsewhere", "把你的车卖了先还钱"),
    ("borrow_elsewhere", "你找你朋友周转一下"),
    ("borrow_elsewhere", "拿信用卡取现先还我们"),
    ("", "您好，这里是安心消费金融贷后管理部"),
    ("", "您的借款已逾期，请尽快还款"),
    ("", "我们理解您的困难，可以申请延期"),
    ("", "请问您目前的工作情况怎么样"),
    ("", "您可以在App里选择分期还款"),
    ("", "逾期可能会影响您以后的贷款申请"),
    ("", "我们会按照法律规定处理，不会做违规的事"),
    ("", "请问您是机主本人吗"),
    ("", "那麻烦您转告他回个电话，谢谢"),
    ("", "您的诉求我已经记录，会有专人联系您"),
    ("", "我们是正规持牌机构，您可以核实"),
    ("", "如有疑问可以拨打我们的官方客服热线"),
    ("", "感谢您今天的配合，再见"),
    ("", "您看明天下午三点我再联系您方便吗"),
    ("", "您说的情况我理解，我们一起想想办法"),
    ("", "我们不会联系您的家人和同事"),
    ("", "如果走法律程序，一切以法院判决为准"),
    ("", "您这个月能先还最低还款额吗"),
]

# Debtor lines written after the intent rules were frozen, in the unpunctuated style of
# speech recognition output; never used to tune anything (test split, groups "blind-*").
DEBTOR_BLIND: list[tuple[str, str, str]] = [
    ("promise_to_pay", "", "嗯嗯那我这周六给你们还上"),
    ("promise_to_pay", "", "我争取今天晚上之前还掉"),
    ("promise_to_pay", "", "好的好的我下午下班就去弄"),
    ("promise_to_pay", "", "等我老婆发了工资就给你还"),
    ("promise_to_pay", "", "这样吧我先还五百块剩下的下个星期"),
    ("promise_to_pay", "", "放心我二十五号一定处理"),
    ("cannot_pay", "", "我现在手上真的一点都没有"),
    ("cannot_pay", "", "最近实在困难拿不出这么多"),
    ("cannot_pay", "unemployment", "我现在待业在家哪来的收入"),
    ("cannot_pay", "illness", "我妈住院天天要花钱真的顾不上"),
    ("cannot_pay", "business_downturn", "今年的生意做亏了账都收不回来"),
    ("cannot_pay", "", "我也没办法啊真的是没钱"),
    ("ask_plan", "", "那你们能不能让我分开还"),
    ("ask_plan", "", "本金我还利息能不能免了"),
    ("ask_plan", "", "给我延长一个月可以吗"),
    ("ask_plan", "", "一个月还五百行不行"),
    ("ask_plan", "", "有没有那种可以慢慢还的办法"),
    ("ask_plan", "", "能不能下个月一起还"),
    ("dispute", "", "这笔钱我上周就还过了呀"),
    ("dispute", "", "我借的没这么多你们算错了吧"),
    ("dispute", "", "我根本没在你们平台借过钱"),
    ("dispute", "", "你们利息收这么高是违法的"),
    ("dispute", "", "这个账号不是我本人注册的"),
    ("dispute", "", "我还款了你们怎么还显示逾期"),
    ("wrong_number", "", "我不是他你们打错电话了"),
    ("wrong_number", "", "我不认识什么王芳"),
    ("wrong_number", "", "你找的人不在这个号码上"),
    ("wrong_number", "", "这个手机号我用了好几年了没有这个人"),
    ("wrong_number", "", "你搞错了吧我不叫这个名字"),
    ("wrong_number", "", "打错了打错了"),
    ("third_party", "", "他人出差了你过几天再打吧"),
    ("third_party", "", "我是他家里人你有什么事跟我说"),
    ("third_party", "", "他现在在医院陪床接不了电话"),
    ("third_party", "", "这是我老公的手机他在洗澡"),
    ("third_party", "", "我是她同学她不在这边"),
    ("third_party", "", "我不知道他的事情你直接找他吧"),
    ("refuse", "", "你们别烦我了行不行"),
    ("refuse", "", "要钱没有你们看着办吧"),
    ("refuse", "", "我不想还了你们爱怎么弄怎么弄"),
    ("refuse", "", "再打电话我就告你们骚扰"),
    ("refuse", "", "你们这些人真恶心"),
    ("refuse", "", "我是不会还的死了这条心吧"),
    ("ask_info", "", "我一共要还多少钱啊"),
    ("ask_info", "", "你们是哪家公司的"),
    ("ask_info", "", "这个是哪个时候借的"),
    ("ask_info", "", "我要还到哪个卡上"),
    ("ask_info", "", "请问你是哪位"),
    ("ask_info", "", "利息是怎么算的"),
    ("busy", "", "我在上班呢等我下班再说"),
    ("busy", "", "我这边正忙你晚一点再打过来"),
    ("busy", "", "现在在开车不方便接"),
    ("busy", "", "我在外面办事回去再给你打"),
    ("busy", "", "正在开会呢先挂了"),
    ("busy", "", "一会儿再打我现在走不开"),
    ("affirm", "", "嗯是的是我"),
    ("affirm", "", "对对我知道"),
    ("affirm", "", "好的明白了"),
    ("affirm", "", "嗯嗯可以"),
    ("affirm", "", "行行行"),
    ("affirm", "", "对是我本人"),
    ("other", "", "喂喂听得到吗"),
    ("other", "", "你说慢一点我没听清"),
    ("other", "", "我考虑考虑再说吧"),
    ("other", "", "这个我要跟家里人商量一下"),
    ("other", "", "你们是真人还是机器"),
    ("other", "", "等一下我这边有人来了"),
]

TYPOS = [
    ("在", "再"),
    ("的", "得"),
    ("还", "换"),
    ("钱", "前"),
    ("吗", "嘛"),
    ("知道", "知到"),
    ("那", "哪"),
]
DIALECT = [
    ("什么", "啥"),
    ("怎么", "咋"),
    ("没有", "莫得"),
    ("我", "俺"),
    ("知道", "晓得"),
    ("不", "不"),
    ("没钱", "冇钱"),
    ("明天", "明儿"),
    ("没有", "木有"),
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        day=rng.choice(DAYS),
        amt=rng.choice(AMOUNTS),
        name=rng.choice(NAMES),
        rel=rng.choice(RELATIONS),
        n=rng.choice(["3", "6", "12", "三", "六"]),
    )


def _vary(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        src, dst = rng.choice(DIALECT)
        text = text.replace(src, dst, 1)
    elif roll < 0.4:
        src, dst = rng.choice(TYPOS)
        text = text.replace(src, dst, 1)
    text = rng.choice(FILLERS) + text
    if text and text[-1] not in "。！？…":
        text = text + rng.choice(ENDINGS)
    if rng.random() < 0.1:
        text = text.replace("，", " ")
    return text


def _split_of(group: str) -> str:
    bucket = int(hashlib.sha256(group.encode()).hexdigest(), 16) % 100
    if bucket < 65:
        return "train"
    return "dev" if bucket < 80 else "test"


def _assign_splits(groups: list[str]) -> dict[str, str]:
    """Hash the groups into splits, but guarantee every label family reaches train and test."""
    return {g: _split_of(g) for g in groups}


def build_debtor(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    by_intent: dict[str, list[str]] = {}
    for group, intent, _cause, _templates in DEBTOR_GROUPS:
        by_intent.setdefault(intent, []).append(group)
    split_of: dict[str, str] = {}
    for _intent, groups in by_intent.items():
        # one group of each intent goes to test, one to dev, the rest to train (order by hash)
        ordered = sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
        for i, g in enumerate(ordered):
            split_of[g] = "test" if i % 4 == 1 else ("dev" if i % 4 == 3 else "train")
    for group, intent, cause, templates in DEBTOR_GROUPS:
        target = 24
        tries = 0
        made = 0
        while made < target and tries < 400:
            tries += 1
            text = _vary(_fill(rng.choice(templates), rng), rng)
            if text in seen:
                continue
            seen.add(text)
            made += 1
            rows.append(
                {
                    "split": split_of[group],
                    "group": group,
                    "intent": intent,
                    "cause": cause,
                    "text": text,
                }
            )
    for i, (intent, cause, text) in enumerate(DEBTOR_HAND):
        group = f"hand-{i // 5}"
        rows.append(
            {
                "split": _split_of(group),
                "group": group,
                "intent": intent,
                "cause": cause,
                "text": text,
            }
        )
    for i, (intent, cause, text) in enumerate(DEBTOR_BLIND):
        rows.append(
            {
                "split": "test",
                "group": f"blind-{i // 6}",
                "intent": intent,
                "cause": cause,
                "text": text,
            }
        )
    return rows


def build_collector(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    by_label: dict[str, list[str]] = {}
    for group, labels, _templates in COLLECTOR_GROUPS:
        by_label.setdefault(labels, []).append(group)
    split_of: dict[str, str] = {}
    for _labels, groups in by_label.items():
        ordered = sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
        for i, g in enumerate(ordered):
            split_of[g] = "test" if i % 3 == 1 else ("dev" if i % 6 == 5 else "train")
    for group, labels, templates in COLLECTOR_GROUPS:
        made = 0
        tries = 0
        while made < 20 and tries < 400:
            tries += 1
            text = _vary(_fill(rng.choice(templates), rng), rng)
            if text in seen:
                continue
            seen.add(text)
            made += 1
            rows.append({"split": split_of[group], "group": group, "labels": labels, "text": text})
    for i, (labels, text) in enumerate(COLLECTOR_HAND):
        group = f"hand-{i // 4}"
        rows.append({"split": _split_of(group), "group": group, "labels": labels, "text": text})
    for i, (labels, text) in enumerate(COLLECTOR_PROBE):
        rows.append({"split": "dev", "group": f"probe-{i // 4}", "labels": labels, "text": text})
    for i, (labels, text) in enumerate(COLLECTOR_BLIND):
        rows.append({"split": "test", "group": f"blind-{i // 4}", "labels": labels, "text": text})
    return rows


def main() -> None:
    rng = random.Random(SEED)
    debtor = build_debtor(rng)
    collector = build_collector(rng)
    for name, rows, fields in (
        ("debtor_utterances.csv", debtor, ["id", "split", "group", "intent", "cause", "text"]),
        ("collector_utterances.csv", collector, ["id", "split", "group", "labels", "text"]),
    ):
        with (HERE / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            for i, row in enumerate(rows, start=1):
                writer.writerow({"id": str(i), **row})
        print(name, len(rows))


if __name__ == "__main__":
    main()
