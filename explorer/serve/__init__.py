"""Serving the dashboard to others: what a visitor may do (:class:`Policy`) and the uploads it takes."""

from __future__ import annotations

from explorer.serve.policy import ENV, OPEN, Policy, UploadLimits, current_policy, served, shown, under_voila
from explorer.serve.uploads import json_depth, read_upload

__all__ = ["Policy", "UploadLimits", "OPEN", "served", "current_policy", "under_voila", "shown", "ENV",
           "read_upload", "json_depth"]
