"""The demo's synth step on the session's synthesized app, and the bench runner (the demo driver itself: tests/demo)."""

from __future__ import annotations

import json

import pytest

from scripts import demo


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

    def in_process(short):  # the child's own code path, without paying for a Python process per benchmark
        result_file = tmp_path / f"{short}.json"
        runner._child(short, result_file)
        return {**json.loads(result_file.read_text()), "peak_rss_mb": 1.0}

    monkeypatch.setattr(runner, "_run_isolated", in_process)
    assert runner.main([]) == 1
    results = json.loads((tmp_path / "results.json").read_text())["benchmarks"]
    assert results["broken"]["error"] == "RuntimeError: no data: run make demo first"
    assert results["ok"]["measurements"][0]["value"] == 42
    assert "answer" in capsys.readouterr().out
