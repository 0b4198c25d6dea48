"""Analysis of ticket data: sheet import, the three rates, ranking, hot issues, forecasts, reports.

Only the analysis commands import this package, so pandas and matplotlib stay off the engine's hot path.
"""
