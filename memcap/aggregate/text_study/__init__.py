"""The text study's pages, from its committed results (results/text/) to docs/text.md and docs/text/.

``python scripts/text_figures.py`` runs :func:`pages.write`. In the order a result is read:

- :mod:`~memcap.aggregate.text_study.collect` -- finished result.json files, the study's parts, grouping
- :mod:`~memcap.aggregate.text_study.reading` -- how an answer is read: its bounds (a deciding network at the
  step cap), the floor of a width, the verdict among encoders
- :mod:`~memcap.aggregate.text_study.answers` -- the answer tables at the top of docs/text.md and of its
  topology section (fewest state numbers, bits per state number, where the information sits, memorization
  over seeds, topology against the encoder's own dense network)
- :mod:`~memcap.aggregate.text_study.study` -- the study's full tables (every job, one row each) and the
  one-width topology study's
- :mod:`~memcap.aggregate.text_study.figures` -- the figures in docs/text/
- :mod:`~memcap.aggregate.text_study.pages` -- what goes where: files in docs/text/, blocks between markers

No torch and no Hydra, like the rest of memcap.aggregate.
"""
