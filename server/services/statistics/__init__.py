"""Statistics from the records (SPEC "Statistics"): 退件率 and 同比, 云帮办 share, signatures and hours saved,
durations in working hours, 网办率 and service-point figures, for a period and an authority with its subordinates.

`definitions` states every figure once (docs, API and the page's tooltips); `periods` turns dates into Beijing-time
intervals; `queries` holds the SQL aggregates (PostgreSQL and SQLite); `summary` assembles them; `charts`, `exports`
and `weekly` present them.
"""
