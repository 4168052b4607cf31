"""Benchmarks of the game server: runnable programs that print one JSON object.

``python -m benchmarks.run`` runs scenarios (server and lean swarm in their own
processes) side by side with a floor (``benchmarks.floor``: the same traffic
over plain sockets, no game, no WebSocket); ``benchmarks/RESULTS.md`` records
runs. See ``python -m benchmarks.run --help``.
"""
