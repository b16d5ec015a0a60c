"""Development tools, never needed in production: demo data for `make run` (`flask demo load`) and benchmark
schools (`flask bench generate`).

They sit above every feature (they build data through the features' own services) and nothing in the app
imports them; only the CLI (tracker/cli.py) registers their commands.
"""
