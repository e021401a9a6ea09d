"""Annual reports (年报, seed 003): report status imported from the national system, SMS reminders to the liaison of
every unreported active entity on the configured dates, and the 年报公示率 per authority."""
