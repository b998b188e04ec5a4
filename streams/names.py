"""Logical names of the two input topics (DESIGN.md), in a module of their own so that light
processes (the fetch child, `streams.kafka_fetch`) need not import the parsing stack."""

REPORTS = "reports"
ERROR_RATES = "error-rates"
