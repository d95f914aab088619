"""Progress lines: one per epoch with elapsed and ETA; evaluation passes every 10 s."""

from __future__ import annotations

import io

from igr.training.progress import ProgressLog, duration


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_duration_format():
    assert [duration(s) for s in (0.4, 42, 185, 7440)] == ["0s", "42s", "3m05s", "2h04m"]


def test_progress_log_prints_every_interval_and_at_the_end():
    clock, stream = FakeClock(), io.StringIO()
    log = ProgressLog("igr vae evaluate: discrete bound", 1000, stream=stream, clock=clock)
    for _ in range(9):  # 100 examples per 4 s: a line after 12 s, 24 s and 36 s, and at the end
        clock.now += 4.0
        log.advance(100)
    clock.now += 4.0
    log.advance(100)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert lines[0] == "igr vae evaluate: discrete bound: 300/1000 examples | elapsed 12s | ETA 28s"
    assert lines[-1].startswith("igr vae evaluate: discrete bound: 1000/1000 examples")


def test_trainer_epoch_line_has_epoch_of_n_elapsed_eta_and_metrics():
    from igr.training.trainer import _Progress

    progress = _Progress(num_epochs=10, steps_per_epoch=5, stream=io.StringIO(), start_epoch=2)
    progress.started -= 30.0  # 3 epochs (3, 4, 5) in 30 s: 5 left, 50 s
    line = progress.epoch_line({"epoch": 5, "step": 25, "loss": 1.5, "test_elbo": -99.25})
    assert line.startswith("epoch 5/10 | elapsed 30s | ETA 50s | "), line
    assert "loss 1.5" in line and "test_elbo -99.25" in line and "step 25" in line
