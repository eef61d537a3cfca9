"""`debtflow conversation ...`: train, evaluate and run conversation intelligence."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from debtflow.cli.common import domain_errors, transaction
from debtflow.cli.outputs import folder_problem
from debtflow.config import get_settings
from debtflow.conversation import rules as conversation_rules
from debtflow.conversation import service as conversation_service
from debtflow.conversation.rules import (
    LIBRARY_SETTING,
    SPEECH_RULES_SETTING,
    InvalidConversationRules,
)
from debtflow.conversation.service import ConversationModelError
from debtflow.core.conversation.analysis import ConversationAnalyzer, Turn, summarise
from debtflow.core.conversation.corpus import (
    CorpusError,
    read_collector_set,
    read_debtor_set,
    read_emotion_rows,
)
from debtflow.core.conversation.evaluation import class_report, format_report, multilabel_report
from debtflow.core.conversation.labels import Emotion, Intent, Segment, Speaker, Violation
from debtflow.core.conversation.scripts import CaseContext, PlanOffer
from debtflow.core.conversation.speech import check_utterances
from debtflow.core.conversation.trained import (
    MODEL_FILE,
    ConversationModels,
    collector_set_path,
    debtor_set_path,
    save_models,
    train_models,
)

app = typer.Typer(
    help="Conversation intelligence: debtor emotion/intent/willingness, next script, "
    "collector speech compliance.",
    no_args_is_help=True,
)

ModelDir = Annotated[
    Path | None,
    typer.Option(
        "--models",
        help="Model directory (default $DEBTFLOW_CONVERSATION_MODELS, $DEBTFLOW_MODEL_DIR or "
        "<DEBTFLOW_DATA_DIR>/models/conversation).",
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Shipped data directory (default $DEBTFLOW_SHIPPED_DATA, else the repo's data/).",
    ),
]

LibraryFile = Annotated[
    Path | None,
    typer.Option(
        "--library",
        help="Script library TOML (default: $DEBTFLOW_SCRIPT_LIBRARY, else the shipped one).",
    ),
]
RulesFile = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Speech-rule TOML (default: $DEBTFLOW_SPEECH_RULES, else the shipped one).",
    ),
]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def default_model_dir() -> Path:
    return conversation_service.model_dir()


def default_data_dir() -> Path:
    return conversation_service.shipped_data_dir()


def _train(data: Path, hold_out: bool) -> ConversationModels:
    try:
        return train_models(
            data,
            hold_out_emotion=hold_out,
            progress=lambda m: typer.echo(m, err=True),
        )
    except CorpusError as exc:
        _fail(str(exc))
        raise AssertionError from exc  # unreachable: _fail raises


@app.command()
def train(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--models",
            help="Where to write the model files (default: the configured model directory).",
        ),
    ] = None,
    data: DataDir = None,
    hold_out_emotion: Annotated[
        bool,
        typer.Option(
            "--hold-out-emotion",
            help="Leave zh_text/smp2020_ewect/usual_holdout.csv out, for an honest evaluate.",
        ),
    ] = False,
) -> None:
    """Train the emotion, intent and collector-speech models from the shipped data."""
    target = out or default_model_dir()
    problem = folder_problem(target)
    if problem is not None:
        _fail(f"cannot write the models to {target}: {problem}", 2)
    models = _train(data or default_data_dir(), hold_out_emotion)
    path = save_models(models, target)
    typer.echo(f"trained in {models.trained_seconds:.1f} s on {models.counts}; wrote {path}")


TrainMissing = Annotated[
    bool,
    typer.Option(
        "--train-missing",
        help="When --models holds no model, train one from the shipped data and save it "
        "there (without this, a --models that holds none is refused).",
    ),
]


def _load_or_train(
    models_dir: Path | None, data: Path | None, train_missing: bool = False
) -> ConversationModels:
    """The saved models. Without ``--models`` the configured directory's, trained on first
    use when it holds none (docs/conversation.md); an explicit ``--models`` that holds no
    model is refused (exit 2) unless ``--train-missing`` asks for training — a mistyped
    path must not give figures or readings of a model that is not the operator's."""
    if models_dir is not None and not train_missing and not (models_dir / MODEL_FILE).exists():
        where = "does not exist" if not models_dir.exists() else f"holds no {MODEL_FILE}"
        _fail(
            f"--models {models_dir} {where}; train one with `debtflow conversation train "
            f"--out {models_dir}`, or add --train-missing",
            2,
        )
    try:
        return conversation_service.load_or_train(
            models_dir, data, progress=lambda m: typer.echo(m, err=True)
        )
    except (ConversationModelError, CorpusError) as exc:
        _fail(str(exc))
        raise AssertionError from exc  # unreachable: _fail raises


@app.command()
def evaluate(
    models_dir: ModelDir = None,
    data: DataDir = None,
    emotion_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--emotion-file",
            help="Emotion-labelled file(s): SMP CSV/JSON, CPED CSV or text,emotion CSV "
            "(default: the Weibo hold-out and the CPED test part).",
        ),
    ] = None,
    rules: RulesFile = None,
    train_missing: TrainMissing = False,
) -> None:
    """Per-class precision, recall and F1: emotion, intent (test split), collector flags
    (with the speech rules in force, or --rules). Macro-F1 averages over the classes present
    in the truth or the predictions; each row gives its n and how many were predicted."""
    root = data or default_data_dir()
    models = _load_or_train(models_dir, data, train_missing)
    analyzer = _analyzer(models, None, rules)
    files = emotion_file or [
        root / "zh_text" / "smp2020_ewect" / "usual_holdout.csv",
        root / "zh_text" / "cped" / "test_part.csv",
    ]
    labels = [e.value for e in Emotion]
    for path in files:
        try:
            read = read_emotion_rows(path)
        except CorpusError as exc:
            _fail(str(exc))
        examples, note = read.examples, read.skipped_note()
        if not examples:
            _fail(f"{path}: no usable emotion labels" + (f" ({note})" if note else ""), 2)
        if path.name == "usual_holdout.csv" and not models.emotion_holdout_excluded:
            typer.echo(
                "warning: this model was trained on usual_holdout.csv; "
                "retrain with --hold-out-emotion for an honest score",
                err=True,
            )
        predicted = models.emotion.predict([e.text for e in examples])
        report = class_report([e.emotion.value for e in examples], predicted, labels)
        title = f"\nemotion: {path}" + (f"\n{note}" if note else "")
        typer.echo(format_report(title, report))

    try:
        debtor = [r for r in read_debtor_set(debtor_set_path(root)) if r.split == "test"]
        collector = [r for r in read_collector_set(collector_set_path(root)) if r.split == "test"]
    except CorpusError as exc:
        _fail(str(exc))
    intent_labels = [i.value for i in Intent]
    debtor_blind = [r for r in debtor if r.group.startswith("blind-")]
    debtor_parts = [("test split", debtor)]
    if debtor_blind:
        debtor_parts.append(("blind part of the test split", debtor_blind))
    for part_name, rows in debtor_parts:
        texts = [r.text for r in rows]
        truth = [r.intent.value for r in rows]
        combined = [i.value for i, _s, _r in analyzer.classify_intents(texts)]
        typer.echo(
            format_report(
                f"\nintent, rules + model ({part_name})",
                class_report(truth, combined, intent_labels),
            )
        )
        typer.echo(
            format_report(
                f"\nintent, model only ({part_name})",
                class_report(truth, models.intent.predict(texts), intent_labels),
            )
        )

    kinds = [v.value for v in Violation]
    blind = [r for r in collector if r.group.startswith("blind-")]
    parts = [("test split", collector)]
    if blind:
        parts.append(("blind part of the test split", blind))
    for part_name, part in parts:
        c_texts = [r.text for r in part]
        c_truth = [frozenset(v.value for v in r.violations) for r in part]
        for title, speech_model in (("rules + model", models.speech), ("rules only", None)):
            flags = check_utterances(c_texts, analyzer.rules, speech_model)
            c_pred = [frozenset(f.violation.value for f in fl) for fl in flags]
            typer.echo(
                format_report(
                    f"\ncollector flags, {title} ({part_name})",
                    multilabel_report(c_truth, c_pred, kinds),
                )
            )
    typer.echo(f"\ncollector model threshold {models.speech.threshold}")
    typer.echo(f"speech rules version {analyzer.rules.version!r}")


@app.command("check-rules")
def check_rules(library: LibraryFile = None, rules: RulesFile = None) -> None:
    """Check a script library and speech-rule file an operations manager edited (the files
    given, else those in force) and say what they hold and whether they are in force.
    Exit status 0 when both can be used, 2 when one cannot (the problem on stderr)."""
    settings = get_settings()
    failed = False
    checks = (
        (
            "script library",
            library,
            settings.script_library,
            LIBRARY_SETTING,
            "library.toml",
            _library_summary,
        ),
        (
            "speech rules",
            rules,
            settings.speech_rules,
            SPEECH_RULES_SETTING,
            "collector_speech.toml",
            _rules_summary,
        ),
    )
    for kind, given, configured, setting, shipped, summary in checks:
        in_force = f"{configured} ({setting})" if configured else f"the shipped {shipped}"
        try:
            held = summary(configured, setting) if given is None else summary(given, None)
        except InvalidConversationRules as exc:
            typer.echo(f"error: {exc.message}", err=True)
            failed = True
            continue
        if given is None or (configured is not None and _same_file(given, configured)):
            typer.echo(f"{kind}: {in_force}, in force — {held}")
        else:
            typer.echo(f"{kind}: {given}, not in force (in force: {in_force}) — {held}")
    if failed:
        raise typer.Exit(code=2)


def _library_summary(path: Path | None, setting: str | None) -> str:
    library = conversation_rules.read_library(path, setting=setting)
    return f"version {library.version!r}, locale {library.locale}, {len(library.scripts)} scripts"


def _rules_summary(path: Path | None, setting: str | None) -> str:
    rules = conversation_rules.read_speech_rules(path, setting=setting)
    return f"version {rules.version!r}, {len(rules.rules)} rules"


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:
        return one.resolve() == other.resolve()


def _analyzer(
    models: ConversationModels, library_path: Path | None, rules_path: Path | None
) -> ConversationAnalyzer:
    """The models with the given library and rule files, else those in force (the settings'
    files or the shipped ones); a file that cannot be used exits with status 2."""
    try:
        library = (
            conversation_rules.script_library()
            if library_path is None
            else conversation_rules.read_library(library_path)
        )
        rules = (
            conversation_rules.speech_rules()
            if rules_path is None
            else conversation_rules.read_speech_rules(rules_path)
        )
    except InvalidConversationRules as exc:
        _fail(exc.message, 2)
        raise AssertionError from exc  # unreachable
    return ConversationAnalyzer(models, library, rules)


def _read_case(path: Path | None) -> CaseContext:
    if path is None:
        return CaseContext()
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})")
    if not isinstance(raw, dict):
        _fail(f"{path}: the case must be a JSON object")
    try:
        plan_raw = raw.get("plan")
        plan = None
        if plan_raw is not None:
            if not isinstance(plan_raw, dict):
                raise ValueError("'plan' must be an object")
            plan = PlanOffer(
                instalment_count=_int(plan_raw, "instalment_count"),
                instalment_fen=_int(plan_raw, "instalment_fen"),
                current_monthly_fen=_int(plan_raw, "current_monthly_fen"),
                extension_days=_int(plan_raw, "extension_days", 0),
            )
        segment = raw.get("segment")
        outstanding = raw.get("outstanding_fen")
        if outstanding is not None and (
            not isinstance(outstanding, int) or isinstance(outstanding, bool)
        ):
            raise ValueError("'outstanding_fen' must be an integer number of fen")
        return CaseContext(
            debtor_name=_text(raw, "debtor_name"),
            creditor_name=_text(raw, "creditor_name"),
            agent_name=_text(raw, "agent_name"),
            outstanding_fen=outstanding,
            segment=None if segment is None else Segment(segment),
            plan=plan,
        )
    except ValueError as exc:
        _fail(f"{path}: bad case ({exc})")
        raise AssertionError from exc  # unreachable


def _int(raw: dict[str, Any], key: str, default: int | None = None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"plan '{key}' must be an integer (fen for amounts)")
    return value


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string")
    return value


def _parse_turn(number: int, line: str) -> Turn:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict):
        raise ValueError(f"line {number}: expected an object with speaker and text")
    speaker = item.get("speaker")
    text = item.get("text")
    if speaker not in ("debtor", "collector"):
        raise ValueError(f'line {number}: \'speaker\' must be "debtor" or "collector"')
    if not isinstance(text, str):
        raise ValueError(f"line {number}: 'text' must be a string")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"line {number}: 'text' has a lone surrogate (not valid Unicode)") from exc
    return Turn(Speaker(speaker), text)


@app.command()
def analyze(
    models_dir: ModelDir = None,
    data: DataDir = None,
    case_id: Annotated[
        int | None,
        typer.Option(
            "--case",
            help="Store the analyses against this case: one row per utterance, the "
            "transcript and results in the evidence log, a stated cause on the case.",
        ),
    ] = None,
    contact_attempt: Annotated[
        int | None,
        typer.Option("--contact-attempt", help="The logged contact attempt of --case."),
    ] = None,
    analysed_by: Annotated[
        str, typer.Option("--by", help="Who analysed it (recorded with --case).")
    ] = "cli",
    context: Annotated[
        Path | None,
        typer.Option(
            "--context",
            help="JSON case context: debtor_name, creditor_name, agent_name, outstanding_fen, "
            "segment, plan {instalment_count, instalment_fen, current_monthly_fen}.",
        ),
    ] = None,
    library: LibraryFile = None,
    rules: RulesFile = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Also print the conversation summary on stderr.")
    ] = False,
    train_missing: TrainMissing = False,
) -> None:
    """Read JSON lines {"speaker": "debtor"|"collector", "text": ...}; write one JSON line each."""
    if contact_attempt is not None and case_id is None:
        _fail("--contact-attempt needs the --case it belongs to")
    turns = []
    for number, line in enumerate(sys.stdin, start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")  # a UTF-8 byte-order mark, as Notepad writes
        if not line.strip():
            continue
        try:
            turns.append(_parse_turn(number, line))
        except ValueError as exc:
            _fail(str(exc))
    case_context = None if context is None and case_id is not None else _read_case(context)
    models = _load_or_train(models_dir, data, train_missing)
    analyzer = _analyzer(models, library, rules)
    if case_id is not None:
        _attach(turns, case_id, contact_attempt, analysed_by, analyzer, case_context, summary)
        return
    readings = analyzer.read(turns, case_context)
    for reading in readings:
        typer.echo(json.dumps(reading.as_json(), ensure_ascii=False))
    if summary:
        typer.echo(json.dumps(summarise(readings).as_json(), ensure_ascii=False), err=True)


@domain_errors
def _attach(
    turns: list[Turn],
    case_id: int,
    contact_attempt: int | None,
    analysed_by: str,
    analyzer: ConversationAnalyzer,
    context: CaseContext | None,
    summary: bool,
) -> None:
    with transaction() as session:
        attached = conversation_service.attach_analysis(
            session,
            utterances=[(t.speaker.value, t.text) for t in turns],
            case_id=case_id,
            contact_attempt_id=contact_attempt,
            analysed_by=analysed_by,
            now=datetime.now(UTC),
            reader=analyzer,
            context=context,
        )
    for reading in attached.readings:
        typer.echo(json.dumps(reading, ensure_ascii=False))
    if summary:
        typer.echo(json.dumps(attached.summary, ensure_ascii=False), err=True)
    cause = f"; overdue cause now {attached.case_cause}" if attached.cause_updated else ""
    typer.echo(
        f"stored {len(attached.analysis_ids)} analyses for case {case_id}; "
        f"evidence leaf {attached.evidence.index}{cause}",
        err=True,
    )
