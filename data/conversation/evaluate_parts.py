"""Score intents and collector flags on each hand-written part of the utterance set.

Run from the repository root:

    .venv/bin/python data/conversation/evaluate_parts.py --models DIR [--data DIR]
    .venv/bin/python data/conversation/evaluate_parts.py --train-only [--parts blind2-tune]

Parts: the project test split without the second blind block ("test"), the first blind
block ("blind"), and the two halves of the second blind block ("blind2-tune", dev split;
"blind2-final", test split), the third round's blind block ("blind3", test split) and its
training block ("hand3").  `--models` scores a trained model file (the shipped models
train on train + dev, so blind2-tune is then in-sample for the *model*); `--train-only`
fits the intent and collector models on the train split alone, which keeps blind2-tune
honest for the models while rules are being tuned on it.  `--errors` lists the misread
lines of dev and training parts only; the test-split parts are scored, never inspected.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from debtflow.core.conversation.analysis import ConversationAnalyzer
from debtflow.core.conversation.corpus import (
    CollectorExample,
    DebtorExample,
    read_collector_set,
    read_debtor_set,
)
from debtflow.core.conversation.evaluation import class_report, format_report, multilabel_report
from debtflow.core.conversation.labels import Emotion, Intent, Violation
from debtflow.core.conversation.scripts import load_library
from debtflow.core.conversation.speech import check_utterances, load_rules
from debtflow.core.conversation.textmodel import fit_text_classifier
from debtflow.core.conversation.trained import (
    ConversationModels,
    choose_speech_threshold,
    collector_set_path,
    debtor_set_path,
    fit_speech,
    load_models,
)

Part = Callable[[str, str], bool]  # (split, group) -> in the part

PARTS: dict[str, Part] = {
    "dev": lambda split, group: split == "dev",
    "test": lambda split, group: split == "test" and not group.startswith(("blind2-", "blind3-")),
    "blind": lambda split, group: group.startswith("blind-"),
    "probe2": lambda split, group: group.startswith("probe2-"),
    "probe3": lambda split, group: group.startswith("probe3-"),
    "blind2-tune": lambda split, group: group.startswith("blind2-tune-"),
    "blind2-final": lambda split, group: group.startswith("blind2-final-"),
    "blind3": lambda split, group: group.startswith("blind3-"),
    "hand3": lambda split, group: group.startswith("hand3-"),
}


def _train_only(data: Path) -> ConversationModels:
    """Intent and collector models fitted on the train split only (emotion left empty)."""
    debtor = [r for r in read_debtor_set(debtor_set_path(data)) if r.split == "train"]
    intent = fit_text_classifier(
        [r.text for r in debtor],
        [r.intent.value for r in debtor],
        c=0.5,
        min_df=1,
        tune_bias=False,
    )
    collector = read_collector_set(collector_set_path(data))
    train = [r for r in collector if r.split == "train"]
    dev = [r for r in collector if r.split == "dev"]
    speech = fit_speech(train, 0.9)
    speech.threshold = choose_speech_threshold(speech, dev, load_rules())
    # intents and flags do not read the emotion model: a stand-in keeps the analyzer whole
    emotion = fit_text_classifier(
        ["气死了", "难过", "害怕", "好的", "开心"], [e.value for e in Emotion], folds=0
    )
    return ConversationModels(
        emotion=emotion, intent=intent, speech=speech, emotion_holdout_excluded=True
    )


def _intent_part(
    analyzer: ConversationAnalyzer, name: str, rows: list[DebtorExample], errors: bool
) -> None:
    texts = [r.text for r in rows]
    truth = [r.intent.value for r in rows]
    readings = analyzer.classify_intents(texts)
    combined = [i.value for i, _s, _r in readings]
    labels = [i.value for i in Intent]
    print(format_report(f"\nintent, rules + model ({name})", class_report(truth, combined, labels)))
    model_only = analyzer.models.intent.predict(texts)
    report = class_report(truth, model_only, labels)
    print(
        f"intent, model only ({name}): accuracy {report.accuracy:.3f} "
        f"macro-F1 {report.macro_f1:.3f}"
    )
    if errors:
        for row, (intent, _s, rule) in zip(rows, readings, strict=True):
            if intent.value != row.intent.value:
                print(
                    f"  MISS {row.intent.value:>15} -> {intent.value:<15} {rule or '-':<20} "
                    f"{row.text}"
                )


def _flag_part(
    analyzer: ConversationAnalyzer, name: str, rows: list[CollectorExample], errors: bool
) -> None:
    texts = [r.text for r in rows]
    truth = [frozenset(v.value for v in r.violations) for r in rows]
    kinds = [v.value for v in Violation]
    for title, model in (("rules + model", analyzer.models.speech), ("rules only", None)):
        flags = check_utterances(texts, analyzer.rules, model)
        predicted = [frozenset(f.violation.value for f in fl) for fl in flags]
        report = multilabel_report(truth, predicted, kinds)
        if title == "rules + model":
            print(format_report(f"\ncollector flags, {title} ({name})", report))
        else:
            total = report.rows[-1]
            print(
                f"collector flags, rules only ({name}): precision {total.precision:.3f} "
                f"recall {total.recall:.3f}"
            )
        if errors and title == "rules + model":
            for row, want, got, fl in zip(rows, truth, predicted, flags, strict=True):
                if want != got:
                    rules = ",".join(f.rule for f in fl) or "-"
                    print(
                        f"  MISS want={';'.join(sorted(want)) or '-'} "
                        f"got={';'.join(sorted(got)) or '-'} [{rules}] {row.text}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument(
        "--parts",
        nargs="*",
        default=["test", "blind", "blind2-tune"],
        choices=list(PARTS),
        help="default: test blind blind2-tune; blind2-final only when named (scored at the "
        "start and at the end of a round of changes, never in between)",
    )
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    if args.errors and set(args.parts) - {"dev", "probe2", "probe3", "blind2-tune", "hand3"}:
        sys.exit(
            "error: --errors lists dev and train parts only (dev, probe2, probe3, blind2-tune, "
            "hand3); "
            "test parts are scored"
        )
    if args.train_only:
        models = _train_only(args.data)
    elif args.models is not None:
        models = load_models(args.models)
    else:
        sys.exit("error: give --models DIR or --train-only")
    analyzer = ConversationAnalyzer(models, load_library(), load_rules())
    debtor = read_debtor_set(debtor_set_path(args.data))
    collector = read_collector_set(collector_set_path(args.data))
    print(f"collector model threshold {models.speech.threshold}")
    for name in args.parts:
        keep = PARTS[name]
        _intent_part(analyzer, name, [r for r in debtor if keep(r.split, r.group)], args.errors)
        _flag_part(analyzer, name, [r for r in collector if keep(r.split, r.group)], args.errors)


if __name__ == "__main__":
    main()
