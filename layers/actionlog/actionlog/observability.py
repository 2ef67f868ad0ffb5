"""Structured JSON logging shared by every handler. Service name and level come from Powertools' variables."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="actionlog")
