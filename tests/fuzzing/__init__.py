"""Fuzzing machinery shared by the tests and by ``bench/fuzz.py``: Hypothesis strategies for
raw HTTP requests and JSON documents, the in-process harness that sends them and judges the
answers, and the state machine of groups and numbers. Nothing here is a test itself.
"""
