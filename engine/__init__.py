"""The DAG workflow engine: the system under test. Imports nothing from the harness."""
