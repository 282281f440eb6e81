"""Alerts: tell someone before it is too late (issue 14; docs/alerts.md).

rules.py decides (pure), formats.py writes (pure), send.py delivers, runner.py
ties them to the store with claim-before-send records. Kept light: config
imports rules at every start-up; the transports load only when a run sends.
"""
