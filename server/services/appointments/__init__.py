"""Help points (帮办网点): the slots a point offers, bookings without overbooking, check-in by helpers, no-shows,
the public directory, and ratings (好差评) with their follow-ups.

Split along the domain: schedule (which slots a point offers on a day), booking (book, cancel, reschedule,
check in, serve, no-shows), directory (the public list of points and helpers), ratings.
"""
