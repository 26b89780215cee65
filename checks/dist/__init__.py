"""`python -m checks dist`: command.py (options, launchers, devices, header) -> world.py (the rendezvous store: roll
call, heartbeats, naming dead and hung ranks) and measure.py (collectives and their verdicts, bus bandwidth) ->
chart.py (busbw against message size)."""
