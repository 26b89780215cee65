"""`python -m checks dist`: command.py (options, launchers, devices, header) -> world.py (the rendezvous store: roll
call, heartbeats, naming dead and hung ranks; rendezvous.py opens the store and names what answers on
MASTER_ADDR:MASTER_PORT when it is not this job's) and measure.py (collectives and their verdicts, bus bandwidth) ->
chart.py (busbw against message size)."""
