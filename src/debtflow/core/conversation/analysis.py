"""Read a conversation: debtor emotion, intent, cause, willingness and next script;
collector speech flags and compliance score; and a per-conversation summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from debtflow.core.conversation.debtor_rules import (
    is_hesitant,
    promised_amount_fen,
    promised_when,
    rule_intent,
    stated_cause,
)
from debtflow.core.conversation.labels import (
    Emotion,
    Intent,
    OverdueCause,
    Speaker,
)
from debtflow.core.conversation.scripts import CaseContext, NextAction, ScriptLibrary, choose_script
from debtflow.core.conversation.simplified import to_simplified
from debtflow.core.conversation.speech import (
    SpeechFlag,
    SpeechRuleSet,
    check_utterances,
    compliance_score,
)
from debtflow.core.conversation.trained import ConversationModels

#: Willingness to pay implied by each intent before the emotion adjustment (docs explain).
INTENT_WILLINGNESS: dict[Intent, float] = {
    Intent.PROMISE_TO_PAY: 0.85,
    Intent.ASK_PLAN: 0.65,
    Intent.AFFIRM: 0.6,
    Intent.ASK_INFO: 0.5,
    Intent.OTHER: 0.45,
    Intent.BUSY: 0.4,
    Intent.CANNOT_PAY: 0.3,
    Intent.DISPUTE: 0.2,
    Intent.THIRD_PARTY: 0.4,
    Intent.WRONG_NUMBER: 0.4,
    Intent.REFUSE: 0.05,
}
#: Shift by the dominant emotion's score (angry lowers, positive raises).
EMOTION_SHIFT: dict[Emotion, float] = {
    Emotion.ANGRY: -0.15,
    Emotion.SAD: -0.05,
    Emotion.ANXIOUS: 0.0,
    Emotion.NEUTRAL: 0.0,
    Emotion.POSITIVE: 0.1,
}
HESITANT_SHIFT = -0.1
RULE_WEIGHT = 0.7  # share of the intent scores given to a matching phrase rule
#: Broad, low-priority rules ("在外面", "你们是", "名字") only nudge the model: with these
#: weights a model more than ~60 % sure of another intent overrides them.
WEAK_RULES = frozenset({"busy", "ask-info"})
WEAK_RULE_WEIGHT = 0.35
ABUSE_ANGER_WEIGHT = 0.6  # abuse is anger whatever the Weibo model says


@dataclass(frozen=True)
class Turn:
    speaker: Speaker
    text: str


@dataclass(frozen=True)
class Promise:
    text: str
    when: str | None
    amount_fen: int | None


@dataclass(frozen=True)
class DebtorReading:
    text: str
    emotion: Emotion
    emotion_scores: dict[Emotion, float]
    intent: Intent
    intent_scores: dict[Intent, float]
    intent_rule: str | None
    cause: OverdueCause | None
    hesitant: bool
    willingness: float
    promise: Promise | None
    next_action: NextAction

    def as_json(self) -> dict[str, Any]:
        return {
            "speaker": Speaker.DEBTOR.value,
            "text": self.text,
            "emotion": self.emotion.value,
            "emotion_scores": {e.value: round(s, 4) for e, s in self.emotion_scores.items()},
            "intent": self.intent.value,
            "intent_rule": self.intent_rule,
            "cause": None if self.cause is None else self.cause.value,
            "hesitant": self.hesitant,
            "willingness": round(self.willingness, 3),
            "promise": None
            if self.promise is None
            else {"when": self.promise.when, "amount_fen": self.promise.amount_fen},
            "next_action": self.next_action.as_json(),
        }


@dataclass(frozen=True)
class CollectorReading:
    text: str
    flags: tuple[SpeechFlag, ...]
    score: int

    def as_json(self) -> dict[str, Any]:
        return {
            "speaker": Speaker.COLLECTOR.value,
            "text": self.text,
            "flags": [f.as_json() for f in self.flags],
            "score": self.score,
        }


Reading = DebtorReading | CollectorReading


@dataclass(frozen=True)
class ConversationSummary:
    emotion_trajectory: tuple[Emotion, ...]
    negativity_trend: float  # last minus first negative-emotion share; < 0 means calming down
    intents: dict[Intent, int]
    cause: OverdueCause | None
    promises: tuple[Promise, ...]
    willingness: float | None
    compliance_score: int
    flags: tuple[SpeechFlag, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {
            "emotion_trajectory": [e.value for e in self.emotion_trajectory],
            "negativity_trend": round(self.negativity_trend, 3),
            "intents": {i.value: n for i, n in self.intents.items()},
            "cause": None if self.cause is None else self.cause.value,
            "promises": [{"when": p.when, "amount_fen": p.amount_fen} for p in self.promises],
            "willingness": None if self.willingness is None else round(self.willingness, 3),
            "compliance_score": self.compliance_score,
            "flags": [f.as_json() for f in self.flags],
        }


def utterance_willingness(
    intent: Intent, emotion: Emotion, confidence: float, hesitant: bool
) -> float:
    value = INTENT_WILLINGNESS[intent] + EMOTION_SHIFT[emotion] * confidence
    if hesitant:
        value += HESITANT_SHIFT
    return float(min(1.0, max(0.0, value)))


_NEGATIVE = (Emotion.ANGRY, Emotion.SAD, Emotion.ANXIOUS)


def summarise(readings: Sequence[Reading]) -> ConversationSummary:
    """Aggregate one conversation.

    Willingness: recency-weighted mean of the debtor utterances (weight 0.6^age), moved
    +0.1 when a promise to pay was made, -0.1 when the debtor refused, +/-0.05 by the
    emotion trend (calming down vs. heating up), clipped to 0..1; None with no debtor turns.
    """
    debtor = [r for r in readings if isinstance(r, DebtorReading)]
    collector = [r for r in readings if isinstance(r, CollectorReading)]
    trajectory = tuple(r.emotion for r in debtor)

    def negativity(r: DebtorReading) -> float:
        return sum(r.emotion_scores.get(e, 0.0) for e in _NEGATIVE)

    trend = negativity(debtor[-1]) - negativity(debtor[0]) if len(debtor) >= 2 else 0.0
    promises = tuple(r.promise for r in debtor if r.promise is not None)
    causes = [r.cause for r in debtor if r.cause is not None]
    cause = Counter(causes).most_common(1)[0][0] if causes else None
    willingness: float | None = None
    if debtor:
        weights = np.array([0.6 ** (len(debtor) - 1 - i) for i in range(len(debtor))])
        values = np.array([r.willingness for r in debtor])
        value = float((weights * values).sum() / weights.sum())
        if promises:
            value += 0.1
        if any(r.intent is Intent.REFUSE for r in debtor):
            value -= 0.1
        value -= 0.05 * float(np.sign(trend))
        willingness = min(1.0, max(0.0, value))
    flags = tuple(f for r in collector for f in r.flags)
    penalty = sum(100 - r.score for r in collector)
    return ConversationSummary(
        emotion_trajectory=trajectory,
        negativity_trend=trend,
        intents=dict(Counter(r.intent for r in debtor)),
        cause=cause,
        promises=promises,
        willingness=willingness,
        compliance_score=max(0, 100 - penalty),
        flags=flags,
    )


def hit_intent(hit: tuple[Intent, str] | None) -> Intent | None:
    return None if hit is None else hit[0]


class ConversationAnalyzer:
    """Holds the trained models, the script library and the speech rules."""

    def __init__(
        self, models: ConversationModels, library: ScriptLibrary, rules: SpeechRuleSet
    ) -> None:
        self.models = models
        self.library = library
        self.rules = rules
        self._emotions = [Emotion(c) for c in models.emotion.classes]
        self._intents = [Intent(c) for c in models.intent.classes]

    def classify_intents(
        self, texts: Sequence[str]
    ) -> list[tuple[Intent, dict[Intent, float], str | None]]:
        """Intent per text (traditional characters read as simplified)."""
        return self._intents_of([to_simplified(t) for t in texts])

    def _intents_of(
        self, plain: Sequence[str]
    ) -> list[tuple[Intent, dict[Intent, float], str | None]]:
        scores = self.models.intent.scores(plain)
        out: list[tuple[Intent, dict[Intent, float], str | None]] = []
        for text, row in zip(plain, scores, strict=True):
            by_intent = {i: float(s) for i, s in zip(self._intents, row, strict=True)}
            hit = rule_intent(text)
            if hit is not None:
                intent, rule = hit
                weight = WEAK_RULE_WEIGHT if rule in WEAK_RULES else RULE_WEIGHT
                by_intent = {
                    i: (1 - weight) * s + (weight if i is intent else 0.0)
                    for i, s in by_intent.items()
                }
            else:
                rule = None
            best = max(by_intent, key=lambda i: by_intent[i])
            out.append(
                (best, by_intent, rule if rule is not None and best is hit_intent(hit) else None)
            )
        return out

    def read_debtor(
        self,
        texts: Sequence[str],
        case: CaseContext | None = None,
    ) -> list[DebtorReading]:
        case = case or CaseContext()
        plain = [to_simplified(t) for t in texts]  # traditional read as simplified, once
        emotion_rows = self.models.emotion.scores(plain)
        intents = self._intents_of(plain)
        readings = []
        for said, text, row, (intent, intent_scores, rule) in zip(
            texts, plain, emotion_rows, intents, strict=True
        ):
            scores = {e: float(s) for e, s in zip(self._emotions, row, strict=True)}
            if rule == "refuse-abuse":
                scores = {
                    e: (1 - ABUSE_ANGER_WEIGHT) * s
                    + (ABUSE_ANGER_WEIGHT if e is Emotion.ANGRY else 0)
                    for e, s in scores.items()
                }
            emotion = max(scores, key=lambda e: scores[e])
            hesitant = is_hesitant(text)
            cause = stated_cause(text)
            willingness = utterance_willingness(intent, emotion, scores[emotion], hesitant)
            promise = (
                Promise(said, promised_when(text), promised_amount_fen(text))
                if intent is Intent.PROMISE_TO_PAY
                else None
            )
            action = choose_script(
                self.library,
                emotion=emotion,
                intent=intent,
                case=case,
                cause=cause,
                hesitant=hesitant,
                willingness=willingness,
            )
            readings.append(
                DebtorReading(
                    text=said,
                    emotion=emotion,
                    emotion_scores=scores,
                    intent=intent,
                    intent_scores=intent_scores,
                    intent_rule=rule,
                    cause=cause,
                    hesitant=hesitant,
                    willingness=willingness,
                    promise=promise,
                    next_action=action,
                )
            )
        return readings

    def read_collector(self, texts: Sequence[str]) -> list[CollectorReading]:
        per_text = check_utterances(texts, self.rules, self.models.speech)
        return [
            CollectorReading(text, tuple(flags), compliance_score(flags))
            for text, flags in zip(texts, per_text, strict=True)
        ]

    def read(self, turns: Sequence[Turn], case: CaseContext | None = None) -> list[Reading]:
        """Read every turn in order (batched per speaker for speed)."""
        debtor_index = [i for i, t in enumerate(turns) if t.speaker is Speaker.DEBTOR]
        collector_index = [i for i, t in enumerate(turns) if t.speaker is Speaker.COLLECTOR]
        out: list[Reading | None] = [None] * len(turns)
        for i, reading in zip(
            debtor_index, self.read_debtor([turns[i].text for i in debtor_index], case), strict=True
        ):
            out[i] = reading
        for i, c_reading in zip(
            collector_index,
            self.read_collector([turns[i].text for i in collector_index]),
            strict=True,
        ):
            out[i] = c_reading
        return [r for r in out if r is not None]
