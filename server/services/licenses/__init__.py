"""Paper business licenses after approval (seeds 000 and 002): the applicant's choice of 电子营业执照 only, pickup at
any authority of the city (异地取照) or post; the window's hand-over and posting; the ledger of licenses handed out and
old ones collected (收缴)."""
