"""The state measures (``data=text search=state`` / ``memorize``): what an encoder's last state carries about
fresh random strings, and how many strings a width stores; pruning rounds on them (``prune=lottery|random``).

- :mod:`memcap.text.state.stream` -- the data: a seeded stream of fresh strings, fixed held-out sets
- :mod:`memcap.text.state.information` -- the bits a decoder's output shows: Fano's bound, the code length (no torch)
- :mod:`memcap.text.state.module` -- ``StateModule``, the LightningModule training the networks on the stream
- :mod:`memcap.text.state.measure` -- the searches inside a job (``train_round``, ``run``), the metrics
- :mod:`memcap.text.state.analysis` -- where the information sits in a trained state
- :mod:`memcap.text.state.prune` -- pruning rounds on the state measure (memcap.pruning's loop)
"""
