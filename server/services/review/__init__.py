"""云帮办 review and the back office (综合业务系统): submit, the 待办 queue, staff decisions, timeline and audit.

Split along the domain: submission (the applicant's submit, idempotent), worktime (due times in working
hours and days), queue (the 待办 list), decisions (approve-and-lock, return, accept, approve, reject),
views (what staff and applicants see of one application) and audit (the append-only log).
"""
