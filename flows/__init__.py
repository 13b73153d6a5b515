"""Prefect flows: orchestration only; every state change goes through workflow.services."""
