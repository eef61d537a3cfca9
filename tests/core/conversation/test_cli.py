from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from debtflow.cli.conversation import app

runner = CliRunner()


def _lines(*items: dict[str, str]) -> str:
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


def test_analyze_writes_one_json_line_per_input(model_dir: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps(
            {
                "debtor_name": "张先生",
                "segment": "hardship",
                "plan": {
                    "instalment_count": 3,
                    "instalment_fen": 420000,
                    "current_monthly_fen": 700000,
                },
            }
        )
    )
    stdin = _lines(
        {"speaker": "collector", "text": "你这个老赖"},
        {"speaker": "debtor", "text": "我再想想"},
        {"speaker": "debtor", "text": "我是他老婆"},
    )
    result = runner.invoke(
        app, ["analyze", "--models", str(model_dir), "--context", str(case)], input=stdin
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["flags"][0]["violation"] == "insult" and rows[0]["score"] == 85
    for row in rows[1:]:
        for key in ("emotion", "emotion_scores", "intent", "cause", "willingness", "next_action"):
            assert key in row
    assert rows[2]["intent"] == "third_party"
    assert "4,200.00" not in rows[2]["next_action"]["text"]


def test_bad_json_line_is_named_and_exits_non_zero(model_dir: Path) -> None:
    stdin = _lines({"speaker": "debtor", "text": "好的"}) + "{not json\n"
    result = runner.invoke(app, ["analyze", "--models", str(model_dir)], input=stdin)
    assert result.exit_code != 0
    assert "line 2" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_speaker_is_refused(model_dir: Path) -> None:
    stdin = _lines({"speaker": "robot", "text": "好的"})
    result = runner.invoke(app, ["analyze", "--models", str(model_dir)], input=stdin)
    assert result.exit_code != 0
    assert "line 1" in result.stderr and "speaker" in result.stderr


def test_bad_case_file_is_a_clear_error(model_dir: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"plan": {"instalment_count": 3, "instalment_fen": 12.5}}')
    result = runner.invoke(
        app,
        ["analyze", "--models", str(model_dir), "--context", str(case)],
        input=_lines({"speaker": "debtor", "text": "好的"}),
    )
    assert result.exit_code != 0
    assert "bad case" in result.stderr


def test_broken_library_is_reported(model_dir: Path, tmp_path: Path) -> None:
    library = tmp_path / "lib.toml"
    library.write_text('version = "x"\n[[scripts]]\nid = "a"\ntext = "{nope}"\n')
    result = runner.invoke(
        app,
        ["analyze", "--models", str(model_dir), "--library", str(library)],
        input=_lines({"speaker": "debtor", "text": "好的"}),
    )
    assert result.exit_code != 0
    assert "script 'a'" in result.stderr


def test_analyze_trains_first_when_no_model_exists(small_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "fresh"
    stdin = _lines({"speaker": "debtor", "text": "明天还"})
    refused = runner.invoke(
        app, ["analyze", "--models", str(models), "--data", str(small_data)], input=stdin
    )
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith(f"error: --models {models} does not exist; train one")
    assert "--train-missing" in refused.stderr and not models.exists()
    result = runner.invoke(
        app,
        ["analyze", "--models", str(models), "--data", str(small_data), "--train-missing"],
        input=stdin,
    )
    assert result.exit_code == 0, result.output
    assert "training from the shipped data" in result.stderr
    assert (models / "conversation-models.pkl").is_file()
    assert json.loads(result.stdout.splitlines()[0])["intent"] == "promise_to_pay"


def test_corrupt_model_file_is_not_silently_replaced(tmp_path: Path) -> None:
    (tmp_path / "conversation-models.pkl").write_bytes(b"not a pickle")
    result = runner.invoke(
        app,
        ["analyze", "--models", str(tmp_path)],
        input=_lines({"speaker": "debtor", "text": "嗯"}),
    )
    assert result.exit_code != 0
    assert "retrain" in result.stderr


def test_train_then_evaluate_prints_per_class_tables(small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    trained = runner.invoke(
        app, ["train", "--out", str(out), "--data", str(small_data), "--hold-out-emotion"]
    )
    assert trained.exit_code == 0, trained.output
    assert (out / "conversation-models.pkl").is_file()
    result = runner.invoke(app, ["evaluate", "--models", str(out), "--data", str(small_data)])
    assert result.exit_code == 0, result.output
    for heading in ("emotion:", "intent, rules + model", "collector flags, rules + model"):
        assert heading in result.stdout
    for label in ("anxious", "promise_to_pay", "impersonation"):
        assert label in result.stdout
    assert "precision" in result.stdout and "recall" in result.stdout


def test_evaluate_rejects_a_missing_emotion_file(model_dir: Path, small_data: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--models",
            str(model_dir),
            "--data",
            str(small_data),
            "--emotion-file",
            "/nonexistent.csv",
        ],
    )
    assert result.exit_code != 0
    assert "no such file" in result.stderr


def test_evaluate_refuses_a_models_folder_without_a_model(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    result = runner.invoke(app, ["evaluate", "--models", str(missing)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --models {missing} does not exist")
    assert result.stdout == "" and not missing.exists()
    result = runner.invoke(app, ["evaluate", "--models", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"--models {tmp_path} holds no conversation-models.pkl" in result.stderr


def test_evaluate_says_which_emotion_rows_it_skipped_and_what_macro_f1_covers(
    model_dir: Path, small_data: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("text,emotion\n我很生气,angry\n太好了谢谢,positive\n开心,joy\n", "utf-8")
    args = ["evaluate", "--models", str(model_dir), "--data", str(small_data)]
    result = runner.invoke(app, [*args, "--emotion-file", str(mine)])
    assert result.exit_code == 0, result.output
    section = result.stdout.split(f"emotion: {mine}\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines()[0] == (
        "skipped 1 of 3 rows: a label that maps to no debtflow emotion ('joy' ×1)"
    )
    summary = section.splitlines()[-1]
    assert "in the truth or the predictions" in summary and summary.endswith("n=2")
    only_joy = tmp_path / "joy.csv"
    only_joy.write_text("text,emotion\n开心,joy\n", "utf-8")
    refused = runner.invoke(app, [*args, "--emotion-file", str(only_joy)])
    assert refused.exit_code == 2
    assert "no usable emotion labels (skipped 1 of 1 rows" in refused.stderr


def test_train_reports_missing_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "m"), "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "not found" in result.stderr


def test_train_refuses_an_out_that_is_a_file_before_training(tmp_path: Path) -> None:
    taken = tmp_path / "models"
    taken.write_text("not a folder")
    result = runner.invoke(app, ["train", "--out", str(taken)])
    assert result.exit_code == 2, result.output
    assert (
        result.stderr == f"error: cannot write the models to {taken}: it is a file, not a folder\n"
    )


def test_a_lone_surrogate_is_a_line_error_not_a_traceback(model_dir: Path) -> None:
    stdin = '{"speaker":"debtor","text":"好的"}\n{"speaker":"debtor","text":"\\ud800"}\n'
    result = runner.invoke(app, ["analyze", "--models", str(model_dir)], input=stdin)
    assert result.exit_code != 0
    assert "error: line 2:" in result.stderr
    assert isinstance(result.exception, SystemExit)


def test_a_utf8_bom_is_accepted_on_stdin_context_library_and_rules(
    model_dir: Path, tmp_path: Path
) -> None:
    shipped = Path(__file__).parents[3] / "src" / "debtflow" / "core" / "conversation"
    library = tmp_path / "lib.toml"
    library.write_bytes(
        b"\xef\xbb\xbf" + (shipped / "script_library" / "library.toml").read_bytes()
    )
    rules = tmp_path / "rules.toml"
    rules.write_bytes(b"\xef\xbb\xbf" + (shipped / "rules" / "collector_speech.toml").read_bytes())
    case = tmp_path / "case.json"
    case.write_bytes(b"\xef\xbb\xbf" + b'{"debtor_name": "\xe5\xbc\xa0\xe4\xb8\x89"}')
    stdin = "\ufeff" + _lines({"speaker": "debtor", "text": "好的"})
    result = runner.invoke(
        app,
        ["analyze", "--models", str(model_dir), "--context", str(case)]
        + ["--library", str(library), "--rules", str(rules)],
        input=stdin,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["speaker"] == "debtor"
