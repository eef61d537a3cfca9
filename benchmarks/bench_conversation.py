"""Conversation analysis throughput on one core: utterances per second.

Usage:  .venv/bin/python benchmarks/bench_conversation.py [--models DIR] [--n 4000]

Loads the trained models (trains from the shipped data first if there are none), then reads
a mix of debtor and collector utterances from the project's test split, in batches of 256
(the way `analyze` reads stdin) and one at a time (a live call).  The baseline, measured in
the same run, is the phrase rules alone (no model), so the ratio shows what the models cost.
Target: >= 2,000 utterances per second batched.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from debtflow.cli.conversation import default_data_dir, default_model_dir  # noqa: E402
from debtflow.core.conversation.analysis import ConversationAnalyzer, Turn  # noqa: E402
from debtflow.core.conversation.corpus import read_collector_set, read_debtor_set  # noqa: E402
from debtflow.core.conversation.debtor_rules import rule_intent, stated_cause  # noqa: E402
from debtflow.core.conversation.labels import Speaker  # noqa: E402
from debtflow.core.conversation.scripts import CaseContext, PlanOffer, load_library  # noqa: E402
from debtflow.core.conversation.speech import load_rules, rule_flags  # noqa: E402
from debtflow.core.conversation.trained import (  # noqa: E402
    ModelFileError,
    collector_set_path,
    debtor_set_path,
    load_models,
    save_models,
    train_models,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    directory = args.models or default_model_dir()
    data = default_data_dir()
    try:
        models = load_models(directory)
    except ModelFileError:
        print(f"no model in {directory}; training from {data}")
        models = train_models(data)
        save_models(models, directory)
    analyzer = ConversationAnalyzer(models, load_library(), load_rules())
    debtor = [r.text for r in read_debtor_set(debtor_set_path(data))]
    collector = [r.text for r in read_collector_set(collector_set_path(data))]
    pool = [Turn(Speaker.DEBTOR, t) for t in debtor] + [
        Turn(Speaker.COLLECTOR, t) for t in collector
    ]
    turns = [pool[i % len(pool)] for i in range(args.n)]
    case = CaseContext(plan=PlanOffer(3, 420_000, 700_000))

    analyzer.read(turns[:256], case)  # warm up
    started = time.perf_counter()
    for i in range(0, len(turns), 256):
        analyzer.read(turns[i : i + 256], case)
    batched = len(turns) / (time.perf_counter() - started)

    single_n = min(len(turns), 1000)
    started = time.perf_counter()
    for turn in turns[:single_n]:
        analyzer.read([turn], case)
    single = single_n / (time.perf_counter() - started)

    rules = analyzer.rules
    started = time.perf_counter()
    for turn in turns:
        if turn.speaker is Speaker.DEBTOR:
            rule_intent(turn.text)
            stated_cause(turn.text)
        else:
            rule_flags(turn.text, rules)
    baseline = len(turns) / (time.perf_counter() - started)

    print(f"utterances: {len(turns)} ({len(debtor)} debtor / {len(collector)} collector in pool)")
    print(f"baseline, phrase rules only:      {baseline:10,.0f} utterances/s")
    print(
        f"full analysis, batches of 256:    {batched:10,.0f} utterances/s "
        f"({batched / baseline:.3f} x baseline)  target >= 2,000"
    )
    print(
        f"full analysis, one at a time:     {single:10,.0f} utterances/s "
        f"({single / baseline:.3f} x baseline)"
    )


if __name__ == "__main__":
    main()
