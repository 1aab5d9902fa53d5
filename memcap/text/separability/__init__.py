"""The separability search (``data=text search=neurons`` / ``fixed``): the smallest width at which every position of
``text.count`` training sequences can be read back from the encoder's last state, within the step cap.

- :mod:`memcap.text.separability.engine` -- ``train_widths``: (H, run) members -> one fit -> points
- :mod:`memcap.text.separability.module` -- ``TextMemoryModule``, the LightningModule that trains them

It measures linear separability of the training sequences, not text memory (held-out accuracy stays at
chance); the state measures (memcap.text.state) measure memory. docs/text.md says which to use.
"""
