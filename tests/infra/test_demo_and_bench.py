"""The `make demo` driver (named steps, fail-fast, summary.json) and the bench runner's discovery."""

from __future__ import annotations

import json

import pytest

from scripts import demo


def _ok(name):
    return demo.Step(name, f"{name} step", lambda ctx: demo.StepResult(headline=f"{name} done", summary={"n": 1}))


def test_steps_run_in_order_and_write_summary(tmp_path, capsys):
    assert demo.run([_ok("generate"), _ok("ingest")], tmp_path) == 0
    out = capsys.readouterr().out
    assert out.index("[1/2] generate") < out.index("[2/2] ingest")
    assert json.loads((tmp_path / "summary.json").read_text()) == {"generate": {"n": 1}, "ingest": {"n": 1}}


def test_failure_stops_the_run_with_exit_1_and_one_line(tmp_path, capsys):
    ran = []

    def broken(ctx):
        raise demo.DemoError("ingest: landing folder missing: run the generate step first")

    def never(ctx):
        ran.append("never")
        return demo.StepResult("x", {})

    code = demo.run([_ok("generate"), demo.Step("ingest", "ingest", broken), demo.Step("dbt", "dbt", never)], tmp_path)
    captured = capsys.readouterr()
    assert code == 1 and not ran
    assert "FAILED: ingest: landing folder missing: run the generate step first" in captured.err
    assert json.loads((tmp_path / "summary.json").read_text()) == {"generate": {"n": 1}}  # partial, still written


def test_synth_step_summarizes_every_environment(synth, tmp_path, monkeypatch):
    """The synth step's summary from the session's synthesized app (no second synth)."""
    import infra.synthesis

    monkeypatch.setattr(infra.synthesis, "synthesize_environment", lambda env, outdir: synth[env])
    result = demo.synth_step(demo.DemoContext(output_dir=tmp_path))
    assert set(result.summary) == {"dev", "staging", "prod"}
    for env, section in result.summary.items():
        assert section["stacks"] == len(synth[env].stack_ids) >= 5
        assert section["resources"] == sum(section["resources_per_stack"].values()) > 50
        assert section["nag_unacknowledged"] == 0
    assert len(result.table) == sum(s["stacks"] for s in result.summary.values())


def test_synth_step_fails_on_unacknowledged_finding(synth, tmp_path, monkeypatch):
    import dataclasses

    import infra.synthesis
    from infra.compliance import Finding

    finding = Finding("AwsSolutions", "AwsSolutions-S1", "Storage/Lake/Raw/Bucket/Resource", "no access logs")
    monkeypatch.setattr(infra.synthesis, "synthesize_environment",
                        lambda env, outdir: dataclasses.replace(synth[env], unacknowledged=[finding]))
    with pytest.raises(demo.DemoError, match=r"dev: 1 unacknowledged cdk-nag finding.*AwsSolutions-S1 on "
                                             r"Storage/Lake/Raw/Bucket/Resource.*infra/compliance.py"):
        demo.synth_step(demo.DemoContext(output_dir=tmp_path))


def test_bench_runner_discovers_modules_by_name():
    from bench.run import discover

    assert discover()["synth"] == "bench.bench_synth"


def test_bench_runner_isolates_a_failing_benchmark(tmp_path, monkeypatch, capsys):
    import sys
    import types

    import bench.run as runner

    ok = types.ModuleType("bench.bench_fake_ok")
    ok.run = lambda: [runner.Measurement("answer", 42, "units", goal="<= 50", met=True)]
    broken = types.ModuleType("bench.bench_fake_broken")

    def explode():
        raise RuntimeError("no data: run make demo first")

    broken.run = explode
    monkeypatch.setitem(sys.modules, ok.__name__, ok)
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    monkeypatch.setattr(runner, "discover", lambda: {"broken": broken.__name__, "ok": ok.__name__})
    monkeypatch.setattr(runner, "OUTPUT", tmp_path / "results.json")
    assert runner.main([]) == 1
    results = json.loads((tmp_path / "results.json").read_text())["benchmarks"]
    assert results["broken"]["error"] == "RuntimeError: no data: run make demo first"
    assert results["ok"]["measurements"][0]["value"] == 42
    assert "answer" in capsys.readouterr().out
