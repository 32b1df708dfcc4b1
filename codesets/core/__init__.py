"""What every layer builds on: errors, text, configuration, code normalisation, SQL files, checks, rule grammar.

Imports nothing of codesets outside this package.
"""
