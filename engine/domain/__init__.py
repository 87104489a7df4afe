"""The case core: vocabulary, state, how events change it (evolve) and what inputs cause (rules).

Pure: no database, no clock, no web. The runtime (``engine.cases``) and replay (``engine.replay``)
are its two users.
"""
