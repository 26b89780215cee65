"""Progress of a slow step: a line on stderr once a step has run `after` seconds, then every `every` seconds, so a
run that a busy machine slows down tenfold says what it is doing instead of looking hung. A quick step prints
nothing. Stdout keeps one line per check, and --json's report is unaffected.
"""

import sys
import threading
import time

AFTER = 5.0  # seconds a step runs before its first progress line
EVERY = 15.0  # seconds between the following lines


def stderr_line(text):
    """Print `text` on stderr at once (the default `say`)."""
    print(text, file=sys.stderr, flush=True)


class Heartbeat:
    """While a `with Heartbeat(what, say)` block runs past `after` seconds (AFTER by default), call
    say("<what> (N s so far) ...") and again every `every` seconds (EVERY); N is whole seconds since the block
    began (monotonic clock). A daemon thread waits on an event, so leaving the block stops it at once, and a step
    that ends early prints nothing."""

    def __init__(self, what, say=stderr_line, after=None, every=None):
        self.what, self.say = what, say
        self.after = AFTER if after is None else after
        self.every = EVERY if every is None else every
        self._done = threading.Event()
        self._thread = None
        self.start = None

    def __enter__(self):
        self.start = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        return False

    def _beat(self):
        wait = self.after
        while not self._done.wait(wait):
            self.say("%s (%d s so far) ..." % (self.what, time.monotonic() - self.start))
            wait = self.every


def beating(what, func, say=stderr_line, after=None, every=None):
    """Return a function that runs func() under a Heartbeat(what, ...) and returns its result."""

    def run():
        with Heartbeat(what, say, after, every):
            return func()

    return run
