"""How every write function of a PostgreSQL board is declared: ``SECURITY DEFINER`` with a safe ``search_path``
(``pg_temp`` last), and the error codes its refusals raise."""

from __future__ import annotations

DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, relman, pg_temp"
REFUSE = "USING ERRCODE = 'insufficient_privilege'"
STALE = "USING ERRCODE = 'RM409'"  # the release changed since it was read: the store names it as relman does
SAFE_PATH = "pg_catalog, relman, pg_temp"
