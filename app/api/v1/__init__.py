from fastapi import APIRouter

from app.api.v1 import audit_logs, auth, health, tenants, users

api_router = APIRouter(prefix="/api/v1")
for module in (health, auth, users, tenants, audit_logs):
    api_router.include_router(module.router)
