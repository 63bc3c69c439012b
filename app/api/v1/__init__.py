from fastapi import APIRouter

from app.api.v1 import audit_logs, auth, catalog, companies, customers, gst_settings, health, tax_rates, tenants, users
from app.schemas.common import problem_responses

# Any route may answer 400 (malformed JSON), 422 (invalid input) or 503 (database unavailable).
api_router = APIRouter(prefix="/api/v1", responses=problem_responses(400, 422, 503))
for module in (health, auth, users, tenants, audit_logs, customers, companies, catalog, tax_rates, gst_settings):
    api_router.include_router(module.router)
