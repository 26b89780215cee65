"""A slow step says what it is doing on stderr; a quick one says nothing. No test waits on the clock: each slow step
waits for the heartbeat's own lines (events), and the quick one ends before a heartbeat 60 s away could fire."""

import threading

from checks import progress


def test_a_step_past_the_first_interval_says_so_then_keeps_saying_so():
    said, three = [], threading.Event()

    def say(text):
        said.append(text)
        if len(said) == 3:
            three.set()

    def step():  # a step that lasts until three progress lines came out
        assert three.wait(30), said
        return "result"

    assert progress.beating("train: training cnn-cpu-fp32-eager", step, say, after=0.01, every=0.01)() == "result"
    assert len(said) >= 3
    assert all(line.startswith("train: training cnn-cpu-fp32-eager (") for line in said)
    assert all(line.endswith(" s so far) ...") for line in said)


def test_a_quick_step_says_nothing_and_the_heartbeat_ends_with_it():
    said = []
    with progress.Heartbeat("train: checking determinism-cpu", said.append, after=60, every=60) as beat:
        pass
    assert said == [] and not beat._thread.is_alive()


def test_a_step_that_raises_still_stops_its_heartbeat():
    said = []
    beat = progress.Heartbeat("x", said.append, after=60)
    try:
        with beat:
            raise ValueError("boom")
    except ValueError:
        pass
    assert not beat._thread.is_alive() and said == []


def test_the_default_goes_to_stderr_and_leaves_stdout_alone(capsys):
    progress.stderr_line("train: training net-cpu-fp32-eager (6 s so far) ...")
    out, err = capsys.readouterr()
    assert (out, err) == ("", "train: training net-cpu-fp32-eager (6 s so far) ...\n")
