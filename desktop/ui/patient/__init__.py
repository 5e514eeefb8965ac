"""The patient feature: list, overview (who needs attention), the patient view (summary, history, plots)
and the observations table."""
